/**
 * tfmodel-server's command line: tensorflow_model_server's flags (flag-table.ts) with TensorFlow's
 * syntax (`--name=value`; booleans also as `--name` / `--name=false`), plus a few of our own.
 * Unknown flags and bad values are a usage error (exit code 2).
 */
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RuntimeSelection, parseRuntimeSelection } from '../runtime/backend.js';
import { FLAGS, type FlagName, flagSpec } from './flag-table.js';
import { DEFAULT_JSON_OFFLOAD_BYTES, defaultJsonThreads } from '../transports/rest/json-offload.js';
import { DEFAULT_GRPC_OFFLOAD_BYTES } from '../transports/grpc/offload.js';

export { FLAGS, type FlagName, usage } from './flag-table.js';

export interface IgnoredFlag {
  readonly flag: FlagName;
  readonly value: string;
  readonly reason: string;
}

export interface ServerFlags {
  /** gRPC TCP port; 0: no TCP listener (then grpcSocketPath is set). */
  readonly port: number;
  /** gRPC on this UNIX socket too; '' none. */
  readonly grpcSocketPath: string;
  /** grpc.* arguments for the gRPC server (--grpc_channel_arguments), ints as numbers. */
  readonly grpcChannelArguments: ReadonlyArray<readonly [string, string | number]>;
  readonly restApiPort: number;
  readonly restApiTimeoutMs: number;
  readonly restApiCors: boolean;
  readonly modelName: string;
  readonly modelBasePath: string;
  readonly modelConfigFile: string;
  readonly modelConfigFilePollSeconds: number;
  readonly fileSystemPollSeconds: number;
  readonly enableBatching: boolean;
  readonly batchingParametersFile: string;
  readonly enablePerModelBatchingParameters: boolean;
  readonly allowVersionLabelsForUnavailableModels: boolean;
  readonly monitoringConfigFile: string;
  readonly perProcessGpuMemoryFraction: number;
  /**
   * --tensorflow_intra_op_parallelism / --tensorflow_inter_op_parallelism, or both from
   * --tensorflow_session_parallelism (TF Serving's rule); 0: TensorFlow's default (one per core).
   * The native engine's session threads; `given` names the flags set (the tfjs engines ignore them).
   */
  readonly sessionThreads: SessionThreads;
  readonly savedModelTags: string[];
  readonly enableModelWarmup: boolean;
  /** > 0 as given; TF Serving's 0 ("not set") means once. */
  readonly numRequestIterationsForWarmup: number;
  readonly maxNumLoadRetries: number;
  /** --num_load_threads / --num_unload_threads (0: one at a time, as TF Serving's manager thread). */
  readonly numLoadThreads: number;
  readonly numUnloadThreads: number;
  /** Cap on the estimated bytes of concurrent loads (ours); 0: derived from the memory available. */
  readonly maxConcurrentLoadBytes: number;
  /** What all loaded versions may hold by their estimates (ours); 0: derived from the memory available; -1: no check. */
  readonly modelMemoryBudgetBytes: number;
  /** Local cache of versions from object stores (ours). */
  readonly modelCacheDir: string;
  readonly modelCacheMaxBytes: number;
  /** Negative: no wait between retries (TF Serving). */
  readonly loadRetryIntervalMicros: number;
  readonly enableGrpcHealthcheckService: boolean;
  readonly sslConfigFile: string;
  readonly useAltsCredentials: boolean;
  readonly enableSignatureMethodNameCheck: boolean;
  readonly removeUnusedFieldsFromBundleMetagraph: boolean;
  readonly preferTfliteModel: boolean;
  readonly enableProfiler: boolean;
  readonly enableSerializationAsTensorContent: boolean;
  readonly runtime: RuntimeSelection;
  readonly inferenceThreads: number;
  readonly bindAddress: string;
  readonly maxRequestBytes: number;
  /** Model management needs the token in this file; empty: open (TF Serving's behaviour). */
  readonly adminTokenFile: string;
  /** Request bytes REST and gRPC calls in flight may hold together (0: no limit). */
  readonly maxInflightRequestBytes: number;
  /** REST JSON worker threads (0: none) and the body size from which they are used (ours). */
  readonly restJsonThreads: number;
  readonly restJsonOffloadBytes: number;
  /** gRPC Predict/ModelInfer messages from this size on are converted (and big responses encoded) in those threads (ours). */
  readonly grpcOffloadBytes: number;
  /** logging_config limits (ours). */
  readonly payloadLogMaxFileBytes: number;
  readonly payloadLogMaxFiles: number;
  readonly payloadLogMaxQueueBytes: number;
  readonly payloadLogRedact: string;
  /** --routing_config_file: weighted labels and shadows (routing/routing-config.ts); '' = none. */
  readonly routingConfigFile: string;
  readonly shadowMaxQueued: number;
  readonly shadowConcurrency: number;
  readonly shadowMaxBatchRows: number;
  readonly shadowBatchTimeoutMicros: number;
  /** OpenTelemetry tracing (ours); empty endpoint: off. */
  readonly tracingOtlpEndpoint: string;
  readonly tracingOtlpProtocol: 'http/protobuf' | 'grpc';
  readonly tracingSamplingRate: number;
  readonly tracingServiceName: string;
  /** Flags given that have no effect here (logged once at start, with the reason). */
  readonly ignored: IgnoredFlag[];
}

export type FlagsResult = { readonly kind: 'serve'; readonly flags: ServerFlags } | { readonly kind: 'help' | 'version' };

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Value = number | boolean | string;

/** Parses argv (without node and script) and the environment (MODEL_NAME, MODEL_BASE_PATH). */
export function parseServerFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): FlagsResult {
  const given = new Map<FlagName, Value>();
  const raw = new Map<FlagName, string>();
  for (const arg of argv) {
    const match = /^--?([A-Za-z0-9_]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new UsageError(`Unexpected argument "${arg}" (flags are written --name=value)`);
    const [, name, text] = match as unknown as [string, string, string | undefined];
    if (!Object.hasOwn(FLAGS, name)) throw new UsageError(`Unknown command line flag '${name}'`);
    given.set(name as FlagName, parseValue(name as FlagName, text));
    raw.set(name as FlagName, text ?? 'true');
  }
  if (given.get('help')) return { kind: 'help' };
  if (given.get('version')) return { kind: 'version' };

  const get = <T extends Value>(name: FlagName, fallback: T): T => (given.has(name) ? (given.get(name) as T) : fallback);
  const runtimeText = get<string>('runtime', 'auto');
  const runtime = parseRuntimeSelection(runtimeText);
  if (!runtime) throw new UsageError(`Invalid value "${runtimeText}" for --runtime: expected auto, wasm, cpu or tensorflow`);

  const modelConfigFile = get<string>('model_config_file', '');
  let modelName = get<string>('model_name', '');
  let modelBasePath = get<string>('model_base_path', '');
  // TF Serving's Docker image serves ${MODEL_BASE_PATH:-/models}/${MODEL_NAME:-model}.
  if (!modelConfigFile && !modelBasePath && (env['MODEL_NAME'] || env['MODEL_BASE_PATH'])) {
    modelName ||= env['MODEL_NAME'] || 'model';
    modelBasePath = `${(env['MODEL_BASE_PATH'] || '/models').replace(/\/+$/, '')}/${modelName}`;
  }
  if (!modelConfigFile && !modelBasePath) {
    throw new UsageError('Both server_options.model_base_path and server_options.model_config_file are empty! (or set MODEL_NAME / MODEL_BASE_PATH)');
  }
  const port = get<number>('port', 8500);
  const restApiPort = get<number>('rest_api_port', 0);
  for (const [flag, value] of [['port', port], ['rest_api_port', restApiPort]] as const) {
    if (value < 0 || value > 65535) throw new UsageError(`Invalid value ${value} for --${flag}: not a port`);
  }
  const grpcSocketPath = get<string>('grpc_socket_path', '');
  if (port === 0 && !grpcSocketPath) {
    throw new UsageError('At least one of server_options.grpc_port or server_options.grpc_socket_path must be set.');
  }
  const sslConfigFile = get<string>('ssl_config_file', '');
  const useAltsCredentials = get('use_alts_credentials', false);
  if (useAltsCredentials && sslConfigFile) {
    throw new UsageError('Either use_alts_credentials must be false or ssl_config_file must be empty.');
  }
  const sessionThreads = sessionThreadsOf((name) => nonNegative(name, get<number>(name, 0)));
  const fraction = get('per_process_gpu_memory_fraction', 0);
  if (fraction < 0 || fraction > 1) throw new UsageError(`Invalid value ${fraction} for --per_process_gpu_memory_fraction: expected a fraction in [0, 1]`);
  const threads = get('inference_threads', availableParallelism());
  if (threads < 0) throw new UsageError(`Invalid value ${threads} for --inference_threads`);
  const tags = get<string>('saved_model_tags', 'serve').split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length === 0) throw new UsageError('--saved_model_tags is empty');
  const tracingProtocol = get<string>('tracing_otlp_protocol', 'http/protobuf');
  if (tracingProtocol !== 'http/protobuf' && tracingProtocol !== 'grpc') {
    throw new UsageError(`Invalid value "${tracingProtocol}" for --tracing_otlp_protocol: expected http/protobuf or grpc`);
  }
  const tracingRate = get('tracing_sampling_rate', 1);
  if (tracingRate < 0 || tracingRate > 1) throw new UsageError(`Invalid value ${tracingRate} for --tracing_sampling_rate: expected a fraction in [0, 1]`);
  const ignored = [...given.keys()].flatMap((flag) => {
    const reason = flagSpec(flag).ignored;
    return reason ? [{ flag, value: raw.get(flag)!, reason }] : [];
  });

  return {
    kind: 'serve',
    flags: {
      port,
      grpcSocketPath,
      grpcChannelArguments: parseGrpcChannelArguments(get<string>('grpc_channel_arguments', '')),
      restApiPort,
      restApiTimeoutMs: positive('rest_api_timeout_in_ms', get('rest_api_timeout_in_ms', 30000)),
      restApiCors: get('rest_api_enable_cors_support', false),
      modelName: modelName || 'default',
      modelBasePath,
      modelConfigFile,
      modelConfigFilePollSeconds: get('model_config_file_poll_wait_seconds', 0),
      fileSystemPollSeconds: get('file_system_poll_wait_seconds', 1),
      enableBatching: get('enable_batching', false),
      batchingParametersFile: get('batching_parameters_file', ''),
      enablePerModelBatchingParameters: get('enable_per_model_batching_parameters', false),
      allowVersionLabelsForUnavailableModels: get('allow_version_labels_for_unavailable_models', false),
      monitoringConfigFile: get('monitoring_config_file', ''),
      perProcessGpuMemoryFraction: fraction,
      sessionThreads,
      savedModelTags: tags,
      enableModelWarmup: get('enable_model_warmup', true),
      numRequestIterationsForWarmup: Math.max(1, get('num_request_iterations_for_warmup', 0)),
      maxNumLoadRetries: nonNegative('max_num_load_retries', get('max_num_load_retries', 5)),
      numLoadThreads: nonNegative('num_load_threads', get('num_load_threads', 0)),
      numUnloadThreads: nonNegative('num_unload_threads', get('num_unload_threads', 0)),
      maxConcurrentLoadBytes: nonNegative('max_concurrent_load_bytes', get('max_concurrent_load_bytes', 0)),
      modelMemoryBudgetBytes: memoryBudget(get('model_memory_budget_bytes', 0)),
      modelCacheDir: get<string>('model_cache_dir', '') || join(tmpdir(), 'tfmodel-model-cache'),
      modelCacheMaxBytes: positive('model_cache_max_bytes', get('model_cache_max_bytes', 10 * 1024 ** 3)),
      loadRetryIntervalMicros: get('load_retry_interval_micros', 60_000_000),
      enableGrpcHealthcheckService: get('enable_grpc_healthcheck_service', false),
      sslConfigFile,
      useAltsCredentials,
      enableSignatureMethodNameCheck: get('enable_signature_method_name_check', false),
      removeUnusedFieldsFromBundleMetagraph: get('remove_unused_fields_from_bundle_metagraph', true),
      preferTfliteModel: get('prefer_tflite_model', false),
      enableProfiler: get('enable_profiler', true),
      enableSerializationAsTensorContent: get('enable_serialization_as_tensor_content', false),
      runtime,
      inferenceThreads: threads,
      bindAddress: get('bind_address', '0.0.0.0'),
      maxRequestBytes: positive('max_request_bytes', get('max_request_bytes', 64 * 1024 * 1024)),
      adminTokenFile: get<string>('admin_token_file', ''),
      maxInflightRequestBytes: nonNegative('max_inflight_request_bytes', get('max_inflight_request_bytes', 256 * 1024 * 1024)),
      restJsonThreads: nonNegative('rest_json_threads', get('rest_json_threads', defaultJsonThreads())),
      restJsonOffloadBytes: nonNegative('rest_json_offload_bytes', get('rest_json_offload_bytes', DEFAULT_JSON_OFFLOAD_BYTES)),
      grpcOffloadBytes: nonNegative('grpc_offload_bytes', get('grpc_offload_bytes', DEFAULT_GRPC_OFFLOAD_BYTES)),
      payloadLogMaxFileBytes: positive('payload_log_max_file_bytes', get('payload_log_max_file_bytes', 64 * 1024 * 1024)),
      payloadLogMaxFiles: positive('payload_log_max_files', get('payload_log_max_files', 10)),
      payloadLogMaxQueueBytes: positive('payload_log_max_queue_bytes', get('payload_log_max_queue_bytes', 16 * 1024 * 1024)),
      payloadLogRedact: get<string>('payload_log_redact', ''),
      routingConfigFile: get<string>('routing_config_file', ''),
      shadowMaxQueued: nonNegative('shadow_max_queued', get('shadow_max_queued', 64)),
      shadowConcurrency: positive('shadow_concurrency', get('shadow_concurrency', 1)),
      shadowMaxBatchRows: positive('shadow_max_batch_rows', get('shadow_max_batch_rows', 32)),
      shadowBatchTimeoutMicros: nonNegative('shadow_batch_timeout_micros', get('shadow_batch_timeout_micros', 10_000)),
      tracingOtlpEndpoint: get<string>('tracing_otlp_endpoint', env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? ''),
      tracingOtlpProtocol: tracingProtocol,
      tracingSamplingRate: tracingRate,
      tracingServiceName: get<string>('tracing_service_name', env['OTEL_SERVICE_NAME'] || 'tfmodel-server'),
      ignored,
    },
  };
}

export interface SessionThreads {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** The thread flags given a value above 0. */
  readonly given: ReadonlyArray<{ readonly flag: string; readonly value: number }>;
}

const THREAD_FLAGS = ['tensorflow_intra_op_parallelism', 'tensorflow_inter_op_parallelism', 'tensorflow_session_parallelism'] as const;

/**
 * TF Serving's rule (server.cc): all three set is an error; otherwise intra/inter as given when
 * either is set, else --tensorflow_session_parallelism for both.
 */
export function sessionThreadsOf(value: (flag: (typeof THREAD_FLAGS)[number]) => number): SessionThreads {
  const [intra, inter, session] = THREAD_FLAGS.map(value) as [number, number, number];
  if (intra > 0 && inter > 0 && session > 0) {
    throw new UsageError(
      'Either configure server_options.tensorflow_session_parallelism or (server_options.tensorflow_intra_op_parallelism, ' +
        'server_options.tensorflow_inter_op_parallelism) separately. You cannot configure all.',
    );
  }
  const given = THREAD_FLAGS.map((flag, i) => ({ flag, value: [intra, inter, session][i]! })).filter((g) => g.value > 0);
  if (intra > 0 || inter > 0) return { intraOpThreads: intra, interOpThreads: inter, given };
  return { intraOpThreads: session, interOpThreads: session, given };
}

/**
 * --grpc_channel_arguments: "key=value,key=value", each value passed as an int when it parses as
 * one, else as a string (TF Serving's parseGrpcChannelArgs and its absl::SimpleAtoi).
 */
export function parseGrpcChannelArguments(text: string): Array<[string, string | number]> {
  if (!text) return [];
  return text.split(',').map((argument) => {
    const eq = argument.indexOf('=');
    if (eq <= 0) throw new UsageError(`Invalid --grpc_channel_arguments entry "${argument}": expected key=value`);
    const key = argument.slice(0, eq);
    const value = argument.slice(eq + 1);
    const asInt = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
    return [key, Number.isSafeInteger(asInt) && Math.abs(asInt) <= 2 ** 31 - 1 ? asInt : value];
  });
}

function parseValue(name: FlagName, raw: string | undefined): Value {
  const { type } = flagSpec(name);
  if (type === 'bool') {
    if (raw === undefined || raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new UsageError(`Invalid value "${raw}" for --${name}: expected true or false`);
  }
  if (raw === undefined) throw new UsageError(`Flag --${name} needs a value (--${name}=...)`);
  if (type === 'string') return raw;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (type === 'int' && !Number.isInteger(value))) {
    throw new UsageError(`Invalid value "${raw}" for --${name}: expected ${type === 'int' ? 'an integer' : 'a number'}`);
  }
  return value;
}

function positive(name: string, value: number): number {
  if (value <= 0) throw new UsageError(`Invalid value ${value} for --${name}: must be positive`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (value < 0) throw new UsageError(`Invalid value ${value} for --${name}: must not be negative`);
  return value;
}

/** --model_memory_budget_bytes: bytes, 0 (derived) or -1 (off). */
function memoryBudget(value: number): number {
  if (value < -1) throw new UsageError(`Invalid value ${value} for --model_memory_budget_bytes: a byte count, 0 (80% of the memory available) or -1 (no memory check)`);
  return value;
}
