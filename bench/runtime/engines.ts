/**
 * The engine configurations the benchmark compares with TensorFlow: the portable wasm engine in the
 * calling thread and as a worker pool, and the native engine (libtensorflow) when it is installed.
 * BENCH_ENGINES (comma-separated keys) restricts the set.
 */
import { type RuntimeSelection, loadSavedModel } from '../../src/server/runtime/index.js';
import type { BenchConfig } from './config.js';
import { HALF_PLUS_TWO_DIR } from './models.js';

export type EngineKey = 'wasm-thread' | 'wasm-pool' | 'native';

export interface EngineConfig {
  readonly key: EngineKey;
  readonly label: string;
  readonly runtime: RuntimeSelection;
  /** loadSavedModel's threads option (tfjs engines). */
  readonly threads: number;
  /** Requests in flight in the throughput runs; the best level is reported. */
  readonly concurrencies: readonly number[];
}

export const ENGINE_KEYS: readonly EngineKey[] = ['wasm-thread', 'wasm-pool', 'native'];

export function engineConfigs(config: BenchConfig): EngineConfig[] {
  const all: EngineConfig[] = [
    { key: 'wasm-thread', label: 'wasm in-thread (threads: 0)', runtime: 'wasm', threads: 0, concurrencies: [1] },
    // The pool needs 2 requests per worker in flight so that no worker idles between messages.
    { key: 'wasm-pool', label: `wasm pool (threads: ${config.threads})`, runtime: 'wasm', threads: config.threads, concurrencies: [2 * config.threads] },
    // Like TensorFlow's baseline: one caller, and two concurrent callers sharing the session.
    { key: 'native', label: 'native (libtensorflow)', runtime: 'tensorflow', threads: 0, concurrencies: [1, 2] },
  ];
  return all.filter((e) => !config.engines || config.engines.includes(e.key));
}

/**
 * Whether the native engine can run here: it loads half_plus_two once. The reason is reported when
 * it cannot, so a report without native figures says why.
 */
export async function nativeAvailability(): Promise<{ available: boolean; reason?: string }> {
  try {
    const engine = await loadSavedModel(HALF_PLUS_TWO_DIR, { runtime: 'tensorflow' });
    await engine.dispose();
    return { available: true };
  } catch (error) {
    return { available: false, reason: (error as Error).message.split('\n')[0] };
  }
}
