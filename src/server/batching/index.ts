/**
 * Server-side batching, as --enable_batching sets it up: one scheduler (the shared pool of
 * num_batch_threads) for the whole server, and a BatchingEngine around every stateless model
 * version.
 *
 *   const batching = createBatching(await loadBatchingConfig(flags.batchingParametersFile), { observer: metrics });
 *   const loader = savedModelLoader({ ...runtimeOptions, wrap: batching.wrap });
 */
import type { BatchingConfig } from '../config/batching-config.js';
import { NO_OBSERVER } from '../observability.js';
import type { ModelEngine } from '../runtime/engine.js';
import { type BatchingObserver, BatchingEngine } from './batching-engine.js';
import { SharedBatchScheduler } from './shared-batch-scheduler.js';

export { BatchingEngine } from './batching-engine.js';
export type { BatchStatsObserver, BatchingEngineOptions, BatchingObserver } from './batching-engine.js';
export { SharedBatchScheduler } from './shared-batch-scheduler.js';
export type { SchedulerOptions } from './shared-batch-scheduler.js';

export interface BatchingOptions {
  /** Queuing latency and batch statistics (ServingMetrics implements both). */
  readonly observer?: BatchingObserver;
  /** A model's own observer (per-model batch metrics); falls back to `observer`. */
  readonly observerFor?: (model: string) => BatchingObserver;
  /** Microseconds, monotonic (tests). */
  readonly now?: () => number;
}

export interface Batching {
  readonly config: BatchingConfig;
  readonly scheduler: SharedBatchScheduler;
  /** For savedModelLoader's `wrap`: stateful engines are returned as they are (never batched). */
  wrap(engine: ModelEngine, version?: { readonly model: string }): ModelEngine;
}

export function createBatching(config: BatchingConfig, options: BatchingOptions = {}): Batching {
  const scheduler = new SharedBatchScheduler({
    numBatchThreads: config.numBatchThreads,
    threadPoolName: config.threadPoolName,
    now: options.now,
  });
  const observer = options.observer ?? NO_OBSERVER;
  return {
    config,
    scheduler,
    wrap: (engine, version) => {
      if (engine.stateful) return engine;
      const modelObserver = version && options.observerFor ? options.observerFor(version.model) : observer;
      return new BatchingEngine(engine, scheduler, config, modelObserver);
    },
  };
}
