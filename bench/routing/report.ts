/**
 * What bench:routing reports from its alternated rounds: per transport, the routed server against
 * the plain one, and a second plain server against the first (the A/A control: the same server
 * twice, so its distance from 1.00x is the noise floor of this run on this machine). Each ratio
 * is the median over rounds of that round's own pair (measured seconds apart), beside the ratio
 * of the medians and the server CPU per request (plain / routed: above 1 is cheaper than plain).
 */
import type { ContestantSummary } from '../server/rounds.js';
import { median } from '../server/stats.js';

export interface RatioReport {
  readonly what: string;
  /** Median over rounds of numerator rps / baseline rps of the same round. */
  readonly ratio: number;
  readonly rounds: readonly number[];
  /** Ratio of the medians over rounds. */
  readonly ratioOfMedians: number;
  /** Baseline server CPU per request / numerator server CPU per request (medians). */
  readonly cpuRatio: number;
}

export function pairRatio(what: string, numerator: ContestantSummary, baseline: ContestantSummary): RatioReport {
  const rounds = numerator.rounds.map((r, i) => r.rps / baseline.rounds[i]!.rps);
  return {
    what,
    ratio: median(rounds),
    rounds,
    ratioOfMedians: numerator.rps / baseline.rps,
    cpuRatio: baseline.serverCpuMicrosPerRequest / numerator.serverCpuMicrosPerRequest,
  };
}

export function reportLines(summaries: readonly ContestantSummary[], ratios: readonly RatioReport[], target: number): string[] {
  const lines = ['| contestant | req/s | p50 ms | p99 ms | errors | server CPU µs/req |', '|---|---:|---:|---:|---:|---:|'];
  for (const s of summaries) lines.push(`| ${s.label} | ${s.rps.toFixed(1)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.errors} | ${s.serverCpuMicrosPerRequest.toFixed(0)} |`);
  lines.push('');
  for (const r of ratios) {
    const verdict = r.what.includes('control') ? '(A/A: the noise floor)' : r.ratio >= target ? `meets >= ${target}` : `MISSES >= ${target}`;
    lines.push(`- ${r.what}: **${r.ratio.toFixed(2)}x** ${verdict}; rounds ${r.rounds.map((x) => x.toFixed(2)).join(' ')}; ratio of medians ${r.ratioOfMedians.toFixed(2)}x; server CPU per request ${r.cpuRatio.toFixed(2)}x`);
  }
  return lines;
}
