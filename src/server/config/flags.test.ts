import assert from 'node:assert/strict';
import { type ServerFlags, UsageError, parseServerFlags } from './flags.js';

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
    assert.equal(f.numRequestIterationsForWarmup, 1);
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
    usageError(['--model_base_path=/m', '--rest_api_port=8500'], /cannot be same as --port/);
    usageError(['--model_base_path=/m', '--per_process_gpu_memory_fraction=1.5'], /fraction/);
    usageError(['model_base_path=/m'], /Unexpected argument/);
    usageError([], /nothing to serve/);
  });

  it('answers --help and --version, and lists flags that have no effect', () => {
    assert.equal(parseServerFlags(['--help']).kind, 'help');
    assert.equal(parseServerFlags(['--version']).kind, 'version');
    assert.deepEqual(serve(['--model_base_path=/m', '--rest_api_num_threads=8']).ignored, ['rest_api_num_threads']);
  });
});
