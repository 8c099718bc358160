/**
 * Rounds for ratios on a shared, noisy machine: every contestant once per round, and each ratio
 * taken within a round (the two runs minutes apart in a fixed order would see different machines)
 * before the median over rounds is quoted. The order is rotated every second round and reversed
 * on odd rounds (A B C D, D C B A, B C D A, A D C B, ...): a plain rotation ran TF gRPC right
 * before OIP gRPC in 4 of 5 rounds, so whatever the first run left behind (garbage, closing
 * connections) always fell on the same side of that ratio; now each pair runs in both orders
 * equally often over an even number of rounds. Beside throughput, the server's CPU per request,
 * which other load on the machine disturbs far less.
 */
import type { LoadResult } from '../server/load.js';
import { progress } from '../server/paths.js';
import { type Contestant, type ContestantSummary, summarise } from '../server/rounds.js';
import { median } from '../server/stats.js';

export async function alternateRotating(title: string, contestants: readonly Contestant[], rounds: number): Promise<ContestantSummary[]> {
  const results = new Map<string, LoadResult[]>(contestants.map((c) => [c.key, []]));
  progress(`${title}: ${contestants.length} contestants x ${rounds} rounds, order rotated and reversed`);
  for (let round = 0; round < rounds; round++) {
    for (const contestant of roundOrder(contestants, round)) {
      const result = await contestant.measure();
      results.get(contestant.key)!.push(result);
      const errors = result.errors > 0 ? `, ${result.errors} errors${result.firstError ? ` (${result.firstError})` : ''}` : '';
      progress(`${title} round ${round + 1}/${rounds}: ${contestant.label}: ${result.rps.toFixed(0)} req/s, ${result.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req, p50 ${result.p50Ms.toFixed(2)} ms${errors}`);
    }
  }
  return contestants.map((c) => summarise(c, results.get(c.key)!));
}

/** Round r: the list rotated by floor(r / 2), reversed when r is odd. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2) % Math.max(1, items.length);
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

export interface PairedRatio {
  readonly what: string;
  /** Median over rounds of (numerator req/s / denominator req/s) within the round. */
  readonly ratio: number;
  readonly perRound: readonly number[];
  /** Median over rounds of (denominator CPU µs/req / numerator CPU µs/req): throughput if CPU-bound. */
  readonly cpuRatio: number;
}

export function pairedRatio(what: string, numerator: ContestantSummary | undefined, denominator: ContestantSummary | undefined): PairedRatio {
  if (!numerator || !denominator) return { what, ratio: Number.NaN, perRound: [], cpuRatio: Number.NaN };
  const rounds = Math.min(numerator.rounds.length, denominator.rounds.length);
  const perRound: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const n = numerator.rounds[i]!;
    const d = denominator.rounds[i]!;
    perRound.push(d.rps > 0 ? n.rps / d.rps : Number.NaN);
    cpu.push(n.serverCpuMicrosPerRequest > 0 ? d.serverCpuMicrosPerRequest / n.serverCpuMicrosPerRequest : Number.NaN);
  }
  return { what, ratio: median(perRound), perRound, cpuRatio: median(cpu) };
}
