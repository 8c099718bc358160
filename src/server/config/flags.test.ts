import assert from 'node:assert/strict';
import { FLAGS, type ServerFlags, UsageError, parseServerFlags, usage } from './flags.js';

function serve(argv: string[], env: Record<string, string> = {}): ServerFlags {
  const result = parseServerFlags(argv, env);
  assert.equal(result.kind, 'serve');
  return (result as { flags: ServerFlags }).flags;
}

describe('tfmodel-server flags', () => {
  it("uses tensorflow_model_server's defaults", () => {
    const f = serve(['--model_base_path=/models/m']);
    assert.equal(f.port, 8500);
    assert.equal(f.restApiPort, 0);
    assert.equal(f.restApiTimeoutMs, 30000);
    assert.equal(f.modelName, 'default');
    assert.equal(f.fileSystemPollSeconds, 1);
    assert.equal(f.modelConfigFilePollSeconds, 0);
    assert.equal(f.maxNumLoadRetries, 5);
    assert.equal(f.loadRetryIntervalMicros, 60_000_000);
    assert.equal(f.enableModelWarmup, true);
    assert.equal(f.numRequestIterationsForWarmup, 1, 'TF Serving 0 = "not set": replay once');
    assert.equal(f.enableSignatureMethodNameCheck, false);
    assert.equal(f.removeUnusedFieldsFromBundleMetagraph, true);
    assert.equal(f.enableProfiler, true);
    assert.equal(f.preferTfliteModel, false);
    assert.equal(f.grpcSocketPath, '');
    assert.deepEqual(f.grpcChannelArguments, []);
    assert.deepEqual(f.savedModelTags, ['serve']);
    assert.equal(f.runtime, 'auto');
    assert.equal(f.enableBatching, false);
  });

  it('parses --name=value, bare booleans and --name=false', () => {
    const f = serve([
      '--port=9000', '--rest_api_port=9001', '--model_name=m', '--model_base_path=/m', '--enable_batching',
      '--enable_model_warmup=false', '--saved_model_tags=serve,gpu', '--per_process_gpu_memory_fraction=0.25', '--runtime=wasm',
    ]);
    assert.deepEqual([f.port, f.restApiPort, f.modelName, f.enableBatching, f.enableModelWarmup], [9000, 9001, 'm', true, false]);
    assert.deepEqual(f.savedModelTags, ['serve', 'gpu']);
    assert.equal(f.perProcessGpuMemoryFraction, 0.25);
    assert.equal(f.runtime, 'wasm');
  });

  it("maps the session thread flags by TF Serving's rule", () => {
    const threads = (args: string[]) => serve(['--model_base_path=/m', ...args]).sessionThreads;
    assert.deepEqual(threads([]), { intraOpThreads: 0, interOpThreads: 0, given: [] });
    assert.deepEqual(threads(['--tensorflow_session_parallelism=3']), {
      intraOpThreads: 3, interOpThreads: 3, given: [{ flag: 'tensorflow_session_parallelism', value: 3 }],
    });
    // intra/inter win over session_parallelism when either is set
    assert.deepEqual(threads(['--tensorflow_inter_op_parallelism=1', '--tensorflow_session_parallelism=4']), {
      intraOpThreads: 0, interOpThreads: 1,
      given: [{ flag: 'tensorflow_inter_op_parallelism', value: 1 }, { flag: 'tensorflow_session_parallelism', value: 4 }],
    });
    assert.throws(() => threads(['--tensorflow_intra_op_parallelism=-1']), /must not be negative/);
  });

  it('falls back to MODEL_NAME and MODEL_BASE_PATH like the TF Serving image', () => {
    const f = serve([], { MODEL_NAME: 'resnet' });
    assert.equal(f.modelName, 'resnet');
    assert.equal(f.modelBasePath, '/models/resnet');
    assert.equal(serve([], { MODEL_BASE_PATH: '/data/' }).modelBasePath, '/data/model');
  });

  it('refuses unknown flags, bad values and nothing to serve with a usage error', () => {
    const usageError = (argv: string[], pattern: RegExp) =>
      assert.throws(() => parseServerFlags(argv), (e) => e instanceof UsageError && pattern.test(e.message));
    usageError(['--model_base_path=/m', '--nope=1'], /Unknown command line flag 'nope'/);
    usageError(['--model_base_path=/m', '--port=abc'], /Invalid value "abc" for --port/);
    usageError(['--model_base_path=/m', '--port=70000'], /not a port/);
    usageError(['--model_base_path=/m', '--enable_batching=maybe'], /expected true or false/);
    usageError(['--model_base_path=/m', '--runtime=gpu'], /--runtime/);
    usageError(['--model_base_path=/m', '--port=0'], /At least one of server_options.grpc_port or server_options.grpc_socket_path must be set/);
    usageError(['--model_base_path=/m', '--use_alts_credentials', '--ssl_config_file=/s'], /Either use_alts_credentials must be false/);
    usageError(
      ['--model_base_path=/m', '--tensorflow_session_parallelism=2', '--tensorflow_intra_op_parallelism=2', '--tensorflow_inter_op_parallelism=2'],
      /You cannot configure all/,
    );
    usageError(['--model_base_path=/m', '--grpc_channel_arguments=novalue'], /expected key=value/);
    usageError(['--model_base_path=/m', '--per_process_gpu_memory_fraction=1.5'], /fraction/);
    usageError(['model_base_path=/m'], /Unexpected argument/);
    usageError([], /Both server_options.model_base_path and server_options.model_config_file are empty!/);
  });

  it('answers --help and --version, and lists flags that have no effect', () => {
    assert.equal(parseServerFlags(['--help']).kind, 'help');
    assert.equal(parseServerFlags(['--version']).kind, 'version');
    const ignored = serve(['--model_base_path=/m', '--rest_api_num_threads=8', '--xla_cpu_compilation_enabled', '--port=1']).ignored;
    assert.deepEqual(ignored.map((i) => [i.flag, i.value]), [['rest_api_num_threads', '8'], ['xla_cpu_compilation_enabled', 'true']]);
    assert.ok(ignored.every((i) => i.reason.length > 10), 'each ignored flag says why');
  });

  it('accepts every flag tensorflow_model_server 2.21 defines, with its type', () => {
    // The names and types of main.cc's flag_list (tensorflow/serving 2.21).
    const tfServing: Record<string, string> = {
      port: 'int', grpc_socket_path: 'string', rest_api_port: 'int', rest_api_num_threads: 'int', rest_api_timeout_in_ms: 'int',
      rest_api_enable_cors_support: 'bool', enable_batching: 'bool', allow_version_labels_for_unavailable_models: 'bool',
      batching_parameters_file: 'string', enable_per_model_batching_parameters: 'bool', model_config_file: 'string',
      model_config_file_poll_wait_seconds: 'int', model_name: 'string', model_base_path: 'string', num_load_threads: 'int',
      num_unload_threads: 'int', max_num_load_retries: 'int', load_retry_interval_micros: 'int', file_system_poll_wait_seconds: 'int',
      flush_filesystem_caches: 'bool', tensorflow_session_parallelism: 'int', tensorflow_session_config_file: 'string',
      tensorflow_intra_op_parallelism: 'int', tensorflow_inter_op_parallelism: 'int', use_alts_credentials: 'bool',
      ssl_config_file: 'string', platform_config_file: 'string', per_process_gpu_memory_fraction: 'float', saved_model_tags: 'string',
      grpc_channel_arguments: 'string', grpc_max_threads: 'int', enable_model_warmup: 'bool', num_request_iterations_for_warmup: 'int',
      version: 'bool', monitoring_config_file: 'string', remove_unused_fields_from_bundle_metagraph: 'bool', prefer_tflite_model: 'bool',
      num_tflite_pools: 'int', num_tflite_interpreters_per_pool: 'int', enable_signature_method_name_check: 'bool',
      xla_cpu_compilation_enabled: 'bool', xla_gpu_compilation_enabled: 'bool', enable_profiler: 'bool',
      thread_pool_factory_config_file: 'string', mixed_precision: 'string', skip_initialize_tpu: 'bool',
      enable_grpc_healthcheck_service: 'bool', enable_serialization_as_tensor_content: 'bool',
    };
    for (const [name, type] of Object.entries(tfServing)) {
      assert.equal((FLAGS as Record<string, { type: string }>)[name]?.type, type, name);
      const value = type === 'bool' ? 'false' : name === 'grpc_channel_arguments' ? 'grpc.max_connection_age_ms=1' : type === 'string' ? 'x' : '1';
      assert.equal(parseServerFlags(['--model_base_path=/m', `--${name}=${value}`]).kind, 'serve', name);
    }
    const help = usage();
    for (const name of Object.keys(FLAGS)) assert.match(help, new RegExp(`--${name}=`), `--help lists ${name}`);
  });

  it('reads --grpc_channel_arguments as TF Serving does: ints where they parse, else strings', () => {
    const f = serve(['--model_base_path=/m', '--grpc_channel_arguments=grpc.max_connection_age_ms=2000,grpc.lb_policy_name=grpclb']);
    assert.deepEqual(f.grpcChannelArguments, [['grpc.max_connection_age_ms', 2000], ['grpc.lb_policy_name', 'grpclb']]);
  });

  it('serves gRPC on a UNIX socket only with --port=0 --grpc_socket_path', () => {
    const f = serve(['--model_base_path=/m', '--port=0', '--grpc_socket_path=/tmp/x.sock']);
    assert.deepEqual([f.port, f.grpcSocketPath], [0, '/tmp/x.sock']);
  });

  it('takes a negative --load_retry_interval_micros (no wait) and 0 warmup iterations (once)', () => {
    const f = serve(['--model_base_path=/m', '--load_retry_interval_micros=-1', '--num_request_iterations_for_warmup=0']);
    assert.deepEqual([f.loadRetryIntervalMicros, f.numRequestIterationsForWarmup], [-1, 1]);
  });
});
