/**
 * Conformance with tensorflow_model_server, black-box: the real tfmodel-server binary started with
 * the command lines of TF Serving's own integration test (tensorflow_model_server_test.py and its
 * RunServer: --port, --rest_api_port, --grpc_socket_path, --grpc_channel_arguments, ...), driven
 * by TF Serving's Python client (tensorflow-serving-api) over TCP and a UNIX socket, curl for
 * REST, and TensorFlow's profiler client. Every expected answer is the one TF Serving's test or
 * source states (cited at each check), never our own output.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TF_SERVING_TESTDATA, itWithSharedModels } from '../support/shared-savedmodels.js';
import { requirePrerequisite } from '../support/prerequisites.js';
import { REPO_ROOT } from '../support/corpus.js';
import { SERVER_MAIN, ServerProcess } from '../support/server-process.js';
import { TEST_MODELS, servingTestModels } from '../support/test-models.js';
import { oraclePython } from '../support/tf-oracle.js';
import { type Call, type CallResult, PROFILE_SCRIPT, type RunServerOptions, type RunningTfServer, curl, pythonClient, runServerArgs, startTfServer, verifyPredictCall } from './support.js';

const MODELS = servingTestModels();
const TFLITE_MODEL = join(TEST_MODELS, 'half_plus_two_tflite');
const VERSION = 123;

interface PredictReply { model_spec: { name: string; version: number; signature_name: string }; outputs: Record<string, { dtype: string; values: number[] }>; encodings: Record<string, string> }

describe('conformance with tensorflow_model_server (TF Serving test command lines, real clients)', function () {
  this.timeout(180_000);
  const { python, skipReason } = oraclePython();
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-conformance-'));
  const running: ServerProcess[] = [];
  let sockets = 0;

  before(function () {
    if (skipReason) {
      console.warn(`skipping: ${skipReason}`);
      this.skip();
    }
  });
  afterEach(async () => {
    for (const server of running.splice(0)) await server.stop('SIGKILL');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const socketPath = (): string => join(root, `grpc-${++sockets}.sock`);
  const run = async (options: RunServerOptions): Promise<RunningTfServer> => {
    const server = startTfServer(socketPath(), options);
    running.push(server.process);
    await server.process.waitFor((e) => e.event === 'serving');
    return server;
  };
  const client = (address: string, calls: Call[]): Promise<Map<string, CallResult>> => pythonClient(python!, address, calls);
  const ok = <T>(results: Map<string, CallResult>, id: string): T => {
    const r = results.get(id)!;
    assert.equal(r.error, undefined, `${id}: ${JSON.stringify(r.error)}`);
    return r.response as T;
  };
  /** TF Serving's VerifyPredictRequest: y == expected (float), model spec name/signature/version. */
  const verifyPredict = (reply: PredictReply, expected: number, model = 'default', signature = 'serving_default'): void => {
    assert.equal(reply.outputs['y']!.dtype, 'float32');
    assert.deepEqual(reply.outputs['y']!.values, [expected]);
    assert.deepEqual(reply.model_spec, { name: model, version: VERSION, signature_name: signature });
  };

  it('opens its ports only once the initial models are AVAILABLE (ServerCore::Create before BuildAndStart listens)', async () => {
    const { args, restPort, grpcPort } = runServerArgs(socketPath(), { modelPath: MODELS.halfPlusTwo });
    const server = ServerProcess.start(['--inference_threads=0', ...args]);
    running.push(server);
    // The first moment the REST port accepts a connection, the model must already be served.
    while (!(await canConnect(restPort))) await new Promise((r) => setTimeout(r, 5));
    const status = await curl(`http://127.0.0.1:${restPort}/v1/models/default`);
    assert.deepEqual(JSON.parse(status.body), { model_version_status: [{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    assert.ok(await canConnect(grpcPort));
    const order = server.events.map((e) => e.event).filter((e) => ['version_available', 'grpc_listening', 'rest_listening'].includes(e));
    assert.deepEqual(order, ['version_available', 'grpc_listening', 'grpc_listening', 'rest_listening']);
    // TF Serving's WaitForServerReady probe: a Predict for a missing model names the servable.
    const probe = await client(`127.0.0.1:${grpcPort}`, [{ id: 'missing', rpc: 'Predict', spec: { name: 'intentionally_missing_model' }, inputs: {} }]);
    assert.match(probe.get('missing')!.error!.details, /Servable/);
  });

  it('refuses to start when an initial model cannot load, as ConnectSourcesWithFastInitialLoad does', async () => {
    const base = join(root, 'broken');
    mkdirSync(join(base, '123'), { recursive: true });
    writeFileSync(join(base, '123', 'saved_model.pb'), 'not a protobuf');
    const { args, restPort } = runServerArgs(socketPath(), { modelPath: base, extra: ['--max_num_load_retries=0'] });
    const server = ServerProcess.start(args);
    running.push(server);
    assert.notEqual(await server.exited(), 0);
    assert.match(server.stdout.join(''), /^Failed to start server\. Error: UNKNOWN: 1 servable\(s\) did not become available: \{\{\{name: default version: 123\} due to error: DATA_LOSS: .+\}, \}\n$/);
    assert.equal(await canConnect(restPort), false, 'no port was ever opened');
  });

  it('testGetModelStatus / testGetModelMetadata over gRPC', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo });
    const results = await client(server.grpc, [
      { id: 'status', rpc: 'GetModelStatus', spec: { name: 'default' } },
      { id: 'metadata', rpc: 'GetModelMetadata', spec: { name: 'default' }, metadata_field: ['signature_def'] },
    ]);
    assert.deepEqual(ok(results, 'status'), [{ version: 123, state: 'AVAILABLE', error_code: 0, error_message: '' }]);
    const metadata = ok<{ model_spec: { name: string; version: number }; type_url: string; signature_def: { signature_def: Record<string, unknown> } }>(results, 'metadata');
    assert.deepEqual([metadata.model_spec.name, metadata.model_spec.version], ['default', VERSION]);
    assert.equal(metadata.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    assert.ok('serving_default' in metadata.signature_def.signature_def);
  });

  for (const [label, path] of [['TF1', MODELS.halfPlusTwo], ['TF2', MODELS.halfPlusTwoTf2]] as const) {
    it(`testClassify / testRegress / testMultiInference${label === 'TF2' ? 'Tf2' : ''} (${label} model, default --enable_signature_method_name_check=false)`, async () => {
      const server = await run({ modelPath: path });
      const examples = [{ x: { float: [2.0] } }];
      const results = await client(server.grpc, [
        { id: 'classify', rpc: 'Classify', spec: { name: 'default', signature_name: 'classify_x_to_y' }, examples },
        { id: 'regress', rpc: 'Regress', spec: { name: 'default', signature_name: 'regress_x_to_y' }, examples },
        {
          id: 'multi',
          rpc: 'MultiInference',
          tasks: [
            { spec: { name: 'default', signature_name: 'regress_x_to_y' }, method_name: 'tensorflow/serving/regress' },
            { spec: { name: 'default', signature_name: 'classify_x_to_y' }, method_name: 'tensorflow/serving/classify' },
          ],
          examples,
        },
      ]);
      const classified = ok<{ model_spec: unknown; classifications: Array<Array<{ score: number }>> }>(results, 'classify');
      assert.equal(classified.classifications.length, 1);
      assert.equal(classified.classifications[0]!.length, 1);
      assert.equal(classified.classifications[0]![0]!.score, 3.0);
      assert.deepEqual(classified.model_spec, { name: 'default', version: VERSION, signature_name: 'classify_x_to_y' });
      const regressed = ok<{ model_spec: unknown; regressions: number[] }>(results, 'regress');
      assert.deepEqual(regressed.regressions, [3.0]);
      assert.deepEqual(regressed.model_spec, { name: 'default', version: VERSION, signature_name: 'regress_x_to_y' });
      const multi = ok<{ results: Array<{ model_spec: unknown; regressions?: number[]; classifications?: Array<Array<{ score: number }>> }> }>(results, 'multi');
      assert.equal(multi.results.length, 2);
      assert.deepEqual(multi.results[0]!.regressions, [3.0]);
      assert.equal(multi.results[1]!.classifications![0]![0]!.score, 3.0);
      assert.deepEqual(multi.results.map((r) => r.model_spec), [
        { name: 'default', version: VERSION, signature_name: 'regress_x_to_y' },
        { name: 'default', version: VERSION, signature_name: 'classify_x_to_y' },
      ]);
    });
  }

  it('--enable_signature_method_name_check=true refuses Classify on a TF2 signature recorded as predict (classifier.cc)', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwoTf2, extra: ['--enable_signature_method_name_check=true'] });
    const results = await client(server.grpc, [
      { id: 'classify', rpc: 'Classify', spec: { name: 'default', signature_name: 'classify_x_to_y' }, examples: [{ x: { float: [2.0] } }] },
      { id: 'regress', rpc: 'Regress', spec: { name: 'default', signature_name: 'regress_x_to_y' }, examples: [{ x: { float: [2.0] } }] },
    ]);
    assert.deepEqual(results.get('classify')!.error, {
      code: 'INVALID_ARGUMENT',
      details: 'Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict',
    });
    assert.deepEqual(results.get('regress')!.error, {
      code: 'INVALID_ARGUMENT',
      details: 'Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict',
    });
  });

  it('testPredictSavedModel over TCP and testPredictUDS over --grpc_socket_path', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo });
    for (const address of [server.grpc, server.uds]) {
      const results = await client(address, [verifyPredictCall('filtered'), verifyPredictCall('all', 'default', 'serving_default', false)]);
      verifyPredict(ok(results, 'filtered'), 3.0);
      verifyPredict(ok(results, 'all'), 3.0);
      assert.deepEqual(ok<PredictReply>(results, 'all').encodings, { y: 'typed' }, 'AsProtoField by default');
    }
  });

  it('--enable_serialization_as_tensor_content answers Predict outputs in tensor_content', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo, extra: ['--enable_serialization_as_tensor_content=true'] });
    const reply = ok<PredictReply>(await client(server.grpc, [verifyPredictCall('p')]), 'p');
    assert.deepEqual(reply.encodings, { y: 'tensor_content' });
    assert.deepEqual(reply.outputs['y']!.values, [3.0]);
  });

  it('testGoodModelConfig: two models from --model_config_file', async () => {
    const config = join(root, 'good_model_config.conf');
    writeFileSync(config, goodModelConfig());
    const server = await run({ modelConfigFile: config });
    const results = await client(server.grpc, [
      verifyPredictCall('two', 'half_plus_two'),
      verifyPredictCall('two-all', 'half_plus_two', 'serving_default', false),
      verifyPredictCall('three', 'half_plus_three'),
      verifyPredictCall('three-all', 'half_plus_three', 'serving_default', false),
    ]);
    verifyPredict(ok(results, 'two'), 3.0, 'half_plus_two');
    verifyPredict(ok(results, 'two-all'), 3.0, 'half_plus_two');
    verifyPredict(ok(results, 'three'), 4.0, 'half_plus_three');
    verifyPredict(ok(results, 'three-all'), 4.0, 'half_plus_three');
  });

  it("testBadModelConfig: protobuf's text-format error on stderr, worded and located as C++ protobuf (protoc) reports it", async function () {
    const protoc = requirePrerequisite('protoc (C++ protobuf)', 'install Debian package protobuf-compiler', () => execFileSync('protoc', ['--version'], { encoding: 'utf8' }));
    const bad = join(root, 'bad.config');
    // A typo'd field on line 4: what protobuf reports comes from C++ TextFormat itself (protoc).
    const text = 'model_config_list {\n  config {\n    name: "m"\n    base_pathh: "/m"\n  }\n}\n';
    writeFileSync(bad, text);
    const { args } = runServerArgs(socketPath(), { modelConfigFile: bad });
    const result = await promisify(execFile)(process.execPath, [SERVER_MAIN, ...args]).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes('Error parsing text-format tensorflow.serving.ModelServerConfig'), 'the string TF Serving\'s testBadModelConfig looks for');
    assert.equal(result.stdout, `Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '${bad}'\n`);
    if (protoc.skipReason) {
      console.warn(`not comparing with protoc: ${protoc.skipReason}`);
      return;
    }
    const cppMessage = protocTextFormatError(text);
    assert.ok(
      result.stderr.split('\n').includes(`Error parsing text-format tensorflow.serving.ModelServerConfig: ${cppMessage}`),
      `stderr has C++ protobuf's "${cppMessage}":\n${result.stderr}`,
    );
  });

  itWithSharedModels("testBadModelConfig with TF Serving's own bad_model_config.txt", async () => {
    const { args } = runServerArgs(socketPath(), { modelConfigFile: join(TF_SERVING_TESTDATA, 'bad_model_config.txt') });
    const result = await promisify(execFile)(process.execPath, [SERVER_MAIN, ...args]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes('Error parsing text-format tensorflow.serving.ModelServerConfig'));
  });

  it('testModelConfigReload: the config file polled every second is realised', async () => {
    const config = join(root, 'model_config.txt');
    writeFileSync(config, singleConfig('half_plus_two', MODELS.halfPlusTwo));
    const server = await run({ modelConfigFile: config, modelConfigFilePollPeriod: 1 });
    verifyPredict(ok(await client(server.grpc, [verifyPredictCall('two', 'half_plus_two', 'serving_default', false)]), 'two'), 3.0, 'half_plus_two');
    writeFileSync(config, singleConfig('half_plus_three', MODELS.halfPlusThree));
    await server.process.waitFor((e) => e.event === 'version_available' && e['model'] === 'half_plus_three', 30_000);
    const results = await client(server.grpc, [verifyPredictCall('three', 'half_plus_three', 'serving_default', false), verifyPredictCall('gone', 'half_plus_two')]);
    verifyPredict(ok(results, 'three'), 4.0, 'half_plus_three');
    assert.equal(results.get('gone')!.error?.code, 'NOT_FOUND', 'a reload realises exactly the new list');
  });

  it('testModelConfigReloadWithZeroPollPeriod: the file is read once', async () => {
    const config = join(root, 'model_config_zero.txt');
    writeFileSync(config, singleConfig('half_plus_two', MODELS.halfPlusTwo));
    const server = await run({ modelConfigFile: config, modelConfigFilePollPeriod: 0 });
    writeFileSync(config, singleConfig('half_plus_three', MODELS.halfPlusThree));
    await new Promise((r) => setTimeout(r, 2000)); // poll_period + 1, as the TF test sleeps
    verifyPredict(ok(await client(server.grpc, [verifyPredictCall('two', 'half_plus_two', 'serving_default', false)]), 'two'), 3.0, 'half_plus_two');
  });

  it('HandleReloadConfigRequest: the RPC reload realises the new list', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo });
    const results = await client(server.grpc, [
      { id: 'reload', rpc: 'HandleReloadConfigRequest', config_text: singleConfig('half_plus_three', MODELS.halfPlusThree) },
      verifyPredictCall('three', 'half_plus_three', 'serving_default', false),
      verifyPredictCall('default', 'default'),
    ]);
    assert.deepEqual(ok(results, 'reload'), { error_code: 0, error_message: '' });
    verifyPredict(ok(results, 'three'), 4.0, 'half_plus_three');
    assert.equal(results.get('default')!.error?.code, 'NOT_FOUND');
  });

  it('testGoodGrpcChannelArgs', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo, grpcChannelArguments: 'grpc.max_connection_age_ms=2000,grpc.lb_policy_name=grpclb' });
    verifyPredict(ok(await client(server.grpc, [verifyPredictCall('p', 'default', 'serving_default', false)]), 'p'), 3.0);
  });

  it('testClassifyREST / testRegressREST / testPredictREST / testPredictColumnarREST / testGetStatusREST', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo });
    const call = async (path: string, body?: unknown): Promise<unknown> => {
      const reply = await curl(`${server.rest}${path}`, body);
      assert.equal(reply.status, 200, reply.body);
      return JSON.parse(reply.body);
    };
    // The bodies as Python's json.dumps writes TF's json_req (2.0 stays a float: a float_list feature).
    assert.deepEqual(await call('/v1/models/default:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}'), { results: [[['', 3.0]]] });
    assert.deepEqual(await call('/v1/models/default:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}'), { results: [3.0] });
    assert.deepEqual(await call('/v1/models/default:predict', '{"instances": [2.0, 3.0, 4.0]}'), { predictions: [3.0, 3.5, 4.0] });
    assert.deepEqual(await call('/v1/models/default:predict', '{"inputs": [2.0, 3.0, 4.0]}'), { outputs: [3.0, 3.5, 4.0] });
    assert.deepEqual(await call('/v1/models/default'), {
      model_version_status: [{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
    });
  });

  itWithSharedModels("testGetModelMetadataREST: TF Serving's half_plus_two_model_metadata.json", async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo });
    const reply = await curl(`${server.rest}/v1/models/default/metadata`);
    const expected = JSON.parse(readFileSync(join(TF_SERVING_TESTDATA, 'half_plus_two_model_metadata.json'), 'utf8')) as unknown;
    assert.deepEqual(sorted(JSON.parse(reply.body)), sorted(expected));
  });

  it('testPrometheusEndpoint', async () => {
    const monitoring = join(root, 'monitoring_config.txt');
    writeFileSync(monitoring, 'prometheus_config {\n  enable: true,\n  path: "/monitoring/prometheus/metrics"\n}\n');
    const server = await run({ modelPath: MODELS.halfPlusTwo, monitoringConfigFile: monitoring });
    const reply = await curl(`${server.rest}/monitoring/prometheus/metrics`);
    assert.equal(reply.status, 200);
    assert.ok(reply.body.includes('# TYPE'));
  });

  it('testPredictOnTfLite: --prefer_tflite_model=true with model.tflite fails the load with UNIMPLEMENTED saying why (we have no TFLite interpreter)', async () => {
    const { args } = runServerArgs(socketPath(), { modelPath: TFLITE_MODEL, tflite: true, extra: ['--max_num_load_retries=0'] });
    const server = ServerProcess.start(args);
    running.push(server);
    assert.notEqual(await server.exited(), 0);
    assert.match(server.stdout.join(''), /did not become available: \{\{\{name: default version: 123\} due to error: UNIMPLEMENTED: TensorFlow Lite model .*model\.tflite cannot be served \(--prefer_tflite_model\): tfmodel-server has no TFLite interpreter/);
  });

  it("--prefer_tflite_model=true without model.tflite falls back to the SavedModel (main.cc's flag text)", async () => {
    const base = join(root, 'fallback');
    cpSync(MODELS.halfPlusTwo, base, { recursive: true });
    const server = await run({ modelPath: base, tflite: true });
    verifyPredict(ok(await client(server.grpc, [verifyPredictCall('p')]), 'p'), 3.0);
  });

  it('--enable_per_model_batching_parameters batches a model by its batching_params.pbtxt', async () => {
    const base = join(root, 'per-model');
    cpSync(MODELS.halfPlusTwo, base, { recursive: true });
    writeFileSync(join(base, '00000123', 'batching_params.pbtxt'), 'max_batch_size { value: 4 }\nbatch_timeout_micros { value: 1000 }\n');
    const monitoring = join(root, 'monitoring_batching.txt');
    writeFileSync(monitoring, 'prometheus_config { enable: true path: "/metrics" }\n');
    const server = await run({ modelPath: base, monitoringConfigFile: monitoring, extra: ['--enable_batching', '--enable_per_model_batching_parameters'] });
    const big = await curl(`${server.rest}/v1/models/default:predict`, { instances: [1, 2, 3, 4, 5] });
    assert.equal(big.status, 400, 'a request of 5 exceeds the model\'s max_batch_size 4');
    const small = await curl(`${server.rest}/v1/models/default:predict`, { instances: [2.0] });
    assert.deepEqual(JSON.parse(small.body), { predictions: [3.0] });
    assert.match((await curl(`${server.rest}/metrics`)).body, /:tensorflow:serving:batching_session:queuing_latency_count\{thread_pool_name="model_server_batch_threads"\} 1/);
  });

  it('test_profiler_service_with_valid_trace_request: tf.profiler client trace while predicts run', async () => {
    const server = await run({ modelPath: MODELS.halfPlusTwo });
    const logdir = join(root, 'profile-logs');
    mkdirSync(logdir);
    const { stdout } = await promisify(execFile)(python!, [PROFILE_SCRIPT, server.grpc, `${server.rest}/v1/models/default:predict`, logdir, '1000'], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    const trace = JSON.parse(stdout.trim().split('\n').at(-1)!) as { files: string[]; planes: Array<{ name: string; events: Array<[string, Record<string, string>, number]> }> };
    assert.equal(trace.files.length, 1, 'the client saved one XSpace under plugins/profile/<session>/');
    const host = trace.planes.find((p) => p.name === '/host:CPU');
    assert.ok(host, 'a /host:CPU plane');
    const predicts = host.events.filter(([name]) => name === 'Predict default');
    assert.ok(predicts.length >= 3, `REST predicts traced: ${JSON.stringify(host.events.slice(0, 3))}`);
    assert.deepEqual(predicts[0]![1], { entrypoint: 'REST', model_name: 'default', api: 'predict', status: 'OK' });
    assert.ok(predicts.every(([, , ps]) => ps > 0));
  });

  it('accepts every TF-only flag it cannot apply, logging each once with the reason', async () => {
    const server = await run({
      modelPath: MODELS.halfPlusTwo,
      extra: ['--xla_cpu_compilation_enabled=true', '--mixed_precision=bfloat16', '--skip_initialize_tpu', '--num_tflite_pools=2', '--rest_api_num_threads=4'],
    });
    const ignored = server.process.events.filter((e) => e.event === 'flag_ignored').map((e) => e['flag']);
    assert.deepEqual(ignored.sort(), ['mixed_precision', 'num_tflite_pools', 'rest_api_num_threads', 'skip_initialize_tpu', 'xla_cpu_compilation_enabled']);
    assert.ok(server.process.events.filter((e) => e.event === 'flag_ignored').every((e) => String(e['reason']).length > 10));
  });

  it('--version prints TensorFlow ModelServer/TensorFlow Library lines', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SERVER_MAIN, '--version']);
    assert.match(stdout, /^TensorFlow ModelServer: .+\nTensorFlow Library: .+\n$/);
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function goodModelConfig(): string {
  return `model_config_list: {
  config: {
    name: "half_plus_two",
    base_path: "${MODELS.halfPlusTwo}",
    model_platform: "tensorflow"
  },
  config: {
    name: "half_plus_three",
    base_path: "${MODELS.halfPlusThree}",
    model_platform: "tensorflow"
  }
}
`;
}

/** testModelConfigReload's base_config_proto. */
function singleConfig(name: string, path: string): string {
  return `
    model_config_list: {
      config: {
        name: "${name}",
        base_path: "${path}",
        model_platform: "tensorflow"
      }
    }
    `;
}

/** C++ protobuf's own message for `text` as a ModelServerConfig: protoc --encode, "input:L:C: msg". */
function protocTextFormatError(text: string): string {
  // protoc needs google/protobuf/any.proto, which Debian ships apart (libprotobuf-dev): a stand-in.
  const wkt = mkdtempSync(join(tmpdir(), 'protoc-wkt-'));
  mkdirSync(join(wkt, 'google', 'protobuf'), { recursive: true });
  writeFileSync(join(wkt, 'google', 'protobuf', 'any.proto'), 'syntax = "proto3";\npackage google.protobuf;\nmessage Any {\n  string type_url = 1;\n  bytes value = 2;\n}\n');
  writeFileSync(join(wkt, 'google', 'protobuf', 'wrappers.proto'), 'syntax = "proto3";\npackage google.protobuf;\nmessage Int64Value { int64 value = 1; }\nmessage Int32Value { int32 value = 1; }\nmessage UInt32Value { uint32 value = 1; }\nmessage BoolValue { bool value = 1; }\nmessage StringValue { string value = 1; }\nmessage DoubleValue { double value = 1; }\n');
  try {
    execFileSync('protoc', ['-I', 'proto', '-I', wkt, '--encode=tensorflow.serving.ModelServerConfig', 'tensorflow_serving/config/model_server_config.proto'], {
      input: text,
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr: Buffer }).stderr);
    const match = /^input:(\d+:\d+: .*)$/m.exec(stderr);
    if (match) return match[1]!;
    throw new Error(`protoc said: ${stderr}`);
  } finally {
    rmSync(wkt, { recursive: true, force: true });
  }
  throw new Error('protoc accepted the bad config');
}

/** TF Serving's SortedObject: lists sorted, so the unordered metadata maps compare. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)]));
  return value;
}
