/**
 * TensorFlow's monitoring vocabulary, as TF Serving's PrometheusExporter renders it: metric names
 * with every character outside [a-zA-Z0-9_] turned into ':' (so "/tensorflow/serving/request_count"
 * becomes ":tensorflow:serving:request_count"), and monitoring::Buckets::Exponential boundaries.
 */

/** GetPrometheusMetricName in tensorflow_serving/util/prometheus_exporter.cc. */
export function prometheusMetricName(tfName: string): string {
  const name = tfName.replace(/[^a-zA-Z0-9_]/g, ':');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/**
 * Buckets::Exponential(scale, growth_factor, bucket_count): scale * growth^i for i < count (the
 * final DBL_MAX bucket is Prometheus' +Inf). Rounded to the 6 significant digits TF prints the
 * limits with, so `le` values read the same as TF Serving's.
 */
export function exponentialBuckets(scale: number, growthFactor: number, count: number): number[] {
  const limits: number[] = [];
  let bound = scale;
  for (let i = 0; i < count; i++) {
    limits.push(Number(bound.toPrecision(6)));
    bound *= growthFactor;
  }
  return limits;
}

/** The metrics TF Serving exports, by their TensorFlow names. */
export const TF_METRICS = {
  requestCount: '/tensorflow/serving/request_count',
  requestLatency: '/tensorflow/serving/request_latency',
  runtimeLatency: '/tensorflow/serving/runtime_latency',
  modelWarmupLatency: '/tensorflow/serving/model_warmup_latency',
  modelWarmupRecordsRead: '/tensorflow/serving/model_warmup_records_read',
  loadAttemptCount: '/tensorflow/cc/saved_model/load_attempt_count',
  loadLatency: '/tensorflow/cc/saved_model/load_latency',
  queuingLatency: '/tensorflow/serving/batching_session/queuing_latency',
  inputBatchSize: '/tensorflow/serving/batching_session/input_batch_size',
  processedBatchSize: '/tensorflow/serving/batching_session/processed_batch_size',
  paddingSize: '/tensorflow/serving/batching_session/padding_size',
  wrappedRunCount: '/tensorflow/serving/batching_session/wrapped_run_count',
} as const;

/** Latencies in microseconds: scale 10, growth 1.8, 33 buckets (~20 minutes). */
export const LATENCY_BUCKETS = exponentialBuckets(10, 1.8, 33);
/** Batching queue time: scale 100, growth 1.2, 52 buckets (~1 second). */
export const QUEUING_BUCKETS = exponentialBuckets(100, 1.2, 52);
/** Batch sizes: 1, 2, 4, ... 8192. */
export const BATCH_SIZE_BUCKETS = exponentialBuckets(1, 2, 14);

/** Our own durations in seconds (Prometheus' convention): 1 ms .. ~10 min. */
export const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Per-version request latency in seconds (promotion's p99 gate): 0.5 ms .. 10 s, finer below 100 ms. */
export const VERSION_SECONDS_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];
/** Shadow output differences: exact (0), then decades from 1e-7 to 1000. */
export const DIFF_BUCKETS = [0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000];
/** Batching queue waits in seconds: 10 µs .. ~1 s. */
export const QUEUE_SECONDS_BUCKETS = [1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1];
