/**
 * Alternated measurement: every contestant once per round, in the same order (A B C, A B C, ...),
 * so that slow drift of the machine spreads over all of them; medians over rounds are quoted.
 */
import type { LoadResult } from './load.js';
import { progress } from './paths.js';
import { median } from './stats.js';

export interface Contestant {
  readonly key: string;
  readonly label: string;
  /** What is special about it (flags, server kind), for the report. */
  readonly note: string;
  measure(): Promise<LoadResult>;
}

export interface ContestantSummary {
  readonly key: string;
  readonly label: string;
  readonly note: string;
  readonly rounds: readonly LoadResult[];
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly serverCpuMicrosPerRequest: number;
  readonly serverCores: number;
}

export function summarise(contestant: Omit<Contestant, 'measure'>, rounds: readonly LoadResult[]): ContestantSummary {
  return {
    key: contestant.key,
    label: contestant.label,
    note: contestant.note,
    rounds,
    rps: median(rounds.map((r) => r.rps)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    serverCpuMicrosPerRequest: median(rounds.map((r) => r.serverCpuMicrosPerRequest)),
    serverCores: median(rounds.map((r) => r.serverCores)),
  };
}

export async function alternate(title: string, contestants: readonly Contestant[], rounds: number): Promise<ContestantSummary[]> {
  const results = new Map<string, LoadResult[]>(contestants.map((c) => [c.key, []]));
  progress(`${title}: ${contestants.length} servers x ${rounds} rounds`);
  for (let round = 1; round <= rounds; round++) {
    for (const contestant of contestants) {
      const result = await contestant.measure();
      results.get(contestant.key)!.push(result);
      const errors = result.errors > 0 ? `, ${result.errors} errors${result.firstError ? ` (${result.firstError})` : ''}` : '';
      progress(`${title} round ${round}/${rounds}: ${contestant.label}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms${errors}`);
    }
  }
  return contestants.map((c) => summarise(c, results.get(c.key)!));
}

/** The ratio of two medians, guarded against an empty denominator. */
export function ratio(numerator: ContestantSummary | undefined, denominator: ContestantSummary | undefined): number {
  if (!numerator || !denominator || !(denominator.rps > 0)) return Number.NaN;
  return numerator.rps / denominator.rps;
}
