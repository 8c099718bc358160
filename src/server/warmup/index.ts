/**
 * Model warmup from assets.extra/tf_serving_warmup_requests.
 *
 *   const beforeAvailable = flags.enableModelWarmup
 *     ? modelWarmup({ numRequestIterations: flags.numRequestIterationsForWarmup, observer: metrics, log })
 *     : undefined;
 *   const loader = savedModelLoader({ ...runtimeOptions, wrap: batching?.wrap, beforeAvailable });
 */
export { modelWarmup } from './model-warmup.js';
export type { BeforeAvailable, ModelWarmupOptions, WarmupObserver, WarmupReport, WarmupReportObserver } from './model-warmup.js';
export { MAX_WARMUP_RECORDS, WARMUP_REQUESTS_FILE, parseWarmupRecords, readWarmupData, warmupFilePath } from './warmup-file.js';
export { encodeTfRecords, readTfRecords } from './tfrecord.js';
