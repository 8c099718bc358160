/**
 * Prometheus metrics with TF Serving's names, labels and buckets (so dashboards built for
 * tensorflow_model_server work unchanged), plus Node's process metrics. Implements the serving
 * stack's ServingObserver and the batching and warmup detail hooks.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchStatsObserver } from '../batching/batching-engine.js';
import type { ServingCore } from '../core/types.js';
import { Code } from '../errors.js';
import type { ApiName, Entrypoint, RequestEvent, ServingObserver, ShadowEvent, ShadowObserver } from '../observability.js';
import type { WarmupReport, WarmupReportObserver } from '../warmup/model-warmup.js';
import { engineLabel, registerVersionMemoryGauge, registerVersionStateGauge } from './version-state-gauge.js';
import type { BatchingObserver } from '../batching/batching-engine.js';
import type { LoadedVersionInfo } from '../core/model-manager.js';
import { BATCH_SIZE_BUCKETS, DIFF_BUCKETS, LATENCY_BUCKETS, VERSION_SECONDS_BUCKETS, QUEUE_SECONDS_BUCKETS, QUEUING_BUCKETS, SECONDS_BUCKETS, TF_METRICS, prometheusMetricName } from './tf-metrics.js';

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

/** The calls that run a model: per-version metrics count these. */
const INFERENCE_APIS: ReadonlySet<ApiName> = new Set<ApiName>(['predict', 'classify', 'regress', 'multi_inference', 'model_infer']);

export class ServingMetrics implements ServingObserver, BatchStatsObserver, WarmupReportObserver, ShadowObserver {
  readonly registry = new Registry();
  /** Our own metrics take their names as they are. */
  private readonly own = {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter({ name, help, labelNames, registers: [this.registry] }),
    histogram: <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
      new Histogram({ name, help, labelNames, buckets, registers: [this.registry] }),
  };

  private readonly runtimeLabel: string;

  // TF Serving's request metrics, with two more dimensions: the signature an inference call ran
  // and the version label it named ('' when none). Sums over them give TF Serving's series.
  private readonly requestCount = this.counter(TF_METRICS.requestCount, 'The total number of requests.', ['model_name', 'status', 'signature_name', 'version_label']);
  private readonly requestLatency = this.histogram(
    TF_METRICS.requestLatency,
    'Distribution of wall time (in microseconds) for Tensorflow Serving request.',
    ['model_name', 'API', 'entrypoint', 'signature_name', 'version_label'],
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
  // Ours (tfmodel_*): what TF Serving does not export.
  private readonly modelLoads = this.own.counter('tfmodel_model_loads_total', 'Model version load attempts, by outcome (success, fail) and engine.', ['model_name', 'engine', 'status']);
  private readonly engineFaults = this.own.counter(
    'tfmodel_engine_faults_total',
    'Engine instances (a worker thread, or the in-thread wasm backend) that trapped and were discarded and rebuilt.',
    ['model_name'],
  );
  private readonly modelLoadSeconds = this.own.histogram('tfmodel_model_load_duration_seconds', 'Wall time of successful model version loads (warmup included).', ['model_name', 'engine'], SECONDS_BUCKETS);
  private readonly memoryDecisions = this.own.counter(
    'tfmodel_model_memory_decisions_total',
    'Version loads that left availability-preserving order for the memory budget: unload_first (resource-preserving), wait (a label names the old version), over_budget (loaded anyway).',
    ['model_name', 'decision'],
  );
  private readonly modelUnloads = this.own.counter('tfmodel_model_unloads_total', 'Model versions unloaded.', ['model_name', 'engine']);
  private readonly modelUnloadSeconds = this.own.histogram('tfmodel_model_unload_duration_seconds', 'Wall time of unloads: waiting for requests in flight, then freeing the engine.', ['model_name', 'engine'], SECONDS_BUCKETS);
  private readonly modelBatchSize = this.own.histogram('tfmodel_batch_size', 'Size of each batch a model runs (padding included), per model.', ['model_name'], BATCH_SIZE_BUCKETS);
  private readonly modelQueueWait = this.own.histogram('tfmodel_batch_queue_wait_seconds', 'Time a request waited in its model\'s batching queue.', ['model_name'], QUEUE_SECONDS_BUCKETS);
  private readonly payloadRecords = this.own.counter('tfmodel_payload_log_records_total', 'Payload log records (logging_config), written or dropped (queue full, write failure).', ['model_name', 'outcome']);
  private readonly payloadBytes = this.own.counter('tfmodel_payload_log_bytes_total', 'Bytes of payload log records written.', ['model_name']);

  // Routing: per version (what promotion gates read), and shadow comparisons per (model, primary, shadow).
  private readonly versionRequests = this.own.counter('tfmodel_version_requests_total', 'Inference requests by the version that answered (after routing), signature, label named and status.', ['model_name', 'version', 'signature_name', 'version_label', 'status']);
  private readonly versionLatency = this.own.histogram('tfmodel_version_request_duration_seconds', 'Wall time of successful inference requests by the version that answered.', ['model_name', 'version', 'signature_name', 'version_label'], VERSION_SECONDS_BUCKETS);
  private readonly routingFallbacks = this.own.counter('tfmodel_routing_fallbacks_total', 'Routed requests whose canary was not AVAILABLE, served by the label\'s primary.', ['model_name', 'version_label', 'version']);
  private readonly shadowRequests = this.own.counter('tfmodel_shadow_requests_total', 'Shadow copies, run or dropped (queue full).', ['model_name', 'primary_version', 'shadow_version', 'outcome']);
  private readonly shadowErrors = this.own.counter('tfmodel_shadow_errors_total', 'Failures among shadowed requests, of the primary (the caller\'s answer) or of the shadow.', ['model_name', 'primary_version', 'shadow_version', 'side']);
  private readonly shadowAbsDiff = this.own.histogram('tfmodel_shadow_max_abs_diff', 'Per shadowed request and output: the largest |primary - shadow| over its elements (+Inf: shape/dtype mismatch).', ['model_name', 'primary_version', 'shadow_version', 'output'], DIFF_BUCKETS);
  private readonly shadowRelDiff = this.own.histogram('tfmodel_shadow_max_rel_diff', 'Per shadowed request and output: the largest |a - b| / max(|a|, |b|) over its elements.', ['model_name', 'primary_version', 'shadow_version', 'output'], DIFF_BUCKETS);
  private readonly shadowTop1 = this.own.counter('tfmodel_shadow_top1_rows_total', 'Rows of class-score outputs ([batch, classes]) whose top-1 class agrees or disagrees between primary and shadow.', ['model_name', 'primary_version', 'shadow_version', 'output', 'agreement']);

  constructor(options: ServingMetricsOptions = {}) {
    this.runtimeLabel = options.runtimeLabel ?? 'TF1';
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Every request is counted; latency is recorded for successful ones only, as in TF Serving. */
  request(event: RequestEvent): void {
    const signature = event.signature ?? '';
    const label = event.label ?? '';
    this.requestCount.inc({ model_name: event.model, status: Code[event.status], signature_name: signature, version_label: label });
    if (event.version !== undefined && INFERENCE_APIS.has(event.api)) {
      const version = String(event.version);
      this.versionRequests.inc({ model_name: event.model, version, signature_name: signature, version_label: label, status: Code[event.status] });
      if (event.status === Code.OK) this.versionLatency.observe({ model_name: event.model, version, signature_name: signature, version_label: label }, event.latencyMicros / 1e6);
    }
    if (event.status !== Code.OK) return;
    const api = API_LABELS[event.api][event.entrypoint];
    this.requestLatency.observe({ model_name: event.model, API: api, entrypoint: event.entrypoint, signature_name: signature, version_label: label }, event.latencyMicros);
  }

  shadow(event: ShadowEvent): void {
    const pair = { model_name: event.model, primary_version: String(event.primary), shadow_version: String(event.shadow) };
    this.shadowRequests.inc({ ...pair, outcome: event.outcome });
    if (event.primaryFailed) this.shadowErrors.inc({ ...pair, side: 'primary' });
    if (event.shadowFailed) this.shadowErrors.inc({ ...pair, side: 'shadow' });
    for (const c of event.comparisons ?? []) {
      this.shadowAbsDiff.observe({ ...pair, output: c.output }, c.maxAbsDiff);
      this.shadowRelDiff.observe({ ...pair, output: c.output }, c.maxRelDiff);
      if (c.top1) {
        if (c.top1.agree > 0) this.shadowTop1.inc({ ...pair, output: c.output, agreement: 'agree' }, c.top1.agree);
        if (c.top1.rows > c.top1.agree) this.shadowTop1.inc({ ...pair, output: c.output, agreement: 'disagree' }, c.top1.rows - c.top1.agree);
      }
    }
  }

  routingFallback(model: string, label: string, version: bigint): void {
    this.routingFallbacks.inc({ model_name: model, version_label: label, version: String(version) });
  }

  runtime(model: string, api: ApiName, micros: number): void {
    this.runtimeLatency.observe({ model_name: model, API: API_LABELS[api].GRPC, runtime: this.runtimeLabel }, micros);
  }

  /** An engine instance of the model trapped and was discarded. */
  engineFault(model: string): void {
    this.engineFaults.inc({ model_name: model });
  }

  loadAttempt(modelPath: string, ok: boolean, micros: number, version?: LoadedVersionInfo): void {
    this.loadAttemptCount.inc({ model_path: modelPath, status: ok ? 'success' : 'fail' });
    if (ok) this.loadLatency.inc({ model_path: modelPath }, Math.round(micros));
    if (!version) return;
    const engine = engineLabel(version.engine);
    this.modelLoads.inc({ model_name: version.model, engine, status: ok ? 'success' : 'fail' });
    if (ok) this.modelLoadSeconds.observe({ model_name: version.model, engine }, micros / 1e6);
  }

  /** A load left the configured order for the memory budget (core/transition-policy.ts). */
  memoryDecision(model: string, kind: 'unload-first' | 'wait' | 'over-budget'): void {
    this.memoryDecisions.inc({ model_name: model, decision: kind.replace('-', '_') });
  }

  unloaded(version: LoadedVersionInfo, micros: number): void {
    const labels = { model_name: version.model, engine: engineLabel(version.engine) };
    this.modelUnloads.inc(labels);
    this.modelUnloadSeconds.observe(labels, micros / 1e6);
  }

  /** The batching observer of one model: TF Serving's batch metrics plus ours by model_name. */
  batchingObserverFor(model: string): BatchingObserver {
    return {
      batchQueuing: (pool, micros) => {
        this.batchQueuing(pool, micros);
        this.modelQueueWait.observe({ model_name: model }, micros / 1e6);
      },
      inputBatchSize: (size) => this.inputBatchSize(size),
      processedBatchSize: (size) => {
        this.processedBatchSize(size);
        this.modelBatchSize.observe({ model_name: model }, size);
      },
      paddingSize: (padding, size) => this.paddingSize(padding, size),
      wrappedRun: () => this.wrappedRun(),
    };
  }

  payloadLogRecord(model: string, outcome: 'written' | 'dropped', bytes: number): void {
    this.payloadRecords.inc({ model_name: model, outcome });
    if (bytes > 0) this.payloadBytes.inc({ model_name: model }, bytes);
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

  /** Adds tfmodel_model_version_state and _memory_bytes, read from `core` at every scrape (call once). */
  watchModels(core: Pick<ServingCore, 'listModels'>): void {
    registerVersionStateGauge(this.registry, core);
    registerVersionMemoryGauge(this.registry, core);
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
