/**
 * Benchmark settings, overridable by environment variables so that a quick run (or a longer, less
 * noisy one) needs no code change. With the defaults `npm run bench` (six models, three engines and
 * TensorFlow) takes about 15 minutes on two cores; BENCH_MODELS and BENCH_ENGINES pick a subset.
 */
import { availableParallelism } from 'node:os';

export interface BenchConfig {
  /** Throughput measurement window per configuration (BENCH_SECONDS). */
  readonly throughputSeconds: number;
  /** Time spent collecting batch-1 latency samples per configuration (BENCH_LATENCY_SECONDS). */
  readonly latencySeconds: number;
  /** Warm-up before every measurement (BENCH_WARMUP_SECONDS). */
  readonly warmupSeconds: number;
  /** Latency runs continue past latencySeconds until this many samples exist, so p99 means something. */
  readonly minLatencySamples: number;
  /** Batch size of the throughput runs (BENCH_BATCH). */
  readonly batch: number;
  /** Worker threads of the pool engine (BENCH_THREADS, default os.availableParallelism()). */
  readonly threads: number;
  /** Loads of half_plus_two for the load-time figure (BENCH_LOADS). */
  readonly loads: number;
  /** Model keys to run (BENCH_MODELS, comma-separated; default all). */
  readonly models: readonly string[] | undefined;
  /**
   * Rounds of the latency/throughput measurements (BENCH_ROUNDS, default 2). With more, each
   * configuration reports its best round: on a shared machine that is the round least disturbed
   * by other work, and both sides get the same treatment.
   */
  readonly rounds: number;
  /** Engine configurations to run (BENCH_ENGINES: wasm-thread,wasm-pool,native; default all available). */
  readonly engines: readonly string[] | undefined;
  /** Skip the Python TensorFlow baseline (BENCH_SKIP_TF=1), e.g. when no venv can be built. */
  readonly skipTensorflow: boolean;
}

function numberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${text}"`);
  return value;
}

export function readConfig(): BenchConfig {
  const list = (name: string): string[] | undefined => {
    const items = process.env[name]?.split(',').map((m) => m.trim()).filter((m) => m !== '');
    return items && items.length > 0 ? items : undefined;
  };
  return {
    throughputSeconds: numberFromEnv('BENCH_SECONDS', 3),
    latencySeconds: numberFromEnv('BENCH_LATENCY_SECONDS', 2),
    warmupSeconds: numberFromEnv('BENCH_WARMUP_SECONDS', 0.5),
    minLatencySamples: Math.round(numberFromEnv('BENCH_MIN_LATENCY_SAMPLES', 200)),
    batch: Math.round(numberFromEnv('BENCH_BATCH', 32)),
    threads: Math.round(numberFromEnv('BENCH_THREADS', availableParallelism())),
    loads: Math.round(numberFromEnv('BENCH_LOADS', 20)),
    models: list('BENCH_MODELS'),
    engines: list('BENCH_ENGINES'),
    rounds: Math.round(numberFromEnv('BENCH_ROUNDS', 2)),
    skipTensorflow: process.env.BENCH_SKIP_TF === '1',
  };
}
