/**
 * Server-side batching, as --enable_batching sets it up: one scheduler (the shared pool of
 * num_batch_threads) for the whole server, and a BatchingEngine around every stateless model
 * version.
 *
 *   const batching = createBatching(await loadBatchingConfig(flags.batchingParametersFile), { observer: metrics });
 *   const loader = savedModelLoader({ ...runtimeOptions, wrap: batching.wrap });
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { type BatchingConfig, batchingConfigFrom, readBatchingParameters } from '../config/batching-config.js';
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
  /**
   * --enable_per_model_batching_parameters: batches with the version directory's
   * batching_params.pbtxt, sharing only the thread pool of the server's parameters; a version
   * without that file is not batched (TF Serving's GetPerModelBatchingParams).
   */
  wrapWithModelParameters(engine: ModelEngine, versionDir: string, version?: { readonly model: string }): Promise<ModelEngine>;
}

/** TF Serving's kBatchingParamsFilename, in the version directory. */
export const PER_MODEL_BATCHING_PARAMS_FILENAME = 'batching_params.pbtxt';

export function createBatching(config: BatchingConfig, options: BatchingOptions = {}): Batching {
  const scheduler = new SharedBatchScheduler({
    numBatchThreads: config.numBatchThreads,
    threadPoolName: config.threadPoolName,
    now: options.now,
  });
  const observer = options.observer ?? NO_OBSERVER;
  const observerOf = (version: { readonly model: string } | undefined): BatchingObserver =>
    (version && options.observerFor ? options.observerFor(version.model) : observer);
  return {
    config,
    scheduler,
    wrap: (engine, version) => (engine.stateful ? engine : new BatchingEngine(engine, scheduler, config, observerOf(version))),
    async wrapWithModelParameters(engine, versionDir, version) {
      const path = join(versionDir, PER_MODEL_BATCHING_PARAMS_FILENAME);
      if (engine.stateful || !(await access(path).then(() => true, () => false))) return engine;
      const own = batchingConfigFrom(await readBatchingParameters(path));
      const modelConfig = { ...own, numBatchThreads: config.numBatchThreads, threadPoolName: config.threadPoolName };
      return new BatchingEngine(engine, scheduler, modelConfig, observerOf(version));
    },
  };
}
