/**
 * The REST server over real HTTP, in front of a real ModelManager serving TF Serving's own test
 * SavedModels on the wasm runtime: every documented body byte for byte, metadata compared with the
 * bodies TF Serving returns, status, versions and labels, and the error answers.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TF_SERVING_TESTDATA } from '../../../../test/support/shared-savedmodels.js';
import { servingTestModels } from '../../../../test/support/test-models.js';
import { type MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../../gen/tensorflow/core/example/example_pb.js';
import { type ModelConfig, ModelConfigListSchema, ModelConfigSchema } from '../../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { ModelManager } from '../../core/model-manager.js';
import { savedModelLoader } from '../../core/version-loader.js';
import { Code } from '../../errors.js';
import { memoryLogger } from '../../logging.js';
import { NO_OBSERVER, type RequestEvent } from '../../observability.js';
import { type RestServer, createRestServer } from './index.js';

const MODELS = servingTestModels();

type ModelConfigInit = Exclude<MessageInitShape<typeof ModelConfigSchema>, ModelConfig>;

function modelConfig(name: string, basePath: string, extra: Omit<ModelConfigInit, 'name' | 'basePath'> = {}): ModelConfig {
  const init: ModelConfigInit = { ...extra, name, basePath, modelPlatform: 'tensorflow' };
  return create(ModelConfigSchema, init);
}

function newManager(fileSystemPollMs: number): ModelManager {
  return new ModelManager({
    loader: savedModelLoader({ runtime: 'wasm', threads: 0 }),
    log: memoryLogger(),
    fileSystemPollMs,
    maxLoadRetries: 0,
    loadRetryIntervalMs: 1,
    allowLabelsForUnavailable: false,
  });
}

interface Reply {
  readonly status: number;
  readonly type: string | null;
  readonly text: string;
}

async function call(base: string, method: string, path: string, body?: string | Uint8Array): Promise<Reply> {
  const response = await fetch(base + path, { method, ...(body !== undefined ? { body } : {}) });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

function serializedExample(x: number): string {
  const example = create(ExampleSchema, { features: { feature: { x: { kind: { case: 'floatList', value: { value: [x] } } } } } });
  return Buffer.from(toBinary(ExampleSchema, example)).toString('base64');
}

const sharedJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(TF_SERVING_TESTDATA, file), 'utf8')) as Record<string, unknown>;

describe('REST server (real models)', () => {
  const manager = newManager(0);
  const events: RequestEvent[] = [];
  let server: RestServer;
  let base = '';
  const post = (path: string, body: string) => call(base, 'POST', path, body);
  const get = (path: string) => call(base, 'GET', path);

  before(async () => {
    await manager.start(create(ModelConfigListSchema, {
      config: [
        modelConfig('half_plus_two', MODELS.halfPlusTwo),
        modelConfig('half_plus_three', MODELS.halfPlusThree),
        modelConfig('half_plus_two_tf2', MODELS.halfPlusTwoTf2),
        modelConfig('counter', MODELS.counter),
        modelConfig('saved_model_half_plus_two_2_versions', MODELS.halfPlusTwo2Versions, {
          modelVersionPolicy: { policyChoice: { case: 'all', value: {} } },
          versionLabels: { stable: 123n, canary: 124n },
        }),
      ],
    }));
    await manager.settled();
    server = createRestServer({ core: manager, observer: { ...NO_OBSERVER, request: (event) => events.push(event) } });
    base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });

  after(async () => {
    await server?.close();
    await manager.stop();
  });

  it('answers the documented bodies byte for byte', async () => {
    const predict = await post('/v1/models/half_plus_two:predict', '{"instances": [1.0, 2.0, 5.0]}');
    assert.deepEqual(predict, { status: 200, type: 'application/json', text: '{"predictions":[2.5,3.0,4.5]}' });
    const regress = await post('/v1/models/half_plus_two:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}');
    assert.deepEqual(regress, { status: 200, type: 'application/json', text: '{"results":[42.0]}' });
    const classify = await post('/v1/models/half_plus_two:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 20.0}]}');
    assert.deepEqual(classify, { status: 200, type: 'application/json', text: '{"results":[[["",12.0]]]}' });
    assert.equal((await post('/v1/models/half_plus_three:predict', '{"instances": [1, 2, 5]}')).text, '{"predictions":[3.5,4.0,5.5]}');
    // regress_x2_to_y3 reads a float tensor; the default regress signature of half_plus_three a tf.Example.
    const context = await post('/v1/models/half_plus_two:regress', '{"signature_name": "regress_x_to_y2", "context": {"x": 1.0}, "examples": [{}, {"x": 4.0}]}');
    assert.equal(context.text, '{"results":[3.5,5.0]}');
  });

  it('answers row requests with "predictions" and columnar requests with "outputs"', async () => {
    assert.equal((await post('/v1/models/half_plus_two:predict', '{"instances": [[1], [3]]}')).text, '{"predictions":[[2.5],[3.5]]}');
    assert.equal((await post('/v1/models/half_plus_two:predict', '{"inputs": [[1], [3]]}')).text, '{"outputs":[[2.5],[3.5]]}');
    assert.equal((await post('/v1/models/half_plus_two:predict', '{"inputs": {"x": [[-1]]}}')).text, '{"outputs":[[1.5]]}');
    assert.equal((await post('/v1/models/half_plus_two:predict', '{"signature_name": "serving_default", "instances": [NaN]}')).text,
      '{"predictions":[NaN]}');
    assert.equal((await post('/v1/models/half_plus_two_tf2:predict', '{"instances": [1.0]}')).text, '{"predictions":[2.5]}');
  });

  it('accepts {"b64": ...} for string inputs (serialized tf.Examples through predict)', async () => {
    const body = `{"signature_name": "classify_x_to_y", "instances": [{"b64": "${serializedExample(20)}"}, {"b64": "${serializedExample(10)}"}]}`;
    assert.equal((await post('/v1/models/half_plus_two:predict', body)).text, '{"predictions":[[12.0],[7.0]]}');
    const tf2 = `{"signature_name": "regress_x_to_y", "inputs": [{"b64": "${serializedExample(80)}"}]}`;
    assert.equal((await post('/v1/models/half_plus_two_tf2:predict', tf2)).text, '{"outputs":[[42.0]]}');
    const bad = await post('/v1/models/half_plus_two:predict', '{"signature_name": "classify_x_to_y", "inputs": [{"b64": "%%%"}]}');
    assert.deepEqual([bad.status, JSON.parse(bad.text)], [400, { error: 'Unable to base64 decode' }]);
  });

  it('serves versions and labels in the path', async () => {
    const m = '/v1/models/saved_model_half_plus_two_2_versions';
    for (const path of [`${m}/versions/123`, `${m}/versions/00124`, `${m}/labels/stable`, `${m}/labels/canary`, m]) {
      assert.equal((await post(`${path}:predict`, '{"instances": [1.0, 2.0]}')).text, '{"predictions":[2.5,3.0]}', path);
    }
    const status = (v: number) => `{"version":"${v}","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}`;
    assert.equal((await get(m)).text, `{"model_version_status":[${status(124)},${status(123)}]}`);
    assert.equal((await get(`${m}/versions/123`)).text, `{"model_version_status":[${status(123)}]}`);
    assert.equal((await get(`${m}/labels/stable`)).text, `{"model_version_status":[${status(123)}]}`);
    assert.equal(JSON.parse((await get(`${m}/labels/canary/metadata`)).text).model_spec.version, '124');
    assert.equal((await get('/v1/models/half_plus_two')).text, `{"model_version_status":[${status(123)}]}`);
  });

  it('answers metadata exactly as TF Serving does', async function () {
    if (!MODELS.official) return this.skip(); // TF Serving's own metadata of its own exports
    const two = await get('/v1/models/saved_model_half_plus_two_2_versions/versions/123/metadata');
    assert.equal(two.status, 200);
    assert.deepEqual(JSON.parse(two.text), sharedJson('saved_model_half_plus_two_2_versions_metadata.json'));

    const expected = sharedJson('half_plus_two_model_metadata.json') as { model_spec: { name: string } };
    expected.model_spec.name = 'half_plus_two';
    assert.deepEqual(JSON.parse((await get('/v1/models/half_plus_two/metadata')).text), expected);
  });

  it('answers TF2 metadata like TF Serving, signature by signature', async function () {
    if (!MODELS.official) return this.skip(); // TF Serving's own metadata of its own exports
    type Signatures = Record<string, Record<string, unknown>>;
    const got = JSON.parse((await get('/v1/models/half_plus_two_tf2/metadata')).text) as { model_spec: unknown; metadata: { signature_def: { signature_def: Signatures } } };
    const want = sharedJson('saved_model_half_plus_two_tf2_2_versions_metadata.json') as typeof got;
    assert.deepEqual(got.model_spec, { name: 'half_plus_two_tf2', signature_name: '', version: '123' });
    const ours = got.metadata.signature_def.signature_def;
    const theirs = want.metadata.signature_def.signature_def;
    for (const key of Object.keys(theirs)) {
      if (key === '__saved_model_init_op') {
        // version-loader.ts drops this signature; TF Serving lists it (the shared file omits its
        // empty `defaults`, which protobuf JSON with always_print_fields_with_no_presence prints).
        if (ours[key]) assert.deepEqual({ ...ours[key], defaults: undefined }, { ...theirs[key], defaults: undefined });
        continue;
      }
      // This export gives serving_default's x a default value; the 2-versions export does not.
      const strip = (s: Record<string, unknown>) => (key === 'serving_default' ? { ...s, defaults: undefined } : s);
      assert.deepEqual(strip(ours[key]!), strip(theirs[key]!), key);
    }
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).filter((k) => ours[k] !== undefined).sort());
  });

  it('runs the stateful counter model (signatures without inputs take `"inputs": {}`)', async () => {
    const counter = (signature: string, inputs = '{}') => post('/v1/models/counter:predict', `{"signature_name": "${signature}", "inputs": ${inputs}}`);
    assert.equal((await counter('reset_counter')).text, '{"outputs":0.0}');
    assert.equal((await counter('incr_counter')).text, '{"outputs":1.0}');
    assert.equal((await counter('incr_counter_by', '{"delta": 2.5}')).text, '{"outputs":3.5}');
    assert.equal((await counter('get_counter')).text, '{"outputs":3.5}');
    const noInputs = await post('/v1/models/counter:predict', '{"signature_name": "get_counter", "instances": [1]}');
    assert.deepEqual([noInputs.status, JSON.parse(noInputs.text)], [400, { error: 'Failed to get input map for signature: get_counter' }]);
  });

  it('answers every documented error with its message and HTTP status', async () => {
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['POST', '/v1/models/nope:predict', '{"instances": [1]}', 404, 'Servable not found for request: Latest(nope)'],
      ['POST', '/v1/models/half_plus_two/versions/99:predict', '{"instances": [1]}', 404, 'Servable not found for request: Specific(half_plus_two, 99)'],
      ['POST', '/v1/models/half_plus_two/labels/nope:predict', '{"instances": [1]}', 400, 'Unrecognized servable version label: nope'],
      ['POST', '/v1/models/nope:classify', '{"examples": [{"x": 1.0}]}', 404, 'Servable not found for request: Latest(nope)'],
      ['GET', '/v1/models/nope', undefined, 404, 'Could not find any versions of model nope'],
      ['GET', '/v1/models/half_plus_two/versions/99', undefined, 404, 'Could not find version 99 of model half_plus_two'],
      ['GET', '/v1/models/half_plus_two/labels/nope', undefined, 400, 'Unrecognized servable version label: nope'],
      ['GET', '/v1/models/nope/metadata', undefined, 404, 'Servable not found for request: Latest(nope)'],
      ['POST', '/v1/models/half_plus_two/versions/9223372036854775808:predict', '{}', 400, 'Failed to convert version: 9223372036854775808 to numeric.'],
      ['POST', '/v1/models/half_plus_two/versions/abc:predict', '{}', 400, 'Malformed request: POST /v1/models/half_plus_two/versions/abc:predict'],
      ['POST', '/v1/models/half_plus_two:predict', 'instances = [1, 2]', 400, 'JSON Parse error: Invalid value. at offset: 0'],
      ['POST', '/v1/models/half_plus_two:predict', '', 400, 'JSON Parse error: The document is empty'],
      ['POST', '/v1/models/half_plus_two:predict', '{"instances": [1], "inputs": [1]}', 400,
        'JSON Value: {\n    "instances": [1],\n    "inputs": [1]\n} Not formatted correctly expecting only one of \'inputs\' or \'instances\' keys to exist '],
      ['POST', '/v1/models/half_plus_two:predict', '{"instances": []}', 400, 'JSON Value: {\n    "instances": []\n} No values in \'instances\' array'],
      ['POST', '/v1/models/half_plus_two:predict', '{"instances": [[1], [2, 3]]}', 400,
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2"],
      ['POST', '/v1/models/half_plus_two:predict', '{"instances": ["x", "y"]}', 400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"x\" Type: String is not of expected type: float"],
      ['POST', '/v1/models/half_plus_two:predict', '{"signature_name": 100}', 400,
        'JSON Value: {\n    "signature_name": 100\n} not formatted correctly. \'signature_name\' key must be a string value.'],
      ['POST', '/v1/models/half_plus_two:predict', '{"signature_name": "nope", "instances": [1]}', 400, 'Serving signature name: "nope" not found in signature def'],
      ['POST', '/v1/models/half_plus_two:regress', '{"signature_name": "nope", "examples": [{"x": 1.0}]}', 400, 'No signature was found with the name: nope'],
      ['GET', '/v1/models/half_plus_two:predict', undefined, 400, 'Malformed request: GET /v1/models/half_plus_two:predict'],
      ['PUT', '/v1/models/half_plus_two:predict', '{}', 400, 'Malformed request: PUT /v1/models/half_plus_two:predict'],
      ['GET', '/v1/models/versions/1', undefined, 400, 'Missing model name in request.'],
      ['POST', '/v1/foo', '{}', 400, 'Malformed request: POST /v1/foo'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const reply = await call(base, method, path, body);
      assert.deepEqual([reply.status, reply.type, JSON.parse(reply.text)], [status, 'application/json', { error: message }], `${method} ${path} ${body}`);
    }
    // Without --enable_signature_method_name_check (TF Serving's default) only the structure is
    // checked: a classify signature has no "outputs" (PreProcessRegression's message).
    const wrongKind = await post('/v1/models/half_plus_two:regress', '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}');
    assert.equal(wrongKind.status, 400);
    assert.match((JSON.parse(wrongKind.text) as { error: string }).error, /^No regression outputs found in SignatureDef: inputs \{\n {2}key: "inputs"\n/);
    // A tf.Example feature written as an integer is an int64_list: the model's ParseExample refuses it.
    const intFeature = await post('/v1/models/half_plus_two:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 80}]}');
    assert.equal(intFeature.status, 400, intFeature.text);
    const outside = await call(base, 'GET', '/foo');
    assert.deepEqual([outside.status, outside.text], [404, 'Not Found']);
    assert.equal((await call(base, 'POST', '/v1', '{}')).status, 404);
  });

  it('reports every API request to the observer', async () => {
    events.length = 0;
    await post('/v1/models/half_plus_two:predict', '{"instances": [1]}');
    await post('/v1/models/nope:predict', '{"instances": [1]}');
    await get('/v1/models/half_plus_two');
    await get('/v1/models/half_plus_two/metadata');
    await get('/v1/foo');
    assert.deepEqual(events.map(({ model, api, entrypoint, status }) => ({ model, api, entrypoint, status })), [
      { model: 'half_plus_two', api: 'predict', entrypoint: 'REST', status: Code.OK },
      { model: 'nope', api: 'predict', entrypoint: 'REST', status: Code.NOT_FOUND },
      { model: 'half_plus_two', api: 'get_model_status', entrypoint: 'REST', status: Code.OK },
      { model: 'half_plus_two', api: 'get_model_metadata', entrypoint: 'REST', status: Code.OK },
    ]);
    assert.ok(events.every((e) => e.latencyMicros > 0 && e.latencyMicros < 60e6));
  });

  it('lists every model with its versions, states and labels at GET /v1/models', async () => {
    const reply = await get('/v1/models');
    assert.equal(reply.status, 200);
    const { models } = JSON.parse(reply.text) as { models: Array<{ name: string; model_version_status: unknown[]; version_labels: Record<string, string> }> };
    assert.deepEqual(models.map((m) => m.name), ['counter', 'half_plus_three', 'half_plus_two', 'half_plus_two_tf2', 'saved_model_half_plus_two_2_versions']);
    const two = models.find((m) => m.name === 'saved_model_half_plus_two_2_versions')!;
    assert.deepEqual(two.version_labels, { stable: '123', canary: '124' });
    assert.deepEqual(two.model_version_status.map((s) => (s as { version: string }).version), ['124', '123']);
    assert.deepEqual(models[0]!.model_version_status, [{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }]);
  });

  it('answers /healthz and /readyz', async () => {
    assert.deepEqual(await get('/healthz'), { status: 200, type: 'application/json', text: '{"alive":true}' });
    assert.deepEqual(await get('/readyz'), { status: 200, type: 'application/json', text: '{"ready":true}' });
  });
});

describe('REST /readyz with a model that becomes available', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-rest-'));
  const manager = newManager(25);
  let server: RestServer;

  after(async () => {
    await server?.close();
    await manager.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 503 naming the model until a version is AVAILABLE, then 200', async () => {
    mkdirSync(join(root, 'late'));
    await manager.start(create(ModelConfigListSchema, {
      config: [create(ModelConfigSchema, { name: 'late', basePath: join(root, 'late'), modelPlatform: 'tensorflow' })],
    }));
    server = createRestServer({ core: manager });
    const base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    const before = await call(base, 'GET', '/readyz');
    assert.deepEqual([before.status, JSON.parse(before.text)], [503, { ready: false, error: 'No AVAILABLE version of: late', unavailable_models: ['late'] }]);
    // Copied aside, then renamed into place, so that no poll sees half a version.
    cpSync(join(MODELS.halfPlusTwo, '00000123'), join(root, 'staging'), { recursive: true });
    renameSync(join(root, 'staging'), join(root, 'late', '7'));
    const deadline = Date.now() + 30_000;
    let after = before;
    while (after.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await call(base, 'GET', '/readyz');
    }
    assert.deepEqual([after.status, after.text], [200, '{"ready":true}']);
    assert.equal((await call(base, 'POST', '/v1/models/late:predict', '{"instances": [4]}')).text, '{"predictions":[4.0]}');
  });
});
