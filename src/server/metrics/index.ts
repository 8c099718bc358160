/**
 * Prometheus metrics (--monitoring_config_file with prometheus_config { enable: true }).
 *
 *   const metrics = new ServingMetrics();          // pass as observer to batching, warmup, transports, manager
 *   metrics.watchModels(manager);                  // optional: tfmodel_model_version_state
 *   app.get(settings.path, async (_req, res) => { const page = await metrics.render(); res.type(page.contentType).send(page.body); });
 */
export { ServingMetrics } from './serving-metrics.js';
export type { MetricsPage, ServingMetricsOptions } from './serving-metrics.js';
export { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS, QUEUING_BUCKETS, TF_METRICS, exponentialBuckets, prometheusMetricName } from './tf-metrics.js';
export { VERSION_STATE_METRIC, registerVersionStateGauge } from './version-state-gauge.js';
