/**
 * Prometheus metrics with TF Serving's names, labels and buckets (so dashboards built for
 * tensorflow_model_server work unchanged), plus Node's process metrics. Implements the serving
 * stack's ServingObserver and the batching and warmup detail hooks.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchStatsObserver } from '../batching/batching-engine.js';
import type { ServingCore } from '../core/types.js';
import { Code } from '../errors.js';
import type { ApiName, Entrypoint, RequestEvent, ServingObserver } from '../observability.js';
import type { WarmupReport, WarmupReportObserver } from '../warmup/model-warmup.js';
import { registerVersionStateGauge } from './version-state-gauge.js';
import { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS, QUEUING_BUCKETS, TF_METRICS, prometheusMetricName } from './tf-metrics.js';

export interface ServingMetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC). Default true. */
  readonly processMetrics?: boolean;
  /** runtime_latency's `runtime` label: TF Serving says "TF1" for its session runtime. */
  readonly runtimeLabel?: string;
}

/** The metrics endpoint's answer. */
export interface MetricsPage {
  readonly contentType: string;
  readonly body: string;
}

/** TF Serving's API label on gRPC (the RPC names) and REST (the URL verb; TF leaves GETs empty). */
const API_LABELS: Record<ApiName, Record<Entrypoint, string>> = {
  predict: { GRPC: 'Predict', REST: 'predict' },
  classify: { GRPC: 'Classify', REST: 'classify' },
  regress: { GRPC: 'Regress', REST: 'regress' },
  multi_inference: { GRPC: 'MultiInference', REST: 'multi_inference' },
  get_model_metadata: { GRPC: 'GetModelMetadata', REST: 'metadata' },
  get_model_status: { GRPC: 'GetModelStatus', REST: 'status' },
  reload_config: { GRPC: 'HandleReloadConfigRequest', REST: 'reload_config' },
  model_infer: { GRPC: 'ModelInfer', REST: 'infer' },
  model_metadata: { GRPC: 'ModelMetadata', REST: 'model_metadata' },
  repository_index: { GRPC: 'RepositoryIndex', REST: 'repository_index' },
  repository_load: { GRPC: 'RepositoryModelLoad', REST: 'repository_load' },
  repository_unload: { GRPC: 'RepositoryModelUnload', REST: 'repository_unload' },
};

export class ServingMetrics implements ServingObserver, BatchStatsObserver, WarmupReportObserver {
  readonly registry = new Registry();
  private readonly runtimeLabel: string;

  private readonly requestCount = this.counter(TF_METRICS.requestCount, 'The total number of requests.', ['model_name', 'status']);
  private readonly requestLatency = this.histogram(
    TF_METRICS.requestLatency,
    'Distribution of wall time (in microseconds) for Tensorflow Serving request.',
    ['model_name', 'API', 'entrypoint'],
    LATENCY_BUCKETS,
  );
  private readonly runtimeLatency = this.histogram(
    TF_METRICS.runtimeLatency,
    'Distribution of wall time (in microseconds) for Tensorflow runtime.',
    ['model_name', 'API', 'runtime'],
    LATENCY_BUCKETS,
  );
  private readonly warmupLatency = this.histogram(
    TF_METRICS.modelWarmupLatency,
    'Distribution of wall time (in microseconds) for warming up the model.',
    ['model_path', 'status'],
    LATENCY_BUCKETS,
  );
  private readonly warmupRecordsRead = this.counter(
    TF_METRICS.modelWarmupRecordsRead,
    'Total number of warmup records read during model warmup.',
    ['model_path', 'status'],
  );
  private readonly loadAttemptCount = this.counter(
    TF_METRICS.loadAttemptCount,
    'The number of times a SavedModel was successfully loaded.',
    ['model_path', 'status'],
  );
  private readonly loadLatency = this.counter(
    TF_METRICS.loadLatency,
    'Latency in microseconds for SavedModels that were successfully loaded.',
    ['model_path'],
  );
  private readonly queuingLatency = this.histogram(
    TF_METRICS.queuingLatency,
    'Distribution of wall time spent (in microseconds) in queuing',
    ['thread_pool_name'],
    QUEUING_BUCKETS,
  );
  private readonly inputBatchSizes = this.histogram(
    TF_METRICS.inputBatchSize,
    'Tracks the batch size distribution on the inputs.',
    [],
    BATCH_SIZE_BUCKETS,
  );
  private readonly processedBatchSizes = this.histogram(
    TF_METRICS.processedBatchSize,
    'Tracks the batch size distribution on processing.',
    [],
    BATCH_SIZE_BUCKETS,
  );
  private readonly paddingSizes = this.histogram(
    TF_METRICS.paddingSize,
    'Tracks the padding size distribution on batches.',
    ['execution_batch_size'],
    BATCH_SIZE_BUCKETS,
  );
  private readonly wrappedRunCount = this.counter(TF_METRICS.wrappedRunCount, 'Total count of run calls on the wrapped session', []);

  constructor(options: ServingMetricsOptions = {}) {
    this.runtimeLabel = options.runtimeLabel ?? 'TF1';
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Every request is counted; latency is recorded for successful ones only, as in TF Serving. */
  request(event: RequestEvent): void {
    this.requestCount.inc({ model_name: event.model, status: Code[event.status] });
    if (event.status !== Code.OK) return;
    const api = API_LABELS[event.api][event.entrypoint];
    this.requestLatency.observe({ model_name: event.model, API: api, entrypoint: event.entrypoint }, event.latencyMicros);
  }

  runtime(model: string, api: ApiName, micros: number): void {
    this.runtimeLatency.observe({ model_name: model, API: API_LABELS[api].GRPC, runtime: this.runtimeLabel }, micros);
  }

  loadAttempt(modelPath: string, ok: boolean, micros: number): void {
    this.loadAttemptCount.inc({ model_path: modelPath, status: ok ? 'success' : 'fail' });
    if (ok) this.loadLatency.inc({ model_path: modelPath }, Math.round(micros));
  }

  /** For observers that only know success; warmupFinished carries TF's full status label. */
  warmup(modelPath: string, ok: boolean, micros: number): void {
    this.warmupLatency.observe({ model_path: modelPath, status: ok ? 'OK' : 'ERROR' }, micros);
  }

  warmupFinished(report: WarmupReport): void {
    this.warmupLatency.observe({ model_path: report.modelPath, status: report.status }, report.micros);
    this.warmupRecordsRead.inc({ model_path: report.modelPath, status: report.status }, report.recordsRead);
  }

  /** The first argument is the batch thread pool's name (TF's thread_pool_name label). */
  batchQueuing(threadPoolName: string, micros: number): void {
    this.queuingLatency.observe({ thread_pool_name: threadPoolName }, micros);
  }

  inputBatchSize(size: number): void {
    this.inputBatchSizes.observe(size);
  }

  processedBatchSize(size: number): void {
    this.processedBatchSizes.observe(size);
  }

  paddingSize(padding: number, executionBatchSize: number): void {
    this.paddingSizes.observe({ execution_batch_size: String(executionBatchSize) }, padding);
  }

  wrappedRun(): void {
    this.wrappedRunCount.inc();
  }

  /** Adds tfmodel_model_version_state, read from `core` at every scrape (call once). */
  watchModels(core: Pick<ServingCore, 'listModels'>): void {
    registerVersionStateGauge(this.registry, core);
  }

  /** The Prometheus text exposition, for the REST server's metrics path. */
  async render(): Promise<MetricsPage> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private counter<L extends string>(tfName: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name: prometheusMetricName(tfName), help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(tfName: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name: prometheusMetricName(tfName), help, labelNames, buckets, registers: [this.registry] });
  }
}
