/**
 * Every flag tensorflow_model_server 2.21 defines (tensorflow_serving/model_servers/main.cc and
 * the defaults in server.h), with its type, default and meaning, and what tfmodel-server does with
 * it; then our own few. A flag marked `ignored` is accepted and logged once at start as having no
 * effect, with the reason. docs/flags.md is the same table for people (a test keeps them equal).
 */
import { availableParallelism } from 'node:os';

export type FlagType = 'int' | 'float' | 'bool' | 'string';

export interface FlagSpec {
  readonly type: FlagType;
  /** TF Serving's default, as --help prints it (computed ones in words). */
  readonly default: string;
  /** TF Serving's meaning (ours for our own flags). */
  readonly help: string;
  /** Accepted for compatibility but without effect here: why. */
  readonly ignored?: string;
  /** Not a TF Serving flag. */
  readonly ours?: true;
}

const NO_SESSION = 'there is no TensorFlow session here: the tfjs engines run a model per worker thread (see --inference_threads)';
/** Why the session thread flags do nothing on the tfjs engines (model-server.ts logs it when they run). */
export const NO_SESSION_THREADS = 'the tfjs engines have no TensorFlow session: they run a model per worker thread (see --inference_threads); these flags apply to the native engine';
const EVENT_LOOP = "Node serves every connection on one event loop; inference parallelism is --inference_threads";
const NO_TFLITE = 'no TFLite interpreter runs in Node here (see --prefer_tflite_model)';
const NO_XLA = 'tfjs has no XLA JIT; graphs run on the tfjs kernels';

export const FLAGS = {
  port: { type: 'int', default: '8500', help: 'TCP port to listen on for gRPC/HTTP API. Disabled if port set to zero.' },
  grpc_socket_path: {
    type: 'string',
    default: '""',
    help: 'If non-empty, listen to a UNIX socket for gRPC API on the given path. Can be either relative or absolute path.',
  },
  rest_api_port: {
    type: 'int',
    default: '0',
    help: 'Port to listen on for HTTP/REST API. If set to zero HTTP/REST API will not be exported. This port must be different than the one specified in --port.',
  },
  rest_api_num_threads: { type: 'int', default: '4 x CPUs', help: 'Number of threads for HTTP/REST API processing.', ignored: EVENT_LOOP },
  rest_api_timeout_in_ms: { type: 'int', default: '30000', help: 'Timeout for HTTP/REST API calls.' },
  rest_api_enable_cors_support: { type: 'bool', default: 'false', help: 'Enable CORS headers in response' },
  enable_batching: { type: 'bool', default: 'false', help: 'enable batching' },
  allow_version_labels_for_unavailable_models: {
    type: 'bool',
    default: 'false',
    help: 'If true, allows assigning unused version labels to models that are not available yet.',
  },
  batching_parameters_file: {
    type: 'string',
    default: '""',
    help: 'If non-empty, read an ascii BatchingParameters protobuf from the supplied file name and use the contained values instead of the defaults.',
  },
  enable_per_model_batching_parameters: {
    type: 'bool',
    default: 'false',
    help: 'Read batching params from batching_params.pbtxt in the version directory of each model (models without one are not batched); only the thread pool of --batching_parameters_file is shared. Needs --enable_batching.',
  },
  model_config_file: {
    type: 'string',
    default: '""',
    help: 'If non-empty, read an ascii ModelServerConfig protobuf from the supplied file name, and serve the models in that file. (If used, --model_name, --model_base_path are ignored.)',
  },
  model_config_file_poll_wait_seconds: {
    type: 'int',
    default: '0',
    help: 'Interval in seconds between each poll of the filesystem for model_config_file. If unset or set to zero, poll will be done exactly once and not periodically.',
  },
  model_name: { type: 'string', default: '"default"', help: 'name of model (ignored if --model_config_file flag is set)' },
  model_base_path: { type: 'string', default: '""', help: 'path to export (ignored if --model_config_file flag is set, otherwise required)' },
  num_load_threads: {
    type: 'int',
    default: '0',
    help: 'The number of threads in the thread-pool used to load servables. If set as 0, servable loads are performed serially.',
  },
  num_unload_threads: {
    type: 'int',
    default: '0',
    help: 'The number of threads in the thread-pool used to unload servables. If set as 0, unloads are performed serially.',
  },
  max_num_load_retries: {
    type: 'int',
    default: '5',
    help: 'maximum number of times it retries loading a model after the first failure, before giving up. If set to 0, a load is attempted only once.',
  },
  load_retry_interval_micros: {
    type: 'int',
    default: '60000000',
    help: "The interval, in microseconds, between each servable load retry. If set negative, it doesn't wait.",
  },
  file_system_poll_wait_seconds: {
    type: 'int',
    default: '1',
    help: 'Interval in seconds between each poll of the filesystem for new model version. If set to zero poll will be exactly done once and not periodically. Negative disables polling entirely (the server waits for a model forever).',
  },
  flush_filesystem_caches: {
    type: 'bool',
    default: 'true',
    help: 'Flush filesystem caches after the initial load of all servables.',
    ignored: 'TensorFlow flushes its own file system caches (GCS, S3 block caches); Node keeps none to flush',
  },
  tensorflow_session_parallelism: { type: 'int', default: '0', help: 'Number of threads to use for running a Tensorflow session.' },
  tensorflow_session_config_file: {
    type: 'string',
    default: '""',
    help: 'If non-empty, read an ascii TensorFlow Session ConfigProto protobuf from the supplied file name.',
    ignored: NO_SESSION,
  },
  tensorflow_intra_op_parallelism: { type: 'int', default: '0', help: 'Number of threads to use to parallelize the execution of an individual op.' },
  tensorflow_inter_op_parallelism: { type: 'int', default: '0', help: 'Controls the number of operators that can be executed simultaneously.' },
  use_alts_credentials: {
    type: 'bool',
    default: 'false',
    help: 'Use Google ALTS credentials. Here: refused at start (grpc-js has no ALTS); never served in plaintext instead.',
  },
  ssl_config_file: {
    type: 'string',
    default: '""',
    help: 'If non-empty, read an ascii SSLConfig protobuf from the supplied file name and set up a secure gRPC channel',
  },
  platform_config_file: {
    type: 'string',
    default: '""',
    help: 'If non-empty, read an ascii PlatformConfigMap protobuf from the supplied file name, and use that platform config instead of the Tensorflow platform.',
    ignored: 'a PlatformConfigMap configures TensorFlow C++ session bundles; use --enable_batching, --batching_parameters_file and --saved_model_tags',
  },
  per_process_gpu_memory_fraction: {
    type: 'float',
    default: '0',
    help: 'Fraction that each process occupies of the GPU memory space, between 0.0 and 1.0 (0.0: TensorFlow selects). Here: native runtime only; allow-growth, the cap left to the GPU sharing backend.',
  },
  saved_model_tags: { type: 'string', default: '"serve"', help: 'Comma-separated set of tags corresponding to the meta graph def to load from SavedModel.' },
  grpc_channel_arguments: {
    type: 'string',
    default: '""',
    help: 'A comma separated list of arguments to be passed to the grpc server. (e.g. grpc.max_connection_age_ms=2000)',
  },
  grpc_max_threads: { type: 'int', default: '4 x CPUs', help: 'Max grpc server threads to handle grpc messages.', ignored: EVENT_LOOP },
  enable_model_warmup: {
    type: 'bool',
    default: 'true',
    help: 'Enables model warmup, which triggers lazy initializations (such as TF optimizations) at load time, to reduce first request latency.',
  },
  num_request_iterations_for_warmup: {
    type: 'int',
    default: '0',
    help: 'Number of times a request is iterated during warmup replay. This value is used only if > 0 (else once).',
  },
  version: { type: 'bool', default: 'false', help: 'Display version' },
  monitoring_config_file: { type: 'string', default: '""', help: 'If non-empty, read an ascii MonitoringConfig protobuf from the supplied file name' },
  remove_unused_fields_from_bundle_metagraph: {
    type: 'bool',
    default: 'true',
    help: 'Removes unused fields from MetaGraphDef proto message to save memory (only signature_def is kept).',
  },
  prefer_tflite_model: {
    type: 'bool',
    default: 'false',
    help: 'EXPERIMENTAL. Prefer TensorFlow Lite model from `model.tflite` in the version directory over saved_model.pb; without one, fall back to the SavedModel. Here: a version with model.tflite fails to load with UNIMPLEMENTED (no TFLite interpreter runs in Node).',
  },
  num_tflite_pools: { type: 'int', default: 'CPUs', help: 'EXPERIMENTAL. Number of TFLite interpreter pools of a TfLiteSession.', ignored: NO_TFLITE },
  num_tflite_interpreters_per_pool: { type: 'int', default: '1', help: 'EXPERIMENTAL. Number of TFLite interpreters in an interpreter pool.', ignored: NO_TFLITE },
  enable_signature_method_name_check: {
    type: 'bool',
    default: 'false',
    help: 'Enable method_name check for SignatureDef. Disable this if serving native TF2 regression/classification models.',
  },
  xla_cpu_compilation_enabled: { type: 'bool', default: 'false', help: 'EXPERIMENTAL. Enable XLA:CPU JIT.', ignored: NO_XLA },
  xla_gpu_compilation_enabled: { type: 'bool', default: 'false', help: 'EXPERIMENTAL. Enable both XLA:CPU JIT and XLA:GPU JIT.', ignored: NO_XLA },
  enable_profiler: { type: 'bool', default: 'true', help: 'Enable profiler service (tensorflow.ProfilerService on the gRPC port).' },
  thread_pool_factory_config_file: {
    type: 'string',
    default: '""',
    help: 'If non-empty, read an ascii ThreadPoolConfig protobuf from the supplied file name.',
    ignored: `its thread pools are TensorFlow's inter/intra-op pools; ${NO_SESSION}`,
  },
  mixed_precision: {
    type: 'string',
    default: '""',
    help: 'specify mixed_precision mode (bfloat16)',
    ignored: 'bfloat16 auto mixed precision is a TensorFlow (oneDNN) graph rewrite; the tfjs engines compute in float32',
  },
  skip_initialize_tpu: { type: 'bool', default: 'false', help: 'Whether to skip auto initializing TPU.', ignored: 'no TPU support' },
  enable_grpc_healthcheck_service: { type: 'bool', default: 'false', help: 'Enable the standard gRPC healthcheck service.' },
  enable_serialization_as_tensor_content: {
    type: 'bool',
    default: 'false',
    help: 'Enable serialization of predict response as tensor content.',
  },
  // Ours.
  runtime: { type: 'string', default: 'auto', help: 'Execution engine: auto|wasm|cpu|tensorflow', ours: true },
  inference_threads: { type: 'int', default: 'CPUs', help: 'Worker threads per model on the tfjs engines', ours: true },
  bind_address: { type: 'string', default: '0.0.0.0', help: 'Address the gRPC and REST ports listen on', ours: true },
  max_concurrent_load_bytes: {
    type: 'int',
    default: '0',
    help: 'Model loads run at once only while their estimated footprints (weights on disk x engine instances) add up to at most this (one larger load still runs, alone); 0: a quarter of the memory available (the cgroup limit, else physical memory)',
    ours: true,
  },
  model_memory_budget_bytes: {
    type: 'int',
    default: '0',
    help: 'What all loaded model versions together may hold by their estimated footprints: a reload that would not fit beside the old version unloads the old one first (resource-preserving order), or waits while a label still names it (docs/memory.md); 0: 80% of the memory available (the cgroup limit, else physical memory); -1: no memory check (TF Serving\'s behaviour)',
    ours: true,
  },
  model_cache_dir: {
    type: 'string',
    default: '$TMPDIR/tfmodel-model-cache',
    help: 'Where versions of s3://, gs://, az:// and https:// archive models are downloaded to before loading (each complete version renamed into place)',
    ours: true,
  },
  model_cache_max_bytes: {
    type: 'int',
    default: '10737418240',
    help: 'Bound of --model_cache_dir: the least recently used versions no model still aspires are deleted to make room',
    ours: true,
  },
  max_request_bytes: { type: 'int', default: '67108864', help: 'Largest REST request body, after decompression (413 beyond)', ours: true },
  admin_token_file: { type: 'string', default: '', help: 'File holding a token that model management (HandleReloadConfigRequest, repository load/unload) requires as "authorization: Bearer <token>"; empty: open, as TF Serving', ours: true },
  max_inflight_request_bytes: { type: 'int', default: '268435456', help: 'Request bytes all REST and gRPC calls in flight may hold together; beyond, 429 / RESOURCE_EXHAUSTED (one request is always admitted; 0: no limit)', ours: true },
  rest_json_threads: { type: 'int', default: 'min(4, CPUs - 1), at least 1', help: 'Worker threads that parse and convert big REST predict bodies and write big responses, off the event loop that answers probes (0: all on the event loop)', ours: true },
  rest_json_offload_bytes: { type: 'int', default: '16384', help: 'REST predict bodies (and responses of about) this many bytes and more go to the JSON worker threads; smaller ones stay on the event loop', ours: true },
  grpc_offload_bytes: { type: 'int', default: '65536', help: 'gRPC Predict and ModelInfer requests (and Predict responses of about) this many bytes and more are decoded, converted and encoded in the --rest_json_threads worker threads; smaller ones on the event loop', ours: true },
  payload_log_max_file_bytes: { type: 'int', default: '67108864', help: "logging_config: a model's log file is rotated past this size", ours: true },
  payload_log_max_files: { type: 'int', default: '10', help: 'logging_config: log files kept per model (the oldest are deleted)', ours: true },
  payload_log_max_queue_bytes: { type: 'int', default: '16777216', help: 'logging_config: records waiting for the disk beyond this are dropped and counted', ours: true },
  payload_log_redact: { type: 'string', default: '', help: 'jsonl log collector: comma-separated [model:]dotted.path fields replaced by "[REDACTED]" (* matches any key)', ours: true },
  routing_config_file: {
    type: 'string',
    default: '',
    help: 'Routing config (JSON: weighted labels, sticky request key, shadow; docs/routing.md), re-read every --model_config_file_poll_wait_seconds; also GET|PUT /tfmodel/routing',
    ours: true,
  },
  shadow_max_queued: { type: 'int', default: '64', help: 'Shadow copies waiting to run beyond this are dropped and counted (tfmodel_shadow_requests_total{outcome="dropped"})', ours: true },
  shadow_concurrency: { type: 'int', default: '1', help: 'Shadow runs (batches of queued copies) at once', ours: true },
  shadow_max_batch_rows: { type: 'int', default: '32', help: 'Rows one shadow run stacks from the queued copies of one shadow (1: one run per copy, for models whose rows are not independent)', ours: true },
  shadow_batch_timeout_micros: { type: 'int', default: '10000', help: 'How long the oldest queued shadow copy waits for others to join its run, unless a full batch of rows is queued (0: the next event-loop turn)', ours: true },
  tracing_otlp_endpoint: { type: 'string', default: '', help: 'OpenTelemetry tracing to this OTLP endpoint (http://host:4318; host:4317 with grpc); empty: off (or $OTEL_EXPORTER_OTLP_ENDPOINT)', ours: true },
  tracing_otlp_protocol: { type: 'string', default: 'http/protobuf', help: 'OTLP transport: http/protobuf or grpc', ours: true },
  tracing_sampling_rate: { type: 'float', default: '1', help: "Fraction of requests traced (a caller's sampled traceparent is always followed)", ours: true },
  tracing_service_name: { type: 'string', default: 'tfmodel-server', help: 'service.name of the traces (or $OTEL_SERVICE_NAME)', ours: true },
  help: { type: 'bool', default: 'false', help: 'Print this help and exit', ours: true },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

export const flagSpec = (name: FlagName): FlagSpec => FLAGS[name];

/** The --help text: TF Serving's flags first, then ours. */
export function usage(): string {
  const line = ([name, spec]: [string, FlagSpec]): string =>
    `  --${name}=${spec.type}\tdefault: ${spec.default}\t${spec.help}${spec.ignored ? ` [accepted, no effect here: ${spec.ignored}]` : ''}`;
  const entries = Object.entries(FLAGS) as Array<[string, FlagSpec]>;
  return [
    'usage: tfmodel-server --model_base_path=DIR [--model_name=NAME] | --model_config_file=FILE [flags]',
    '',
    `Flags of tensorflow_model_server (machine: ${availableParallelism()} CPUs):`,
    ...entries.filter(([, s]) => !s.ours).map(line),
    '',
    'Flags of tfmodel-server:',
    ...entries.filter(([, s]) => s.ours).map(line),
  ].join('\n');
}
