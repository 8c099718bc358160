/**
 * Black-box test with TF Serving's own Python client (PyPI tensorflow-serving-api, with
 * tf.make_tensor_proto / tf.make_ndarray): our gRPC server, in-process on 127.0.0.1 with a real
 * ModelManager, must answer what TensorFlow computes and fail the way TF Serving fails, as the
 * Python client sees it (grpc.StatusCode name + details). All calls run in one Python process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { type CorpusCase, type JsonTensor, REPO_ROOT, corpusDir, decodeTensor, readCorpusModel } from '../../../../test/support/corpus.js';
import { TF_SERVING_TESTDATA } from '../../../../test/support/shared-savedmodels.js';
import { servingTestModels } from '../../../../test/support/test-models.js';
import { oraclePython } from '../../../../test/support/tf-oracle.js';
import { describeMismatch } from '../../../../test/support/tensor-compare.js';
import { PredictRequestSchema } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import { modelConfigListOf, parseModelServerConfig } from '../../config/model-config.js';
import { ModelManager } from '../../core/model-manager.js';
import { savedModelLoader } from '../../core/version-loader.js';
import { Code } from '../../errors.js';
import { memoryLogger } from '../../logging.js';
import { NO_OBSERVER, type RequestEvent } from '../../observability.js';
import { type GrpcServer, createGrpcServer } from './index.js';

const MODELS = servingTestModels();
const CLIENT_SCRIPT = join(REPO_ROOT, 'test', 'server', 'grpc-python', 'client.py');
/** Corpus models served (each through a temporary base path with version 1). */
const CORPUS_MODELS = ['keras_mlp', 'keras_two_in_two_out', 'multi_signature', 'dtype_signatures', 'mixed_dtypes', 'tf1_serving'];
const LABELLED = 'half_plus_two_2v';
/** Inputs beyond what the tfjs runtime computes in are refused, as test/runtime/corpus.test.ts expects. */
const RUNTIME_RANGE_LIMIT = /is outside the (int32|float32) range this runtime computes in$/;

interface Spec { name: string; version?: number; label?: string; signature_name?: string }
type Call = { id: string; rpc: string } & Record<string, unknown>;
interface WireSpec { name: string; version: number | null; signature_name: string }
interface CallResult { id: string; response?: unknown; error?: { code: string; details: string } }

interface ModelEntry { name: string; basePath: string; extra?: string }

function configText(models: readonly ModelEntry[], stableVersion: number): string {
  const configs = models.map((m) => {
    const labels = m.name === LABELLED ? ` version_labels { key: "stable" value: ${stableVersion} }` : '';
    return `config { name: "${m.name}" base_path: "${m.basePath}" model_platform: "tensorflow"${m.extra ?? ''}${labels} }`;
  });
  return `model_config_list { ${configs.join(' ')} }`;
}

/**
 * A base path holding `dir` as version 1. The version directory is real and its entries are
 * symlinks: the version source skips a version directory that resolves outside its base path.
 */
function versionedBasePath(root: string, name: string, dir: string): string {
  const version = join(root, name, '1');
  mkdirSync(version, { recursive: true });
  for (const entry of readdirSync(dir)) symlinkSync(join(dir, entry), join(version, entry));
  return join(root, name);
}

function runPythonClient(python: string, address: string, calls: readonly Call[]): Promise<CallResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(python, [CLIENT_SCRIPT], { maxBuffer: 64 << 20, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as CallResult[]);
    });
    child.stdin!.end(JSON.stringify({ address, calls }));
  });
}

const floats = (shape: number[], values: number[]): JsonTensor => ({ dtype: 'float32', shape, values });

describe('gRPC server with the TensorFlow Serving Python client', function () {
  const python = oraclePython();
  const corpus = corpusDir();
  const results = new Map<string, CallResult>();
  const events: RequestEvent[] = [];
  const calls: Call[] = [];
  const corpusChecks: Array<{ id: string; model: string; kase: CorpusCase; rtol: number; atol: number }> = [];
  let manager: ModelManager | undefined;
  let server: GrpcServer | undefined;
  let root: string | undefined;

  const call = (id: string, rpc: string, body: Record<string, unknown>): void => void calls.push({ id, rpc, ...body });
  const result = (id: string): CallResult => {
    const found = results.get(id);
    assert.ok(found, `no result for ${id}`);
    return found;
  };
  const response = <T>(id: string): T => {
    const r = result(id);
    assert.equal(r.error, undefined, `${id} failed: ${JSON.stringify(r.error)}`);
    return r.response as T;
  };
  const error = (id: string): { code: string; details: string } => {
    const r = result(id);
    assert.ok(r.error, `${id} should have failed, got ${JSON.stringify(r.response)}`);
    return r.error;
  };

  before(async function () {
    const skipReason = python.skipReason ?? corpus.skipReason;
    if (skipReason) {
      console.warn(`skipping: ${skipReason}`);
      this.skip();
    }
    root = mkdtempSync(join(tmpdir(), 'tfmodel-grpc-python-'));
    const models: ModelEntry[] = [
      { name: 'half_plus_two', basePath: MODELS.halfPlusTwo },
      { name: 'half_plus_three', basePath: MODELS.halfPlusThree },
      { name: 'half_plus_two_tf2', basePath: MODELS.halfPlusTwoTf2 },
      {
        name: LABELLED,
        basePath: MODELS.halfPlusTwo2Versions,
        extra: ' model_version_policy { specific { versions: 123 versions: 124 } }',
      },
    ];
    for (const name of CORPUS_MODELS) models.push({ name, basePath: versionedBasePath(root, name, join(corpus.dir!, name, 'model')) });
    manager = new ModelManager({
      loader: savedModelLoader({ runtime: 'wasm', threads: 0 }),
      log: memoryLogger(),
      fileSystemPollMs: 0,
      maxLoadRetries: 0,
      loadRetryIntervalMs: 1,
      allowLabelsForUnavailable: false,
    });
    await manager.start(modelConfigListOf(parseModelServerConfig(configText(models, 123))));
    server = createGrpcServer({
      core: manager,
      reloader: manager,
      observer: { ...NO_OBSERVER, request: (event) => void events.push(event) },
      healthCheck: false,
    });
    const port = await server.listen(0, '127.0.0.1');

    buildCalls(models);
    for (const r of await runPythonClient(python.python!, `127.0.0.1:${port}`, calls)) results.set(r.id, r);
  });

  after(async () => {
    await server?.close();
    await manager?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function buildCalls(models: readonly ModelEntry[]): void {
    const x = floats([3, 1], [1, 2, 5]);
    for (const name of ['half_plus_two', 'half_plus_three', 'half_plus_two_tf2']) call(`predict ${name}`, 'Predict', { spec: { name }, inputs: { x } });
    const hp2 = (extra: Partial<Spec> = {}): Spec => ({ name: 'half_plus_two', ...extra });
    call('regress', 'Regress', { spec: hp2({ signature_name: 'regress_x_to_y' }), examples: [{ x: { float: [80] } }] });
    call('classify', 'Classify', { spec: hp2({ signature_name: 'classify_x_to_y' }), examples: [{ x: { float: [20] } }] });
    call('regress with context', 'Regress', {
      spec: hp2({ signature_name: 'regress_x_to_y' }),
      context: { x: { float: [10] } },
      examples: [{}, { x: { float: [80] } }],
    });
    call('multi inference', 'MultiInference', {
      tasks: [
        { spec: hp2({ signature_name: 'classify_x_to_y' }), method_name: 'tensorflow/serving/classify' },
        { spec: hp2({ signature_name: 'regress_x_to_y' }), method_name: 'tensorflow/serving/regress' },
        { spec: hp2({ signature_name: 'regress_x_to_y2' }), method_name: 'tensorflow/serving/regress' },
      ],
      examples: [{ x: { float: [20] } }, { x: { float: [80] } }],
    });
    call('metadata', 'GetModelMetadata', { spec: hp2(), metadata_field: ['signature_def'] });
    call('metadata tf2', 'GetModelMetadata', { spec: { name: 'half_plus_two_tf2' }, metadata_field: ['signature_def'] });
    call('status', 'GetModelStatus', { spec: hp2() });

    // Corpus models: every case through Predict; tf1_serving's classify/regress cases through their APIs.
    for (const name of CORPUS_MODELS) {
      const model = readCorpusModel(corpus.dir!, name);
      model.cases.forEach((kase, i) => {
        const id = `corpus ${name} #${i} ${kase.signature}`;
        corpusChecks.push({ id, model: name, kase, rtol: model.rtol, atol: model.atol });
        const spec = { name, signature_name: kase.signature };
        if (kase.signature === 'classify' || kase.signature === 'regress') {
          const rpc = kase.signature === 'classify' ? 'Classify' : 'Regress';
          call(id, rpc, { spec, serialized_examples: kase.inputs['inputs']!.values });
        } else {
          call(id, 'Predict', { spec, inputs: kase.inputs });
        }
      });
    }
    const tf1 = readCorpusModel(corpus.dir!, 'tf1_serving');
    const batchOf = (signature: string): CorpusCase => tf1.cases.filter((c) => c.signature === signature).at(-1)!;
    // Both tasks on each case's examples: the classify case checks the first, the regress case the second.
    for (const signature of ['classify', 'regress']) {
      call(`corpus multi inference on ${signature} examples`, 'MultiInference', {
        tasks: [
          { spec: { name: 'tf1_serving', signature_name: 'classify' }, method_name: 'tensorflow/serving/classify' },
          { spec: { name: 'tf1_serving', signature_name: 'regress' }, method_name: 'tensorflow/serving/regress' },
        ],
        serialized_examples: batchOf(signature).inputs['inputs']!.values,
      });
    }

    // Errors, as TF Serving words them.
    call('unknown model', 'Predict', { spec: { name: 'nope' }, inputs: { x } });
    call('unknown version', 'Predict', { spec: hp2({ version: 999 }), inputs: { x } });
    call('unknown label', 'Predict', { spec: { name: LABELLED, label: 'nope' }, inputs: { x } });
    call('unknown signature', 'Predict', { spec: hp2({ signature_name: 'nope' }), inputs: { x } });
    call('wrong dtype', 'Predict', { spec: hp2(), inputs: { x: { dtype: 'float64', shape: [1, 1], values: [1] } } });
    call('metadata field', 'GetModelMetadata', { spec: hp2(), metadata_field: ['nope'] });
    call('status unknown model', 'GetModelStatus', { spec: { name: 'nope' } });
    const valid = toBinary(PredictRequestSchema, create(PredictRequestSchema, {
      modelSpec: { name: 'half_plus_two' },
      inputs: { x: { dtype: 1, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [4] } },
    }));
    call('truncated', 'raw', { path: '/tensorflow.serving.PredictionService/Predict', bytes_b64: Buffer.from(valid.subarray(0, valid.length - 3)).toString('base64') });
    call('after truncated', 'raw', { path: '/tensorflow.serving.PredictionService/Predict', bytes_b64: Buffer.from(valid).toString('base64') });

    // Labels: serve, move with a reload, then a move to a version that is not loaded is refused.
    const labelled = (id: string): void => call(id, 'Predict', { spec: { name: LABELLED, label: 'stable' }, inputs: { x } });
    labelled('label before reload');
    call('reload', 'HandleReloadConfigRequest', { config_text: configText(models, 124) });
    labelled('label after reload');
    call('reload to unavailable', 'HandleReloadConfigRequest', { config_text: configText(models, 125) });
    labelled('label after refused reload');
    call('status labelled', 'GetModelStatus', { spec: { name: LABELLED } });
  }

  const spec = (name: string, version: number, signature: string): WireSpec => ({ name, version, signature_name: signature });

  it('Predict on the half_plus_* models returns 0.5x + 2 / + 3 with the resolved model spec', () => {
    const expected: Record<string, [number, number[]]> = {
      half_plus_two: [123, [2.5, 3, 4.5]],
      half_plus_three: [123, [3.5, 4, 5.5]],
      half_plus_two_tf2: [123, [2.5, 3, 4.5]],
    };
    for (const [name, [version, y]] of Object.entries(expected)) {
      const r = response<{ model_spec: WireSpec; outputs: Record<string, JsonTensor> }>(`predict ${name}`);
      assert.deepEqual(r.model_spec, spec(name, version, 'serving_default'));
      assert.deepEqual(Object.keys(r.outputs), ['y']);
      assert.deepEqual(r.outputs['y'], { dtype: 'float32', shape: [3, 1], values: y });
    }
  });

  it('Classify, Regress (with and without context) and MultiInference give TF Serving\'s documented values', () => {
    assert.deepEqual(response('regress'), { model_spec: spec('half_plus_two', 123, 'regress_x_to_y'), regressions: [42] });
    assert.deepEqual(response('classify'), {
      model_spec: spec('half_plus_two', 123, 'classify_x_to_y'),
      classifications: [[{ label: '', score: 12 }]],
    });
    assert.deepEqual(response('regress with context'), { model_spec: spec('half_plus_two', 123, 'regress_x_to_y'), regressions: [7, 42] });
    assert.deepEqual(response('multi inference'), {
      results: [
        { model_spec: spec('half_plus_two', 123, 'classify_x_to_y'), classifications: [[{ label: '', score: 12 }], [{ label: '', score: 42 }]] },
        { model_spec: spec('half_plus_two', 123, 'regress_x_to_y'), regressions: [12, 42] },
        { model_spec: spec('half_plus_two', 123, 'regress_x_to_y2'), regressions: [13, 43] },
      ],
    });
  });

  it('GetModelMetadata packs the SignatureDefMap TF Serving returns (as its REST metadata shows it)', function () {
    if (!MODELS.official) return this.skip(); // compares with TF Serving's own metadata of its own exports
    const expectTf1 = JSON.parse(readFileSync(join(TF_SERVING_TESTDATA, 'half_plus_two_model_metadata.json'), 'utf8')) as {
      metadata: { signature_def: unknown };
    };
    const r = response<{ model_spec: WireSpec; type_url: string; signature_def: unknown }>('metadata');
    assert.deepEqual(r.model_spec, spec('half_plus_two', 123, ''));
    assert.equal(r.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    assert.deepEqual(r.signature_def, expectTf1.metadata.signature_def);
    const tf2 = response<{ signature_def: { signature_def: Record<string, { method_name: string }> } }>('metadata tf2');
    const expectTf2 = JSON.parse(readFileSync(join(TF_SERVING_TESTDATA, 'saved_model_half_plus_two_tf2_2_versions_metadata.json'), 'utf8')) as {
      metadata: { signature_def: { signature_def: Record<string, unknown> } };
    };
    // Another export of the same TF2 model (its tensors and defaults differ): the same signatures,
    // __saved_model_init_op included as TF Serving lists it.
    const keys = (map: Record<string, unknown>): string[] => Object.keys(map).sort();
    assert.deepEqual(keys(tf2.signature_def.signature_def), keys(expectTf2.metadata.signature_def.signature_def));
    assert.ok(keys(tf2.signature_def.signature_def).includes('__saved_model_init_op'));
  });

  it('GetModelStatus reports every version with its state and an OK status', () => {
    assert.deepEqual(response('status'), [{ version: 123, state: 'AVAILABLE', error_code: 0, error_message: '' }]);
  });

  it('corpus models: Predict, Classify, Regress and MultiInference equal TensorFlow\'s outputs', () => {
    const failures: string[] = [];
    const refused: string[] = [];
    for (const { id, kase, rtol, atol } of corpusChecks) {
      const r = result(id);
      if (r.error?.code === 'INVALID_ARGUMENT' && RUNTIME_RANGE_LIMIT.test(r.error.details)) {
        refused.push(id);
        continue;
      }
      if (r.error) {
        failures.push(`${id}: ${r.error.code} ${r.error.details}`);
        continue;
      }
      if (kase.signature === 'classify' || kase.signature === 'regress') {
        failures.push(...compareExampleResult(id, r.response as ExampleResponse, kase, rtol, atol));
        continue;
      }
      const outputs = (r.response as { outputs: Record<string, JsonTensor> }).outputs;
      assert.deepEqual(Object.keys(outputs).sort(), Object.keys(kase.outputs).sort(), id);
      for (const [alias, expected] of Object.entries(kase.outputs)) {
        const mismatch = describeMismatch(decodeTensor(outputs[alias]!), decodeTensor(expected), rtol, atol);
        if (mismatch) failures.push(`${id} output ${alias}: ${mismatch}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(corpusChecks.length - refused.length >= 30, `only ${corpusChecks.length - refused.length} corpus cases compared`);

    const tf1 = corpusChecks.filter((c) => c.model === 'tf1_serving');
    for (const [index, signature] of ['classify', 'regress'].entries()) {
      const { kase, rtol, atol } = tf1.filter((c) => c.kase.signature === signature).at(-1)!;
      const multi = response<{ results: ExampleResponse[] }>(`corpus multi inference on ${signature} examples`).results;
      assert.equal(multi.length, 2);
      assert.deepEqual(compareExampleResult(`multi ${signature}`, multi[index]!, kase, rtol, atol), []);
    }
  });

  it('errors reach the Python client with TF Serving\'s codes and messages', () => {
    assert.deepEqual(error('unknown model'), { code: 'NOT_FOUND', details: 'Servable not found for request: Latest(nope)' });
    assert.deepEqual(error('unknown version'), { code: 'NOT_FOUND', details: 'Servable not found for request: Specific(half_plus_two, 999)' });
    assert.deepEqual(error('unknown label'), { code: 'INVALID_ARGUMENT', details: 'Unrecognized servable version label: nope' });
    assert.deepEqual(error('unknown signature'), { code: 'FAILED_PRECONDITION', details: 'Serving signature key "nope" not found.' });
    const dtype = error('wrong dtype');
    assert.equal(dtype.code, 'INVALID_ARGUMENT');
    // TF Serving words it with TF's dtype names ("to be float but double is provided").
    assert.match(dtype.details, /^Expects arg\[0\] to be float(32)? but (double|float64) is provided$/);
    assert.deepEqual(error('metadata field'), { code: 'INVALID_ARGUMENT', details: 'Metadata field nope is not supported' });
    assert.deepEqual(error('status unknown model'), { code: 'NOT_FOUND', details: 'Could not find any versions of model nope' });
  });

  it('a truncated request is INVALID_ARGUMENT and the server keeps serving', () => {
    const truncated = error('truncated');
    assert.equal(truncated.code, 'INVALID_ARGUMENT');
    assert.match(truncated.details, /^Could not parse the request as tensorflow\.serving\.PredictRequest: /);
    assert.ok(response<{ bytes_b64: string }>('after truncated').bytes_b64.length > 0);
  });

  it('HandleReloadConfigRequest moves a label, and refuses one to a version that is not available', () => {
    const versionOf = (id: string): number | null => response<{ model_spec: WireSpec }>(id).model_spec.version;
    assert.equal(versionOf('label before reload'), 123);
    assert.deepEqual(response('reload'), { error_code: 0, error_message: '' });
    assert.equal(versionOf('label after reload'), 124);
    assert.deepEqual(error('reload to unavailable'), {
      code: 'FAILED_PRECONDITION',
      details: `Request to assign label to version 125 of model ${LABELLED}, which is not currently available for inference`,
    });
    assert.equal(versionOf('label after refused reload'), 124);
    assert.deepEqual(response('status labelled'), [
      { version: 124, state: 'AVAILABLE', error_code: 0, error_message: '' },
      { version: 123, state: 'AVAILABLE', error_code: 0, error_message: '' },
    ]);
  });

  it('every call was reported to the observer with entrypoint GRPC and its status', () => {
    assert.equal(events.length, calls.length);
    assert.ok(events.every((e) => e.entrypoint === 'GRPC'));
    assert.ok(events.some((e) => e.api === 'predict' && e.model === 'nope' && e.status === Code.NOT_FOUND));
    assert.ok(events.some((e) => e.api === 'reload_config' && e.status === Code.FAILED_PRECONDITION));
    assert.ok(events.some((e) => e.api === 'predict' && e.model === '' && e.status === Code.INVALID_ARGUMENT));
  });
});

interface ExampleResponse {
  model_spec: WireSpec;
  classifications?: Array<Array<{ label: string; score: number }>>;
  regressions?: number[];
}

/** A Classify/Regress answer against the corpus case's classes/scores or outputs tensors. */
function compareExampleResult(id: string, actual: ExampleResponse, kase: CorpusCase, rtol: number, atol: number): string[] {
  const failures: string[] = [];
  const close = (a: number, e: number): boolean => Math.abs(a - e) <= atol + rtol * Math.abs(e);
  if (kase.signature === 'regress') {
    const expected = kase.outputs['outputs']!.values.map(Number);
    const values = actual.regressions ?? [];
    if (values.length !== expected.length || values.some((v, i) => !close(v, expected[i]!))) {
      failures.push(`${id}: regressions ${JSON.stringify(values)} != ${JSON.stringify(expected)}`);
    }
    return failures;
  }
  const classes = kase.outputs['classes']!;
  const scores = kase.outputs['scores']!.values.map(Number);
  const perRow = classes.shape[1]!;
  const rows = actual.classifications ?? [];
  if (rows.length !== classes.shape[0]) return [`${id}: ${rows.length} classifications, expected ${classes.shape[0]}`];
  rows.forEach((row, i) => row.forEach((c, j) => {
    const k = i * perRow + j;
    const label = Buffer.from(String(classes.values[k]), 'base64').toString();
    if (c.label !== label || !close(c.score, scores[k]!)) failures.push(`${id}: [${i}][${j}] ${JSON.stringify(c)} != ${label} ${scores[k]}`);
  }));
  return failures;
}
