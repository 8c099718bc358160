/**
 * Assembles a model server from its flags: the model manager with its loader (runtime, batching,
 * warmup), the gRPC and REST transports, metrics, the profiler, and config file polling; and
 * takes it down gracefully (stop accepting, finish in-flight requests, unload).
 *
 * Start-up follows TF Serving's order: the initial models load first (every model gets a version
 * AVAILABLE, or the server refuses to start as TF Serving does), and only then do the gRPC and
 * REST ports open, so "port open" means "ready to serve" as clients and scripts expect.
 */
import { readFile } from 'node:fs/promises';
import { create } from '@bufbuild/protobuf';
import { type ModelConfigList, ModelConfigListSchema } from '../gen/tensorflow_serving/config/model_server_config_pb.js';
import { SSLConfigSchema, type SSLConfig } from '../gen/tensorflow_serving/config/ssl_config_pb.js';
import { parseProtoText } from './config/text-proto.js';
import { createBatching } from './batching/index.js';
import { loadBatchingConfig } from './config/batching-config.js';
import { type ConfigPoller, startConfigPoller } from './config/config-poller.js';
import type { ServerFlags } from './config/flags.js';
import { NO_SESSION_THREADS } from './config/flag-table.js';
import { modelConfigListOf, parseModelServerConfig, singleModelConfig } from './config/model-config.js';
import { loadPrometheusSettings } from './config/monitoring-config.js';
import { type InitialLoadFailure, ModelManager } from './core/model-manager.js';
import { ModelRepository } from './api/oip/repository.js';
import { serverMetadata } from './api/oip/metadata.js';
import { PayloadLogs } from './payload-log/payload-logger.js';
import { parseRedactionRules } from './payload-log/redaction.js';
import type { Tracing } from './tracing/start-tracing.js';
import { availableMemoryBytes } from './core/memory.js';
import { ModelCache, objectStoreSources } from './core/sources/index.js';
import { estimateVersionBytes, savedModelLoader } from './core/version-loader.js';
import { Code, ServingError, invalidArgument, unimplemented } from './errors.js';
import type { Logger } from './logging.js';
import { ServingMetrics } from './metrics/index.js';
import type { ServingObserver } from './observability.js';
import { profilerServiceDefinition, profilerServiceHandlers } from './profiler/profiler-service.js';
import { TraceRecorder } from './profiler/trace-recorder.js';
import type { BatchingObserver } from './batching/index.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { createGrpcServer } from './transports/grpc/index.js';
import { createRestServer } from './transports/rest/index.js';
import { JsonWorkers } from './transports/rest/json-workers.js';
import { GrpcOffload } from './transports/grpc/offload.js';
import { InflightBytes } from './transports/inflight-bytes.js';
import { AdminToken } from './admin-token.js';
import { RoutedCore } from './api/routed-core.js';
import { ShadowRunner } from './routing/shadow-runner.js';
import { type RoutingPoller, readRoutingFile, routingAdmin, startRoutingPoller } from './routing/routing-admin.js';
import { modelWarmup } from './warmup/index.js';
import type { SessionConfig } from './runtime/native/session-config.js';
import { findAddon } from './runtime/native/tf-addon.js';

export interface RunningServer {
  /** The bound gRPC TCP port; 0 when --port=0 (UNIX socket only). */
  readonly grpcPort: number;
  readonly restPort: number | undefined;
  readonly manager: ModelManager;
  /** The manager behind the routing config (weighted labels, shadow): what the transports call. */
  readonly core: RoutedCore;
  /** Stops accepting requests, waits for those in flight, unloads every model. */
  stop(): Promise<void>;
}

/** --model_memory_budget_bytes: as given, 80% of the memory available for 0, none (no check) for -1. */
export function modelMemoryBudget(flag: number, available: number = availableMemoryBytes()): number | undefined {
  if (flag < 0) return undefined;
  return flag || Math.floor(available * 0.8);
}

export async function startModelServer(flags: ServerFlags, log: Logger): Promise<RunningServer> {
  if (flags.batchingParametersFile && !flags.enableBatching) {
    throw invalidArgument('server_options.batching_parameters_file is set without setting server_options.enable_batching to true.');
  }
  if (flags.useAltsCredentials) {
    throw unimplemented('--use_alts_credentials: ALTS (Google Cloud\'s transport security) is not available in grpc-js; use --ssl_config_file');
  }
  for (const { flag, value, reason } of flags.ignored) log.info('flag_ignored', { flag, value, reason });

  const { config: initialConfig, text: configText } = await initialModelConfig(flags);
  const routingFile = flags.routingConfigFile ? await readRoutingFile(flags.routingConfigFile) : undefined;
  const prometheus = await loadPrometheusSettings(flags.monitoringConfigFile || undefined);
  const ssl = flags.sslConfigFile ? await readSslConfig(flags.sslConfigFile) : undefined;
  const session = { ...applyGpuMemoryFraction(flags, log), ...applySessionThreads(flags, log) };

  const metrics = new ServingMetrics();
  const tracing = flags.tracingOtlpEndpoint ? await startServerTracing(flags, log) : undefined;
  const payloadLogs = new PayloadLogs({
    limits: { maxFileBytes: flags.payloadLogMaxFileBytes, maxFiles: flags.payloadLogMaxFiles, maxQueueBytes: flags.payloadLogMaxQueueBytes },
    rules: parseRedactionRules(flags.payloadLogRedact),
    observer: metrics,
    log,
  });
  const tracer = flags.enableProfiler ? new TraceRecorder() : undefined;
  const observer = tracer ? teeObserver(metrics, tracer) : metrics;
  const batching = flags.enableBatching
    ? createBatching(await loadBatchingConfig(flags.batchingParametersFile || undefined), {
      observer: tracer ? teeBatching(metrics, tracer) : metrics,
      observerFor: (model) => (tracer ? teeBatching(metrics, tracer, model) : metrics.batchingObserverFor(model)),
    })
    : undefined;
  if (flags.enablePerModelBatchingParameters && !batching) {
    log.warn('flag_ignored', { flag: 'enable_per_model_batching_parameters', value: 'true', reason: 'only applicable when --enable_batching is set' });
  }
  const loader = savedModelLoader({
    tags: flags.savedModelTags,
    runtime: flags.runtime,
    threads: flags.inferenceThreads,
    session,
    preferTfliteModel: flags.preferTfliteModel,
    keepMetaGraph: !flags.removeUnusedFieldsFromBundleMetagraph,
    onEngineFault: (version, trap) => {
      metrics.engineFault(version.model);
      log.warn('engine_fault', { model: version.model, version: String(version.version), trap });
    },
    ...(batching
      ? { wrap: flags.enablePerModelBatchingParameters ? (engine, version) => batching.wrapWithModelParameters(engine, version.dir, version) : (engine, version) => batching.wrap(engine, version) }
      : {}),
    ...(flags.enableModelWarmup ? { beforeAvailable: modelWarmup({ numRequestIterations: flags.numRequestIterationsForWarmup, observer: metrics, log }) } : {}),
  });
  const manager = new ModelManager({
    loader,
    log,
    fileSystemPollMs: flags.fileSystemPollSeconds < 0 ? -1 : flags.fileSystemPollSeconds * 1000,
    maxLoadRetries: flags.maxNumLoadRetries,
    numLoadThreads: flags.numLoadThreads,
    numUnloadThreads: flags.numUnloadThreads,
    maxConcurrentLoadBytes: flags.maxConcurrentLoadBytes || Math.floor(availableMemoryBytes() / 4),
    memoryBudgetBytes: modelMemoryBudget(flags.modelMemoryBudgetBytes),
    onMemoryDecision: (model, decision) => metrics.memoryDecision(model, decision.kind),
    sources: objectStoreSources({ cache: new ModelCache(flags.modelCacheDir, flags.modelCacheMaxBytes) }),
    estimateLoadBytes: (version) => estimateVersionBytes(version.dir, { runtime: flags.runtime, threads: flags.inferenceThreads }),
    loadRetryIntervalMs: Math.max(0, flags.loadRetryIntervalMicros / 1000),
    allowLabelsForUnavailable: flags.allowVersionLabelsForUnavailableModels,
    payloadLogs,
    signatureMethodNameCheck: flags.enableSignatureMethodNameCheck,
    onLoadAttempt: (dir, ok, ms, version) => metrics.loadAttempt(dir, ok, ms * 1000, version),
    onUnload: (version, ms) => metrics.unloaded(version, ms * 1000),
  });
  metrics.watchModels(manager);
  const shadows = new ShadowRunner({ core: manager, observer: metrics, maxQueued: flags.shadowMaxQueued, concurrency: flags.shadowConcurrency, maxBatchRows: flags.shadowMaxBatchRows, batchTimeoutMs: flags.shadowBatchTimeoutMicros / 1000, log });
  const core = new RoutedCore({
    core: manager,
    allowUnavailable: flags.allowVersionLabelsForUnavailableModels,
    log,
    shadows,
    onFallback: (model, label, canary) => metrics.routingFallback(model, label, canary),
  });
  // Triton's model repository extension (Open Inference Protocol) edits the served model list.
  const repository = new ModelRepository({ core, configList: () => manager.configList(), reloadConfig: (list) => manager.reloadConfig(list), settled: () => manager.settled() });

  // TF Serving's order: load the initial models, then open the ports.
  await manager.start(initialConfig);
  const failures = await manager.untilModelsSettled();
  if (failures.length > 0) {
    await manager.stop();
    throw unavailableModelsError(failures);
  }
  if (routingFile) {
    try {
      core.setRouting(routingFile.config);
    } catch (error) {
      await manager.stop();
      throw error;
    }
  }

  const inflightBytes = new InflightBytes(flags.maxInflightRequestBytes);
  // One pool of worker threads for big REST JSON and big gRPC messages (started on first use).
  const workers = flags.restJsonThreads > 0 ? new JsonWorkers(flags.restJsonThreads) : undefined;
  const adminToken = flags.adminTokenFile ? await AdminToken.fromFile(flags.adminTokenFile) : undefined;
  if (!adminToken) log.info('model_management_open', { reason: 'no --admin_token_file: any client of the gRPC port may reload the config, as with TF Serving' });
  const grpc = createGrpcServer({
    inflightBytes,
    adminToken,
    core,
    reloader: manager,
    observer,
    healthCheck: flags.enableGrpcHealthcheckService,
    ssl,
    logger: log,
    channelArguments: flags.grpcChannelArguments,
    predictTensorContent: flags.enableSerializationAsTensorContent,
    offload: new GrpcOffload({ workers, minBytes: flags.grpcOffloadBytes }),
    repository,
    extraServices: tracer ? [{ definition: profilerServiceDefinition, handlers: profilerServiceHandlers(tracer, log) as unknown as UntypedServiceImplementation }] : [],
  });
  let grpcPort = 0;
  try {
    if (flags.port !== 0) {
      grpcPort = await grpc.listen(flags.port, flags.bindAddress);
      log.info('grpc_listening', { address: flags.bindAddress, port: grpcPort, tls: ssl !== undefined, profiler: tracer !== undefined });
    }
    if (flags.grpcSocketPath) {
      await grpc.listenUnix(flags.grpcSocketPath);
      log.info('grpc_listening', { socket: flags.grpcSocketPath, tls: ssl !== undefined, profiler: tracer !== undefined });
    }
  } catch (error) {
    await grpc.close();
    await manager.stop();
    throw error;
  }
  let rest: ReturnType<typeof createRestServer> | undefined;
  let restPort: number | undefined;
  if (flags.restApiPort !== 0 && flags.restApiPort === flags.port) {
    log.error('rest_not_started', {
      message: 'server_options.http_port cannot be same as grpc_port. Please use a different port for HTTP/REST API. Skipped exporting HTTP/REST API.',
    });
  } else if (flags.restApiPort !== 0) {
    rest = createRestServer({
      core,
      routing: routingAdmin(core),
      observer,
      corsEnabled: flags.restApiCors,
      timeoutMs: flags.restApiTimeoutMs,
      maxBodyBytes: flags.maxRequestBytes,
      inflightBytes,
      adminToken,
      json: { threads: flags.restJsonThreads, minBytes: flags.restJsonOffloadBytes, workers },
      logger: log,
      repository,
      ...(prometheus.enabled ? { metrics: { path: prometheus.path, render: () => metrics.render() } } : {}),
    });
    try {
      restPort = await rest.listen(flags.restApiPort, flags.bindAddress);
    } catch (error) {
      await grpc.close();
      await manager.stop();
      throw error;
    }
    log.info('rest_listening', { address: flags.bindAddress, port: restPort, metrics_path: prometheus.enabled ? prometheus.path : undefined });
  }

  log.info('serving', { models: manager.listModels().map((m) => ({ name: m.name, versions: m.versions.map((v) => String(v.version)) })) });

  let poller: ConfigPoller | undefined;
  if (flags.modelConfigFile && flags.modelConfigFilePollSeconds > 0) {
    poller = startConfigPoller({
      path: flags.modelConfigFile,
      intervalMs: flags.modelConfigFilePollSeconds * 1000,
      initialText: configText,
      reload: (list) => manager.reloadConfig(list),
      log,
    });
  }

  let routingPoller: RoutingPoller | undefined;
  if (routingFile && flags.modelConfigFilePollSeconds > 0) {
    routingPoller = startRoutingPoller({
      path: flags.routingConfigFile,
      intervalMs: flags.modelConfigFilePollSeconds * 1000,
      initialText: routingFile.text,
      target: core,
      log,
    });
  }

  return {
    grpcPort,
    restPort,
    manager,
    core,
    async stop() {
      poller?.stop();
      routingPoller?.stop();
      await Promise.all([grpc.close(), rest?.close()]);
      await workers?.close();
      await shadows.drained();
      await manager.stop();
      await payloadLogs.close();
      await tracing?.shutdown();
    },
  };
}

async function startServerTracing(flags: ServerFlags, log: Logger): Promise<Tracing> {
  const { startTracing } = await import('./tracing/start-tracing.js');
  const tracing = startTracing({
    endpoint: flags.tracingOtlpEndpoint,
    protocol: flags.tracingOtlpProtocol,
    samplingRate: flags.tracingSamplingRate,
    serviceName: flags.tracingServiceName,
    serviceVersion: serverMetadata().version,
  });
  log.info('tracing_started', { endpoint: flags.tracingOtlpEndpoint, protocol: flags.tracingOtlpProtocol, sampling_rate: flags.tracingSamplingRate });
  return tracing;
}

/** TF Serving's ConnectSourcesWithFastInitialLoad failure: UNKNOWN, naming each version and its error. */
function unavailableModelsError(failures: readonly InitialLoadFailure[]): ServingError {
  const entries = failures.map((f) => `{{name: ${f.model} version: ${f.version}} due to error: ${f.error.toString()}}, `).join('');
  return new ServingError(Code.UNKNOWN, `${failures.length} servable(s) did not become available: {${entries}}`);
}

function teeBatching(metrics: ServingMetrics, tracer: TraceRecorder, model?: string): BatchingObserver {
  const own = model === undefined ? undefined : metrics.batchingObserverFor(model);
  return {
    batchQueuing: (pool, micros) => {
      if (own) own.batchQueuing(pool, micros);
      else metrics.batchQueuing(pool, micros);
      tracer.batchQueuing(pool, micros);
    },
    inputBatchSize: (size) => metrics.inputBatchSize(size),
    processedBatchSize: (size) => (own ? own.processedBatchSize!(size) : metrics.processedBatchSize(size)),
    paddingSize: (padding, executionBatchSize) => metrics.paddingSize(padding, executionBatchSize),
    wrappedRun: () => metrics.wrappedRun(),
  };
}

/** Metrics and the profiler both hear what the transports and the core report. */
function teeObserver(metrics: ServingMetrics, tracer: TraceRecorder): ServingObserver {
  return {
    request: (event) => {
      metrics.request(event);
      tracer.request(event);
    },
    runtime: (model, api, micros) => {
      metrics.runtime(model, api, micros);
      tracer.runtime(model, api, micros);
    },
    loadAttempt: (path, ok, micros) => metrics.loadAttempt(path, ok, micros),
    warmup: (path, ok, micros) => metrics.warmup(path, ok, micros),
    batchQueuing: (pool, micros) => {
      metrics.batchQueuing(pool, micros);
      tracer.batchQueuing(pool, micros);
    },
  };
}

async function initialModelConfig(flags: ServerFlags): Promise<{ config: ModelConfigList; text: string }> {
  if (!flags.modelConfigFile) {
    return { config: create(ModelConfigListSchema, { config: [singleModelConfig(flags.modelName, flags.modelBasePath)] }), text: '' };
  }
  let text: string;
  try {
    text = await readFile(flags.modelConfigFile, 'utf8');
  } catch (error) {
    throw invalidArgument(`Could not read model config file ${flags.modelConfigFile}: ${(error as Error).message}`);
  }
  return { config: modelConfigListOf(parseModelServerConfig(text, flags.modelConfigFile)), text };
}

async function readSslConfig(path: string): Promise<SSLConfig> {
  try {
    return parseProtoText(SSLConfigSchema, await readFile(path, 'utf8'), path);
  } catch (error) {
    throw invalidArgument(`Invalid SSL config file '${path}': ${(error as Error).message}`);
  }
}

/**
 * --tensorflow_intra_op_parallelism, --tensorflow_inter_op_parallelism and
 * --tensorflow_session_parallelism: the native engine's session threads (ConfigProto
 * intra_op_parallelism_threads / inter_op_parallelism_threads, as TF Serving sets them). TensorFlow
 * keeps one pair of thread pools per process, sized by the first session: every model shares it.
 * The tfjs engines have no session, so there each given flag is logged as ignored.
 */
function applySessionThreads(flags: ServerFlags, log: Logger): SessionConfig {
  const { intraOpThreads, interOpThreads, given } = flags.sessionThreads;
  if (given.length === 0) return {};
  const tfjsOnly = flags.runtime === 'wasm' || flags.runtime === 'cpu';
  if (tfjsOnly || !findAddon()) {
    for (const { flag, value } of given) log.info('flag_ignored', { flag, value: String(value), reason: NO_SESSION_THREADS });
    return {};
  }
  log.info('session_threads', { intraOpThreads, interOpThreads, flags: given.map((g) => g.flag).join(',') });
  return { intraOpThreads, interOpThreads };
}

/**
 * --per_process_gpu_memory_fraction. Only the native runtime uses a GPU. On tfmodel's addon the
 * fraction goes into the session's ConfigProto (gpu_options.per_process_gpu_memory_fraction, as
 * TF Serving sets it), so TensorFlow's allocator is capped; tfjs-node gives no way to set it, so
 * there we stop libtensorflow from taking all memory up front (allow growth) and rely on the GPU
 * sharing backend (MPS, HAMi, MIG) for the hard cap.
 */
function applyGpuMemoryFraction(flags: ServerFlags, log: Logger): SessionConfig {
  if (flags.perProcessGpuMemoryFraction <= 0) return {};
  const tfjsOnly = flags.runtime === 'wasm' || flags.runtime === 'cpu';
  if (!tfjsOnly && findAddon()) {
    log.info('gpu_memory_fraction', { fraction: flags.perProcessGpuMemoryFraction, effect: 'session ConfigProto gpu_options.per_process_gpu_memory_fraction' });
    return { gpuMemoryFraction: flags.perProcessGpuMemoryFraction };
  }
  if (!tfjsOnly) process.env['TF_FORCE_GPU_ALLOW_GROWTH'] = 'true';
  log.info('gpu_memory_fraction', {
    fraction: flags.perProcessGpuMemoryFraction,
    effect: tfjsOnly ? 'none: the tfjs runtime does not use a GPU' : 'TF_FORCE_GPU_ALLOW_GROWTH=true; cap enforced by the GPU sharing backend',
  });
  return {};
}
