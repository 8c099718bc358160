/**
 * Issue 7, items 1 and 3 through the real server: a TF-made MobileNetV3 (the corpus'
 * keras_mobilenet_v3, any image size) sent a 1x1 image answers (its stride-2 convolutions reach
 * 0x0; TensorFlow's own kernels disagree on the value: Eigen answers NaN, the native library
 * numbers, so no value is asserted) and keeps answering TensorFlow's values;
 * with the wasm kernels left to trap on it (TFMODEL_WASM_EMPTY_TENSORS=wasm reproduces the fault
 * the issue found), the trapped engine instance is discarded and rebuilt, in a worker and in the
 * calling thread, the fault is counted, and the next valid image answers TensorFlow's values.
 * A TextVectorization model answers TensorFlow's values for the empty string.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { type CorpusCase, type CorpusModel, corpusDir, decodeTensors, readCorpusModel } from '../support/corpus.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { describeMismatch } from '../support/tensor-compare.js';

const corpus = corpusDir();

function versionedBasePath(root: string, name: string, dir: string): string {
  const version = join(root, name, '1');
  mkdirSync(version, { recursive: true });
  for (const entry of readdirSync(dir)) symlinkSync(join(dir, entry), join(version, entry));
  return join(root, name);
}

/** A row-major flat list as nested JSON arrays of `shape`. */
function nest(values: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const [head, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: head! }, (_, i) => nest(values.slice(i * size, (i + 1) * size), rest));
}

/** TF Serving's JSON numbers, with its bare NaN tokens. */
const parseJson = (text: string): Record<string, unknown> => JSON.parse(text.replace(/\bNaN\b/g, '"NaN"')) as Record<string, unknown>;

describe('engine faults and empty inputs (keras_mobilenet_v3, keras_text_vectorization)', function () {
  if (!corpus.dir) {
    it.skip(`skipped: ${corpus.skipReason}`);
    return;
  }
  this.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-faults-'));
  const image: CorpusModel = readCorpusModel(corpus.dir, 'keras_mobilenet_v3');
  const text: CorpusModel = readCorpusModel(corpus.dir, 'keras_text_vectorization');
  const config = join(root, 'models.config');
  const monitoring = join(root, 'monitoring.config');
  writeFileSync(config, `model_config_list { ${[
    ['img', versionedBasePath(root, 'img', image.dir)],
    ['text', versionedBasePath(root, 'text', text.dir)],
  ].map(([name, base]) => `config { name: "${name}" base_path: "${base}" model_platform: "tensorflow" }`).join(' ')} }`);
  writeFileSync(monitoring, 'prometheus_config { enable: true path: "/metrics" }\n');
  after(() => rmSync(root, { recursive: true, force: true }));

  const servers: ServerProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  async function start(threads: number, env: NodeJS.ProcessEnv = {}): Promise<number> {
    const rest = freePortSync();
    const server = ServerProcess.start([`--model_config_file=${config}`, `--monitoring_config_file=${monitoring}`, `--rest_api_port=${rest}`,
      `--inference_threads=${threads}`, '--runtime=wasm'], env);
    servers.push(server);
    await server.waitFor((e) => e.event === 'serving');
    return rest;
  }

  const predict = async (rest: number, model: string, kase: CorpusCase): Promise<{ status: number; body: Record<string, unknown> }> => {
    const [alias, tensor] = Object.entries(kase.inputs)[0]!;
    const values = tensor.dtype === 'string' ? tensor.values.map((v) => Buffer.from(String(v), 'base64').toString('utf8')) : tensor.values;
    const body = JSON.stringify({ signature_name: kase.signature, inputs: { [alias]: nest(values, tensor.shape) } });
    const response = await fetch(`http://127.0.0.1:${rest}/v1/models/${model}:predict`, { method: 'POST', body });
    return { status: response.status, body: parseJson(await response.text()) };
  };

  /** The response equals TensorFlow's recorded output (NaN where TensorFlow has NaN). */
  async function answersTensorFlow(rest: number, model: string, m: CorpusModel, kase: CorpusCase): Promise<void> {
    const { status, body } = await predict(rest, model, kase);
    assert.equal(status, 200, JSON.stringify(body));
    const [name, expected] = [...decodeTensors(kase.outputs)][0]!;
    assert.equal(name, 'output_0');
    const flat = (body['outputs'] as unknown[]).flat(8).map((v) => (v === 'NaN' ? NaN : Number(v)));
    assert.equal(describeMismatch({ dtype: DataType.DT_FLOAT, shape: expected.shape, data: Float32Array.from(flat) }, expected, m.rtol, m.atol), undefined);
  }

  /** The issue's reproducer: a 1x1 image, {"instances":[[[[0.1,0.2,0.3]]]]}. */
  const tinyImage = (rest: number): Promise<Response> =>
    fetch(`http://127.0.0.1:${rest}/v1/models/img:predict`, { method: 'POST', body: '{"instances":[[[[0.1,0.2,0.3]]]]}' });

  const caseOf = (m: CorpusModel, shape: string): CorpusCase => {
    const found = m.cases.find((c) => c.signature === 'serving_default' && `[${Object.values(c.inputs)[0]!.shape}]` === shape);
    assert.ok(found, `${m.model} has a serving_default case of shape ${shape}`);
    return found;
  };
  const faults = async (rest: number): Promise<number> => {
    const page = await (await fetch(`http://127.0.0.1:${rest}/metrics`)).text();
    const line = page.split('\n').find((l) => l.startsWith('tfmodel_engine_faults_total{model_name="img"}'));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('a 1x1 image is answered, and 96x96 images TensorFlow\'s values before and after', async () => {
    const rest = await start(1);
    await answersTensorFlow(rest, 'img', image, caseOf(image, '[1,96,96,3]'));
    const tiny = await tinyImage(rest);
    assert.equal(tiny.status, 200, await tiny.clone().text());
    assert.equal(((parseJson(await tiny.text())['predictions'] as unknown[][])[0]!).length, 10);
    await answersTensorFlow(rest, 'img', image, caseOf(image, '[1,96,96,3]'));
    assert.equal(await faults(rest), 0);
  });

  for (const threads of [1, 0]) {
    it(`a trapped engine (${threads ? 'pool worker' : 'in-thread wasm backend'}) is rebuilt and counted; the model keeps answering TensorFlow's values`, async () => {
      const rest = await start(threads, { TFMODEL_WASM_EMPTY_TENSORS: 'wasm' });
      await answersTensorFlow(rest, 'img', image, caseOf(image, '[1,96,96,3]'));
      const trapped = await tinyImage(rest);
      assert.equal(trapped.status, 500);
      assert.match(String(parseJson(await trapped.text())['error']), /memory access out of bounds.*discarded and rebuilt/);
      for (let i = 0; i < 3; i++) await answersTensorFlow(rest, 'img', image, caseOf(image, '[1,96,96,3]'));
      await answersTensorFlow(rest, 'img', image, caseOf(image, '[3,96,96,3]'));
      // The other model of the process (in-thread: same wasm instance, loaded again) answers too.
      await answersTensorFlow(rest, 'text', text, caseOf(text, '[4,1]'));
      assert.equal(await faults(rest), 1);
      const status = (await (await fetch(`http://127.0.0.1:${rest}/v1/models/img`)).json()) as { model_version_status: Array<{ state: string; status: { error_code: string } }> };
      assert.deepEqual(status.model_version_status.map((v) => [v.state, v.status.error_code]), [['AVAILABLE', 'OK']]);
    });
  }

  it('TextVectorization answers TensorFlow\'s values for [[""]] and for a batch holding an empty string', async () => {
    const rest = await start(1);
    const empty = text.cases.find((c) => c.signature === 'serving_default' && Buffer.from(String(c.inputs['text']!.values[0]), 'base64').length === 0 && c.inputs['text']!.shape[0] === 1);
    assert.ok(empty, 'the corpus records TensorFlow on [[""]]');
    await answersTensorFlow(rest, 'text', text, empty);
    await answersTensorFlow(rest, 'text', text, caseOf(text, '[4,1]'));
    const rank1 = await fetch(`http://127.0.0.1:${rest}/v1/models/text:predict`, { method: 'POST', body: '{"instances":[""]}' });
    assert.equal(rank1.status, 400, 'the signature is [-1,1]: a rank-1 batch is refused, as TensorFlow refuses to feed it');
  });
});
