/**
 * tfmodel-server's command line: tensorflow_model_server's flags with their names, meanings and
 * defaults, TensorFlow's syntax (`--name=value`; booleans also as `--name` / `--name=false`), plus
 * a few of our own. Unknown flags and bad values are a usage error (exit code 2).
 */
import { availableParallelism } from 'node:os';
import { type RuntimeSelection, parseRuntimeSelection } from '../runtime/backend.js';

type FlagType = 'int' | 'float' | 'bool' | 'string';

interface FlagSpec {
  readonly type: FlagType;
  readonly help: string;
  /** Accepted for compatibility with TF Serving but without effect here (said in --help). */
  readonly ignored?: boolean;
}

export const FLAGS = {
  port: { type: 'int', help: 'Port to listen on for gRPC API (default 8500)' },
  rest_api_port: { type: 'int', help: 'Port to listen on for HTTP/REST API; 0 disables it (default 0)' },
  rest_api_num_threads: { type: 'int', help: 'Accepted for compatibility; Node serves REST on its event loop', ignored: true },
  rest_api_timeout_in_ms: { type: 'int', help: 'Timeout for HTTP/REST API calls in milliseconds (default 30000)' },
  rest_api_enable_cors_support: { type: 'bool', help: 'Enable CORS headers in the REST API response (default false)' },
  model_name: { type: 'string', help: 'Name of the model (default "default"; or $MODEL_NAME)' },
  model_base_path: { type: 'string', help: 'Path to export (or $MODEL_BASE_PATH/$MODEL_NAME)' },
  model_config_file: { type: 'string', help: 'A ModelServerConfig file (text format); overrides --model_name/--model_base_path' },
  model_config_file_poll_wait_seconds: { type: 'int', help: 'Seconds between polls of --model_config_file for changes; 0 = never (default 0)' },
  file_system_poll_wait_seconds: { type: 'int', help: 'Seconds between polls of model base paths for new versions; 0 = once, < 0 = never (default 1)' },
  flush_filesystem_caches: { type: 'bool', help: 'Accepted for compatibility', ignored: true },
  enable_batching: { type: 'bool', help: 'Enable server-side batching (default false)' },
  batching_parameters_file: { type: 'string', help: 'A BatchingParameters file (text format)' },
  allow_version_labels_for_unavailable_models: { type: 'bool', help: 'Allow new labels to point at versions not yet available (default false)' },
  monitoring_config_file: { type: 'string', help: 'A MonitoringConfig file (text format) enabling Prometheus metrics on the REST port' },
  per_process_gpu_memory_fraction: { type: 'float', help: 'Fraction of GPU memory for this process (native runtime); 0 = no cap (default 0)' },
  saved_model_tags: { type: 'string', help: 'Comma-separated MetaGraphDef tags (default "serve")' },
  enable_model_warmup: { type: 'bool', help: 'Replay assets.extra/tf_serving_warmup_requests before serving a version (default true)' },
  num_request_iterations_for_warmup: { type: 'int', help: 'Times each warmup record is replayed (default 1)' },
  max_num_load_retries: { type: 'int', help: 'Retries of a failed model load (default 5)' },
  load_retry_interval_micros: { type: 'int', help: 'Microseconds between load retries (default 60000000)' },
  enable_grpc_healthcheck_service: { type: 'bool', help: 'Serve the standard gRPC health service (default false)' },
  ssl_config_file: { type: 'string', help: 'An SSLConfig file (text format) enabling TLS for gRPC' },
  grpc_max_threads: { type: 'int', help: 'Accepted for compatibility', ignored: true },
  grpc_channel_arguments: { type: 'string', help: 'Accepted for compatibility', ignored: true },
  tensorflow_session_parallelism: { type: 'int', help: 'Accepted for compatibility', ignored: true },
  tensorflow_intra_op_parallelism: { type: 'int', help: 'Accepted for compatibility', ignored: true },
  tensorflow_inter_op_parallelism: { type: 'int', help: 'Accepted for compatibility', ignored: true },
  // Ours.
  runtime: { type: 'string', help: 'Execution engine: auto|wasm|cpu|tensorflow (default auto)' },
  inference_threads: { type: 'int', help: 'Worker threads per model on the tfjs engines (default: one per core)' },
  bind_address: { type: 'string', help: 'Address both servers listen on (default 0.0.0.0)' },
  max_request_bytes: { type: 'int', help: 'Largest REST request body, after decompression (default 67108864)' },
  payload_log_max_file_bytes: { type: 'int', help: "logging_config: rotate a model's log file past this size (default 67108864)" },
  payload_log_max_files: { type: 'int', help: "logging_config: keep at most this many log files per model, deleting the oldest (default 10)" },
  payload_log_max_queue_bytes: { type: 'int', help: 'logging_config: records waiting for the disk beyond this are dropped and counted (default 16777216)' },
  payload_log_redact: { type: 'string', help: 'jsonl collector: comma-separated [model:]dotted.path fields replaced by "[REDACTED]" (* matches any key)' },
  tracing_otlp_endpoint: { type: 'string', help: 'OpenTelemetry tracing: OTLP endpoint (http://host:4318 or, with --tracing_otlp_protocol=grpc, host:4317); empty = off (default; or $OTEL_EXPORTER_OTLP_ENDPOINT)' },
  tracing_otlp_protocol: { type: 'string', help: 'OTLP transport: http/protobuf or grpc (default http/protobuf)' },
  tracing_sampling_rate: { type: 'float', help: 'Fraction of requests traced (parent-based: a sampled traceparent is always followed) (default 1)' },
  tracing_service_name: { type: 'string', help: 'service.name of the traces (default tfmodel-server)' },
  version: { type: 'bool', help: 'Print the version and exit' },
  help: { type: 'bool', help: 'Print this help and exit' },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

export interface ServerFlags {
  readonly port: number;
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
  readonly allowVersionLabelsForUnavailableModels: boolean;
  readonly monitoringConfigFile: string;
  readonly perProcessGpuMemoryFraction: number;
  readonly savedModelTags: string[];
  readonly enableModelWarmup: boolean;
  readonly numRequestIterationsForWarmup: number;
  readonly maxNumLoadRetries: number;
  readonly loadRetryIntervalMicros: number;
  readonly enableGrpcHealthcheckService: boolean;
  readonly sslConfigFile: string;
  readonly runtime: RuntimeSelection;
  readonly inferenceThreads: number;
  readonly bindAddress: string;
  readonly maxRequestBytes: number;
  /** Flags given that have no effect here (logged at start). */
  /** logging_config limits (ours). */
  readonly payloadLogMaxFileBytes: number;
  readonly payloadLogMaxFiles: number;
  readonly payloadLogMaxQueueBytes: number;
  readonly payloadLogRedact: string;
  /** OpenTelemetry tracing (ours); empty endpoint: off. */
  readonly tracingOtlpEndpoint: string;
  readonly tracingOtlpProtocol: 'http/protobuf' | 'grpc';
  readonly tracingSamplingRate: number;
  readonly tracingServiceName: string;
  readonly ignored: string[];
}

export type FlagsResult = { readonly kind: 'serve'; readonly flags: ServerFlags } | { readonly kind: 'help' | 'version' };

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Value = number | boolean | string;

/** Parses argv (without node and script) and the environment (MODEL_NAME, MODEL_BASE_PATH). */
export function parseServerFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): FlagsResult {
  const given = new Map<FlagName, Value>();
  for (const arg of argv) {
    const match = /^--?([A-Za-z0-9_]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new UsageError(`Unexpected argument "${arg}" (flags are written --name=value)`);
    const [, name, raw] = match as unknown as [string, string, string | undefined];
    if (!Object.hasOwn(FLAGS, name)) throw new UsageError(`Unknown command line flag '${name}'`);
    given.set(name as FlagName, parseValue(name as FlagName, raw));
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
    throw new UsageError('Both --model_base_path and --model_config_file are empty: nothing to serve (or set MODEL_NAME / MODEL_BASE_PATH)');
  }
  const port = get('port', 8500);
  const restApiPort = get('rest_api_port', 0);
  for (const [flag, value] of [['port', port], ['rest_api_port', restApiPort]] as const) {
    if (value < 0 || value > 65535) throw new UsageError(`Invalid value ${value} for --${flag}: not a port`);
  }
  if (restApiPort !== 0 && restApiPort === port) {
    throw new UsageError('--rest_api_port cannot be same as --port. Please use a different port for HTTP/REST API.');
  }
  const fraction = get('per_process_gpu_memory_fraction', 0);
  if (fraction < 0 || fraction > 1) throw new UsageError(`Invalid value ${fraction} for --per_process_gpu_memory_fraction: expected a fraction in [0, 1]`);
  const threads = get('inference_threads', availableParallelism());
  if (threads < 0) throw new UsageError(`Invalid value ${threads} for --inference_threads`);
  const tags = get<string>('saved_model_tags', 'serve').split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length === 0) throw new UsageError('--saved_model_tags is empty');
  const ignored = [...given.keys()].filter((name) => (FLAGS[name] as FlagSpec).ignored);
  const tracingProtocol = get<string>('tracing_otlp_protocol', 'http/protobuf');
  if (tracingProtocol !== 'http/protobuf' && tracingProtocol !== 'grpc') {
    throw new UsageError(`Invalid value "${tracingProtocol}" for --tracing_otlp_protocol: expected http/protobuf or grpc`);
  }
  const tracingRate = get('tracing_sampling_rate', 1);
  if (tracingRate < 0 || tracingRate > 1) throw new UsageError(`Invalid value ${tracingRate} for --tracing_sampling_rate: expected a fraction in [0, 1]`);

  return {
    kind: 'serve',
    flags: {
      port,
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
      allowVersionLabelsForUnavailableModels: get('allow_version_labels_for_unavailable_models', false),
      monitoringConfigFile: get('monitoring_config_file', ''),
      perProcessGpuMemoryFraction: fraction,
      savedModelTags: tags,
      enableModelWarmup: get('enable_model_warmup', true),
      numRequestIterationsForWarmup: positive('num_request_iterations_for_warmup', get('num_request_iterations_for_warmup', 1)),
      maxNumLoadRetries: nonNegative('max_num_load_retries', get('max_num_load_retries', 5)),
      loadRetryIntervalMicros: nonNegative('load_retry_interval_micros', get('load_retry_interval_micros', 60_000_000)),
      enableGrpcHealthcheckService: get('enable_grpc_healthcheck_service', false),
      sslConfigFile: get('ssl_config_file', ''),
      runtime,
      inferenceThreads: threads,
      bindAddress: get('bind_address', '0.0.0.0'),
      maxRequestBytes: positive('max_request_bytes', get('max_request_bytes', 64 * 1024 * 1024)),
      payloadLogMaxFileBytes: positive('payload_log_max_file_bytes', get('payload_log_max_file_bytes', 64 * 1024 * 1024)),
      payloadLogMaxFiles: positive('payload_log_max_files', get('payload_log_max_files', 10)),
      payloadLogMaxQueueBytes: positive('payload_log_max_queue_bytes', get('payload_log_max_queue_bytes', 16 * 1024 * 1024)),
      payloadLogRedact: get<string>('payload_log_redact', ''),
      tracingOtlpEndpoint: get<string>('tracing_otlp_endpoint', env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? ''),
      tracingOtlpProtocol: tracingProtocol,
      tracingSamplingRate: tracingRate,
      tracingServiceName: get<string>('tracing_service_name', env['OTEL_SERVICE_NAME'] || 'tfmodel-server'),
      ignored,
    },
  };
}

function parseValue(name: FlagName, raw: string | undefined): Value {
  const { type } = FLAGS[name] as FlagSpec;
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

export function usage(): string {
  const lines = Object.entries(FLAGS).map(([name, spec]) => `  --${name}=${(spec as FlagSpec).type}\t${spec.help}`);
  return ['usage: tfmodel-server --model_base_path=DIR [--model_name=NAME] | --model_config_file=FILE [flags]', '', 'Flags:', ...lines].join('\n');
}
