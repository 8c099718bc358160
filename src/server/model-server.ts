/**
 * Assembles a model server from its flags: the model manager with its loader (runtime, batching,
 * warmup), the gRPC and REST transports, metrics, and config file polling; and takes it down
 * gracefully (stop accepting, finish in-flight requests, unload).
 */
import { readFile } from 'node:fs/promises';
import { create } from '@bufbuild/protobuf';
import { type ModelConfigList, ModelConfigListSchema } from '../gen/tensorflow_serving/config/model_server_config_pb.js';
import { SSLConfigSchema, type SSLConfig } from '../gen/tensorflow_serving/config/ssl_config_pb.js';
import { parseTextFormat } from '../common/protobuf-text/index.js';
import { createBatching } from './batching/index.js';
import { loadBatchingConfig } from './config/batching-config.js';
import { type ConfigPoller, startConfigPoller } from './config/config-poller.js';
import type { ServerFlags } from './config/flags.js';
import { modelConfigListOf, parseModelServerConfig, singleModelConfig } from './config/model-config.js';
import { loadPrometheusSettings } from './config/monitoring-config.js';
import { ModelManager } from './core/model-manager.js';
import { ModelRepository } from './api/oip/repository.js';
import { serverMetadata } from './api/oip/metadata.js';
import { PayloadLogs } from './payload-log/payload-logger.js';
import { parseRedactionRules } from './payload-log/redaction.js';
import type { Tracing } from './tracing/start-tracing.js';
import { savedModelLoader } from './core/version-loader.js';
import { invalidArgument } from './errors.js';
import type { Logger } from './logging.js';
import { ServingMetrics } from './metrics/index.js';
import { createGrpcServer } from './transports/grpc/index.js';
import { createRestServer } from './transports/rest/index.js';
import { modelWarmup } from './warmup/index.js';

export interface RunningServer {
  readonly grpcPort: number;
  readonly restPort: number | undefined;
  readonly manager: ModelManager;
  /** Stops accepting requests, waits for those in flight, unloads every model. */
  stop(): Promise<void>;
}

export async function startModelServer(flags: ServerFlags, log: Logger): Promise<RunningServer> {
  if (flags.batchingParametersFile && !flags.enableBatching) {
    throw invalidArgument('server_options.batching_parameters_file is set without setting server_options.enable_batching to true.');
  }
  for (const flag of flags.ignored) log.info('flag_ignored', { flag, reason: 'accepted for compatibility with tensorflow_model_server, no effect here' });

  const { config: initialConfig, text: configText } = await initialModelConfig(flags);
  const prometheus = await loadPrometheusSettings(flags.monitoringConfigFile || undefined);
  const ssl = flags.sslConfigFile ? await readSslConfig(flags.sslConfigFile) : undefined;
  applyGpuMemoryFraction(flags, log);

  const metrics = new ServingMetrics();
  const tracing = flags.tracingOtlpEndpoint ? await startServerTracing(flags, log) : undefined;
  const payloadLogs = new PayloadLogs({
    limits: { maxFileBytes: flags.payloadLogMaxFileBytes, maxFiles: flags.payloadLogMaxFiles, maxQueueBytes: flags.payloadLogMaxQueueBytes },
    rules: parseRedactionRules(flags.payloadLogRedact),
    observer: metrics,
    log,
  });
  const batching = flags.enableBatching
    ? createBatching(await loadBatchingConfig(flags.batchingParametersFile || undefined), { observer: metrics, observerFor: (model) => metrics.batchingObserverFor(model) })
    : undefined;
  const loader = savedModelLoader({
    tags: flags.savedModelTags,
    runtime: flags.runtime,
    threads: flags.inferenceThreads,
    ...(batching ? { wrap: (engine, version) => batching.wrap(engine, version) } : {}),
    ...(flags.enableModelWarmup ? { beforeAvailable: modelWarmup({ numRequestIterations: flags.numRequestIterationsForWarmup, observer: metrics, log }) } : {}),
  });
  const manager = new ModelManager({
    loader,
    log,
    fileSystemPollMs: flags.fileSystemPollSeconds < 0 ? -1 : flags.fileSystemPollSeconds * 1000,
    maxLoadRetries: flags.maxNumLoadRetries,
    loadRetryIntervalMs: flags.loadRetryIntervalMicros / 1000,
    allowLabelsForUnavailable: flags.allowVersionLabelsForUnavailableModels,
    payloadLogs,
    onLoadAttempt: (dir, ok, ms, version) => metrics.loadAttempt(dir, ok, ms * 1000, version),
    onUnload: (version, ms) => metrics.unloaded(version, ms * 1000),
  });
  metrics.watchModels(manager);
  // Triton's model repository extension (Open Inference Protocol) edits the served model list.
  const repository = new ModelRepository({ core: manager, configList: () => manager.configList(), reloadConfig: (list) => manager.reloadConfig(list) });

  // Listen before loading: liveness probes answer while models load; /readyz and the gRPC
  // health service say when they are served.
  const grpc = createGrpcServer({ core: manager, reloader: manager, observer: metrics, healthCheck: flags.enableGrpcHealthcheckService, ssl, logger: log, repository });
  const grpcPort = await grpc.listen(flags.port, flags.bindAddress);
  log.info('grpc_listening', { address: flags.bindAddress, port: grpcPort, tls: ssl !== undefined });
  let rest: ReturnType<typeof createRestServer> | undefined;
  let restPort: number | undefined;
  if (flags.restApiPort !== 0) {
    rest = createRestServer({
      core: manager,
      observer: metrics,
      corsEnabled: flags.restApiCors,
      timeoutMs: flags.restApiTimeoutMs,
      maxBodyBytes: flags.maxRequestBytes,
      logger: log,
      repository,
      ...(prometheus.enabled ? { metrics: { path: prometheus.path, render: () => metrics.render() } } : {}),
    });
    restPort = await rest.listen(flags.restApiPort, flags.bindAddress);
    log.info('rest_listening', { address: flags.bindAddress, port: restPort, metrics_path: prometheus.enabled ? prometheus.path : undefined });
  }

  await manager.start(initialConfig);
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

  return {
    grpcPort,
    restPort,
    manager,
    async stop() {
      poller?.stop();
      await Promise.all([grpc.close(), rest?.close()]);
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
    return parseTextFormat(SSLConfigSchema, await readFile(path, 'utf8'));
  } catch (error) {
    throw invalidArgument(`Invalid SSL config file '${path}': ${(error as Error).message}`);
  }
}

/**
 * --per_process_gpu_memory_fraction. Only the native runtime uses a GPU; tfjs-node gives no way to
 * cap libtensorflow's allocator at a fraction, so we stop it from taking all memory up front
 * (allow growth) and rely on the GPU sharing backend (MPS, HAMi, MIG) for the hard cap.
 */
function applyGpuMemoryFraction(flags: ServerFlags, log: Logger): void {
  if (flags.perProcessGpuMemoryFraction <= 0) return;
  process.env['TF_FORCE_GPU_ALLOW_GROWTH'] = 'true';
  log.info('gpu_memory_fraction', {
    fraction: flags.perProcessGpuMemoryFraction,
    effect: flags.runtime === 'wasm' || flags.runtime === 'cpu' ? 'none: the tfjs runtime does not use a GPU' : 'TF_FORCE_GPU_ALLOW_GROWTH=true; cap enforced by the GPU sharing backend',
  });
}
