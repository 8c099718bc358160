/** Small helpers for the operator bench: knobs, timing, order statistics, RSS and metrics sampling. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file runs as dist/bench/operator/support.js: three levels below the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = join(REPO_ROOT, 'dist', 'bench-results');
/** Our own half_plus_two twins (test/models/generate.py). */
const TEST_MODELS = join(REPO_ROOT, 'test', 'models');
/** y = 0.5x + 2 (version 1) and y = 0.5x + 3 (version 2): which version answered is plain from the number. */
export const HALF_PLUS_TWO = join(TEST_MODELS, 'half_plus_two', '00000123');
export const HALF_PLUS_THREE = join(TEST_MODELS, 'half_plus_three', '00000123');

export function progress(message: string): void {
  console.error(`bench:operator: ${message}`);
}

export interface BenchConfig {
  /** Which sections run: apply, promotion, bulk. */
  readonly sections: ReadonlySet<string>;
  /** TFModels applied one at a time (and as many ConfigMaps for the baseline). */
  readonly applyTrials: number;
  /** TFModels (and ConfigMaps for the baseline) created in the bulk section. */
  readonly bulkCount: number;
  /** Creates in flight at once in the bulk section. */
  readonly bulkConcurrency: number;
  /** Label promotions (alternating stable 1 -> 2 -> 1 ...). */
  readonly promotions: number;
  /** How long the bulk section waits for all TFModels to be reconciled (s). */
  readonly bulkTimeoutS: number;
  /** Extra tfmodel-operator flags (BENCH_OPERATOR_EXTRA_ARGS, space-separated), for diagnosis only. */
  readonly operatorArgs: readonly string[];
  /** Poll interval for the latency sections (ms). */
  readonly pollMs: number;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

/** Knobs: BENCH_OPERATOR_SECTIONS (apply,promotion,bulk), _APPLY_TRIALS, _BULK, _CONCURRENCY, _PROMOTIONS, _BULK_TIMEOUT_S, _POLL_MS, _EXTRA_ARGS. */
export function readConfig(): BenchConfig {
  const sections = (process.env['BENCH_OPERATOR_SECTIONS'] ?? 'apply,promotion,bulk').split(',').map((s) => s.trim()).filter(Boolean);
  for (const section of sections) {
    if (!['apply', 'promotion', 'bulk'].includes(section)) throw new Error(`unknown section ${section} in BENCH_OPERATOR_SECTIONS`);
  }
  return {
    sections: new Set(sections),
    applyTrials: intFromEnv('BENCH_OPERATOR_APPLY_TRIALS', 30),
    bulkCount: intFromEnv('BENCH_OPERATOR_BULK', 1000),
    bulkConcurrency: intFromEnv('BENCH_OPERATOR_CONCURRENCY', 16),
    promotions: intFromEnv('BENCH_OPERATOR_PROMOTIONS', 6),
    bulkTimeoutS: intFromEnv('BENCH_OPERATOR_BULK_TIMEOUT_S', 300),
    operatorArgs: (process.env['BENCH_OPERATOR_EXTRA_ARGS'] ?? '').split(' ').filter(Boolean),
    pollMs: intFromEnv('BENCH_OPERATOR_POLL_MS', 20),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Linear interpolation between the closest ranks; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  return { n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Calls `check` every `intervalMs` until it returns true; resolves with the milliseconds from
 * `since` (a performance.now() value) to the end of the first check that passed. Throws after
 * `timeoutMs` with the last error seen.
 */
export async function pollUntil(check: () => Promise<boolean>, options: { since: number; intervalMs: number; timeoutMs: number; what: string }): Promise<number> {
  let last = 'condition not met yet';
  for (;;) {
    try {
      if (await check()) return performance.now() - options.since;
      last = 'condition not met yet';
    } catch (error) {
      last = (error as Error).message;
    }
    if (performance.now() - options.since > options.timeoutMs) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what} (last: ${last})`);
    await sleep(options.intervalMs);
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function forEachConcurrently(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  });
  await Promise.all(workers);
}

/** VmRSS of a process in MB (10^6 bytes), or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) * 1024) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used so far (clock ticks of 1/100 s), or NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Samples a process's VmRSS every `intervalMs`; `mark()` starts a new window whose peak is reported separately. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private overallPeak = 0;
  private windowPeak = 0;
  samples = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 200) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    const mb = rssMb(this.pid);
    if (mb === undefined) return;
    this.samples += 1;
    this.overallPeak = Math.max(this.overallPeak, mb);
    this.windowPeak = Math.max(this.windowPeak, mb);
  }

  /** Starts a new window; returns the peak of the one that ended. */
  mark(): number {
    const peak = this.windowPeak;
    this.windowPeak = rssMb(this.pid) ?? 0;
    return peak;
  }

  get peak(): number {
    return this.overallPeak;
  }

  get windowPeakMb(): number {
    return this.windowPeak;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Sums of the samples of one metric in Prometheus text format, by label set ('' for none). */
export function parseMetric(text: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    values.set(match[2] ?? '', Number(match[3]));
  }
  return values;
}

export function metricTotal(text: string, name: string): number {
  let total = 0;
  for (const value of parseMetric(text, name).values()) total += value;
  return total;
}

export async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}

/** Other kube-apiservers on this machine (another engineer's e2e run competes for the 2 cores). */
export function kubeApiserverCount(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'kube-apiserver') count += 1;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a');
export const ratio = (value: number, baseline: number): string => (Number.isFinite(value) && baseline > 0 ? `${(value / baseline).toFixed(2)}×` : 'n/a');
