/**
 * The SavedModels TensorFlow Serving and tfjs-node test with (../shared/savedmodels, read in place):
 * every signature, through the in-thread engine and the worker pool, against real TensorFlow run on
 * the same inputs, plus the results TF Serving's documentation gives.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadSavedModel, type ModelEngine } from '../../src/server/runtime/index.js';
import { decodeTensors, type JsonTensor } from '../support/corpus.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';
import { SHARED_SAVEDMODELS, TF_SERVING_TESTDATA as TFS, TFJS_NODE_MODELS as TFJS, describeWithSharedModels } from '../support/shared-savedmodels.js';
import { base64, serializeExample } from '../support/examples.js';
import { type OracleRequest, type OracleResult, askTensorFlow, jsonTensor, oraclePython } from '../support/tf-oracle.js';
import { describeMismatch } from '../support/tensor-compare.js';
import { testRuntimes } from '../support/runtimes.js';


const f32 = (shape: number[], values: number[]): JsonTensor => jsonTensor('float32', shape, values);
const examples = (rows: Array<Record<string, number[]>>): JsonTensor =>
  jsonTensor('string', [rows.length], rows.map((r) => base64(serializeExample(r))));

interface Case extends OracleRequest {
  /** Values TF Serving's documentation gives, checked in addition to TensorFlow's output. */
  documented?: Record<string, number[]>;
}

const HALF_PLUS_TWO_TF1 = join(TFS, 'saved_model_half_plus_two_cpu', '00000123');
const HALF_PLUS_TWO_TF2 = join(TFS, 'saved_model_half_plus_two_tf2_cpu', '00000123');
const COUNTER = join(TFS, 'saved_model_counter', '00000123');

const CASES: Case[] = [
  // Inputs have the shapes the signatures declare: TensorFlow's Python session refuses others.
  { dir: HALF_PLUS_TWO_TF1, signature: 'serving_default', inputs: { x: f32([3, 1], [1, 2, 5]) }, documented: { y: [2.5, 3, 4.5] } },
  { dir: HALF_PLUS_TWO_TF1, signature: 'serving_default', inputs: { x: f32([2, 1], [-1, 0.5]) } },
  { dir: HALF_PLUS_TWO_TF1, signature: 'classify_x_to_y', inputs: { inputs: examples([{ x: [20] }]) }, documented: { scores: [12] } },
  { dir: HALF_PLUS_TWO_TF1, signature: 'regress_x_to_y', inputs: { inputs: examples([{ x: [80] }, { x: [1] }]) }, documented: { outputs: [42, 2.5] } },
  { dir: HALF_PLUS_TWO_TF1, signature: 'regress_x_to_y2', inputs: { inputs: examples([{ x: [80] }]) }, documented: { outputs: [43] } },
  { dir: HALF_PLUS_TWO_TF1, signature: 'regress_x2_to_y3', inputs: { inputs: f32([2, 1], [1, 4]) } },
  { dir: join(TFS, 'saved_model_half_plus_two_2_versions', '00000124'), signature: 'classify_x2_to_y3', inputs: { inputs: f32([2, 1], [4, 0]) } },
  { dir: join(TFS, 'saved_model_half_plus_two_2_versions', '00000123'), signature: 'serving_default', inputs: { x: f32([1, 1], [7]) } },
  { dir: join(TFS, 'saved_model_half_plus_three', '00000123'), signature: 'serving_default', inputs: { x: f32([3, 1], [1, 2, 5]) }, documented: { y: [3.5, 4, 5.5] } },
  { dir: join(TFS, 'saved_model_half_plus_three', '00000123'), signature: 'tensorflow/serving/regress', inputs: { inputs: examples([{ x: [2] }, { x: [10] }]) } },
  { dir: HALF_PLUS_TWO_TF2, signature: 'serving_default', inputs: { x: f32([1], [5]) }, documented: { y: [4.5] } },
  { dir: HALF_PLUS_TWO_TF2, signature: 'classify_x_to_y', inputs: { inputs: examples([{ x: [20] }]) } },
  { dir: HALF_PLUS_TWO_TF2, signature: 'regress_x_to_y2', inputs: { inputs: examples([{ x: [80] }, { x: [-4] }]) } },
  { dir: HALF_PLUS_TWO_TF2, signature: 'classify_x2_to_y3', inputs: { inputs: f32([1], [2]) } },
  { dir: HALF_PLUS_TWO_TF2, signature: 'regress_x2_to_y3', inputs: { inputs: f32([1], [6]) } },
  // Stateful: in order, on one model instance (the oracle shares one loaded model per directory too).
  { dir: COUNTER, signature: 'get_counter', inputs: {} },
  { dir: COUNTER, signature: 'incr_counter', inputs: {} },
  { dir: COUNTER, signature: 'incr_counter', inputs: {} },
  { dir: COUNTER, signature: 'incr_counter_by', inputs: { delta: f32([], [3.5]) } },
  { dir: COUNTER, signature: 'get_counter', inputs: {} },
  { dir: COUNTER, signature: 'reset_counter', inputs: {} },
  { dir: COUNTER, signature: 'get_counter', inputs: {} },
  // tfjs-node's models declare scalar inputs; TensorFlow's session refuses other shapes for them.
  { dir: join(TFJS, 'times_three_float'), signature: 'serving_default', inputs: { x: f32([], [2]) }, documented: { output_0: [6] } },
  { dir: join(TFJS, 'times_two_int'), signature: 'serving_default', inputs: { x: jsonTensor('int32', [], [-7]) } },
  { dir: join(TFJS, 'uint8_multiply'), signature: 'serving_default', inputs: { x: jsonTensor('uint8', [1], [3]) } },
  { dir: join(TFJS, 'int64_multiply'), signature: 'serving_default', inputs: { x: jsonTensor('int64', [2], ['3', '4']) } },
  { dir: join(TFJS, 'model_multi_output'), signature: 'serving_default', inputs: { x: jsonTensor('int32', [], [2]), y: jsonTensor('int32', [], [5]) } },
  { dir: join(TFJS, 'model_single_input_multi_output'), signature: 'serving_default', inputs: { x: jsonTensor('int32', [], [3]) } },
  { dir: join(TFJS, 'module_with_multiple_signatures'), signature: 'serving_default', inputs: { x: f32([], [4]) } },
  { dir: join(TFJS, 'module_with_multiple_signatures'), signature: 'timestwo', inputs: { x: f32([], [4]) } },
];

const oracle = oraclePython();

const ENGINES: Array<{ runtime: 'wasm' | 'tensorflow'; threads: number; title: string }> = [
  { runtime: 'wasm', threads: 0, title: 'in-thread' },
  { runtime: 'wasm', threads: 2, title: 'pool of 2' },
  ...(testRuntimes().includes('tensorflow') ? [{ runtime: 'tensorflow' as const, threads: 0, title: 'native engine' }] : []),
];

for (const { runtime, threads, title } of ENGINES) {
  describeWithSharedModels(`shared TF Serving and tfjs-node SavedModels (${title})`, () => {
    if (!oracle.python) {
      it.skip(`skipped: ${oracle.skipReason}`);
      return;
    }
    const engines = new Map<string, ModelEngine>();
    let expected: OracleResult[] = [];
    before(async function () {
      this.timeout(300_000);
      expected = askTensorFlow(oracle.python!, CASES);
      for (const dir of new Set(CASES.map((c) => c.dir))) engines.set(dir, await loadSavedModel(dir, { runtime, threads }));
    });
    after(async () => {
      for (const engine of engines.values()) await engine.dispose();
    });

    it('keeps a stateful model (the counter) on a single instance', () => {
      const counter = engines.get(COUNTER)!;
      // The native engine holds the counter in its one TensorFlow session.
      assert.equal(counter.stateful, runtime === 'wasm');
      assert.equal(counter.backend, runtime);
      if (threads > 0) assert.equal((counter as unknown as { size: number }).size, 1);
    });

    CASES.forEach((testCase, index) => {
      const name = `${relative(SHARED_SAVEDMODELS, testCase.dir)} ${testCase.signature} #${index}`;
      it(name, async () => {
        const want = expected[index]!;
        assert.equal(want.error, undefined, `TensorFlow itself failed: ${want.error}`);
        const got = await engines.get(testCase.dir)!.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) });
        const wantTensors = decodeTensors(want.outputs!);
        assert.deepEqual([...got.keys()].sort(), [...wantTensors.keys()].sort());
        for (const [alias, tensor] of wantTensors) {
          const mismatch = describeMismatch(got.get(alias)!, tensor, 1e-6, 1e-6);
          assert.equal(mismatch, undefined, `${alias}: ${mismatch}`);
        }
        for (const [alias, values] of Object.entries(testCase.documented ?? {})) {
          assert.deepEqual(Array.from(got.get(alias)!.data as Float32Array), values, `${alias} differs from TF Serving's documented result`);
        }
      });
    });
  });
}

describe('saved_model.pbtxt', () => {
  if (!oracle.python) {
    it.skip(`skipped: ${oracle.skipReason}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tfmodel-pbtxt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a text-format SavedModel written by TensorFlow\'s protobuf library', async () => {
    cpSync(HALF_PLUS_TWO, dir, { recursive: true });
    execFileSync(oracle.python!, ['-c', [
      'import sys',
      'from google.protobuf import text_format',
      'from tensorflow.core.protobuf import saved_model_pb2',
      'm = saved_model_pb2.SavedModel()',
      'm.ParseFromString(open(sys.argv[1] + "/saved_model.pb", "rb").read())',
      'open(sys.argv[1] + "/saved_model.pbtxt", "w").write(text_format.MessageToString(m))',
    ].join('\n'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    unlinkSync(join(dir, 'saved_model.pb'));
    const model = await loadSavedModel(dir, { runtime: 'wasm', threads: 0 });
    try {
      const out = await model.run({ signature: 'regress_x_to_y', inputs: decodeTensors({ inputs: examples([{ x: [80] }]) }) });
      assert.deepEqual(Array.from(out.get('outputs')!.data as Float32Array), [42]);
    } finally {
      await model.dispose();
    }
  });
});
