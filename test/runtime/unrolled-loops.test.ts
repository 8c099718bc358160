/**
 * The portable engine unrolls While loops with a static trip count (tfjs/unroll-while.ts): the
 * Keras RNN models of the TensorFlow corpus must come out with no loop and no tensor list left,
 * answer TensorFlow's outputs (the corpus suite checks every case; here the repeated calls), and
 * hold no tensor beyond the call. Loops with a dynamic trip count stay loops and still answer.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TensorBundle } from '../../src/server/runtime/checkpoint/tensor-bundle.js';
import { freezeMetaGraph } from '../../src/server/runtime/graph/freeze.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../../src/server/runtime/savedmodel/meta-graph.js';
import { readSavedModelProto } from '../../src/server/runtime/savedmodel/read-saved-model.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { optimizeForTfjs } from '../../src/server/runtime/tfjs/optimize.js';
import { initTfjs } from '../../src/server/runtime/tfjs/setup.js';
import { TfjsEngine } from '../../src/server/runtime/tfjs/tfjs-engine.js';
import { Code, ServingError } from '../../src/server/errors.js';
import { corpusDir, decodeTensors, readCorpusModel } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';

const LOOP_OR_LIST = /^(While|StatelessWhile|TensorList|EmptyTensorList)/;

async function optimizedOps(modelDir: string): Promise<{ ops: string[]; functions: number }> {
  await initTfjs('wasm');
  const metaGraph = selectMetaGraph(await readSavedModelProto(modelDir), DEFAULT_TAGS);
  const index = join(modelDir, 'variables', 'variables.index');
  const bundle = existsSync(index) ? await TensorBundle.open(join(modelDir, 'variables', 'variables')) : undefined;
  const frozen = await freezeMetaGraph({ metaGraph, exportDir: modelDir, bundle });
  optimizeForTfjs(frozen);
  return { ops: [...frozen.nodes.values()].map((n) => n.op), functions: frozen.functions.size };
}

describe('portable engine: While loops with a static trip count are unrolled', function () {
  const corpus = corpusDir();
  if (!corpus.dir) {
    it.skip(`skipped: ${corpus.skipReason}`);
    return;
  }
  const dir = corpus.dir;

  for (const name of ['keras_lstm', 'keras_gru', 'keras_bidirectional', 'keras_text_classifier']) {
    describe(name, () => {
      const model = readCorpusModel(dir, name);

      it('has no loop, no tensor list and no loop body left after optimisation', async () => {
        const { ops, functions } = await optimizedOps(model.dir);
        const loopOps = ops.filter((op) => LOOP_OR_LIST.test(op));
        assert.deepEqual(loopOps, [], `left: ${loopOps.join(', ')}`);
        assert.equal(functions, 0, 'the loop bodies are no longer referenced');
      });

      it("answers TensorFlow's outputs call after call with tf.memory().numTensors flat", async () => {
        const engine = await TfjsEngine.load(model.dir, { backend: 'wasm', tags: model.tags });
        try {
          const cases = model.cases.filter((c) => !c.error);
          assert.ok(cases.length > 0);
          const runAll = async (): Promise<void> => {
            for (const testCase of cases) {
              const outputs = await engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) });
              for (const [alias, want] of decodeTensors(testCase.outputs)) {
                const mismatch = describeMismatch(outputs.get(alias)!, want, model.rtol, model.atol);
                assert.equal(mismatch, undefined, `output ${alias}: ${mismatch}`);
              }
            }
          };
          await runAll();
          const before = tf.memory().numTensors;
          for (let i = 0; i < 10; i++) await runAll();
          assert.equal(tf.memory().numTensors, before, 'tensors left behind by the runs');
        } finally {
          await engine.dispose();
        }
      });
    });
  }

  it('keeps a loop whose trip count depends on the input (while_loop) as a loop', async () => {
    const model = readCorpusModel(dir, 'while_loop');
    const { ops } = await optimizedOps(model.dir);
    assert.ok(ops.some((op) => op === 'While' || op === 'StatelessWhile'), 'the dynamic loop was unrolled');
  });

  it('fails a sequence shorter than the unrolled trip count instead of answering', async () => {
    const model = readCorpusModel(dir, 'keras_lstm');
    const engine = await TfjsEngine.load(model.dir, { backend: 'wasm', tags: model.tags });
    try {
      const short = new Map([['sequence', { dtype: DataType.DT_FLOAT, shape: [1, 7, 6], data: new Float32Array(42).fill(0.5) }]]);
      await assert.rejects(engine.run({ signature: 'serving_default', inputs: short }), (error: unknown) => {
        assert.ok(error instanceof ServingError, String(error));
        assert.equal(Code[error.code], Code[Code.INVALID_ARGUMENT], error.message);
        return true;
      });
    } finally {
      await engine.dispose();
    }
  });
});
