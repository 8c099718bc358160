/**
 * Batching on real SavedModels: requests sent concurrently through a BatchingEngine (so they run
 * merged, padded to allowed batch sizes) must give the results the same requests give unbatched.
 */
import assert from 'node:assert/strict';
import { HALF_PLUS_TWO } from '../../../test/support/test-models.js';
import { corpusDir, decodeTensors, readCorpusModel } from '../../../test/support/corpus.js';
import { serializeExample } from '../../../test/support/examples.js';
import { describeMismatch } from '../../../test/support/tensor-compare.js';
import { batchingConfigFrom, parseBatchingParameters } from '../config/batching-config.js';
import { type ModelEngine, type RunRequest, loadSavedModel } from '../runtime/index.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { createBatching } from './index.js';
import { floats } from './test-support.js';


/** Runs every request unbatched, then all at once through batching; the outputs must agree. */
async function assertBatchedEqualsUnbatched(
  engine: ModelEngine,
  batchingText: string,
  requests: RunRequest[],
  tolerance: { rtol: number; atol: number },
): Promise<ModelEngine & { seen: number[] }> {
  const expected: Array<Map<string, HostTensor>> = [];
  for (const request of requests) expected.push(await engine.run(request));
  const seen: number[] = [];
  const counting: ModelEngine = {
    backend: engine.backend,
    signatures: engine.signatures,
    stateful: engine.stateful,
    run: (request) => {
      seen.push(request.inputs.values().next().value!.shape[0]!);
      return engine.run(request);
    },
    dispose: async () => undefined,
  };
  const batched = createBatching(batchingConfigFrom(parseBatchingParameters(batchingText), 2)).wrap(counting);
  const actual = await Promise.all(requests.map((request) => batched.run(request)));
  actual.forEach((outputs, i) => {
    assert.deepEqual([...outputs.keys()], [...expected[i]!.keys()]);
    for (const [alias, tensor] of outputs) {
      const mismatch = describeMismatch(tensor, expected[i]!.get(alias)!, tolerance.rtol, tolerance.atol);
      assert.equal(mismatch, undefined, `request ${i} output ${alias}: ${mismatch}`);
    }
  });
  return Object.assign(batched, { seen });
}

const examples = (xs: number[]): HostTensor => ({
  dtype: DataType.DT_STRING,
  shape: [xs.length],
  data: xs.map((x) => serializeExample({ x: [x] })),
});

describe('batching on real SavedModels', () => {
  it('half_plus_two: predict and regress (tf.Example strings) batched equal unbatched', async () => {
    const engine = await loadSavedModel(HALF_PLUS_TWO, { threads: 0 });
    try {
      const predict = (xs: number[]): RunRequest => ({ signature: 'serving_default', inputs: new Map([['x', floats([xs.length, 1], xs)]]) });
      const regress = (xs: number[]): RunRequest => ({ signature: 'regress_x_to_y', inputs: new Map([['inputs', examples(xs)]]) });
      const result = await assertBatchedEqualsUnbatched(
        engine,
        'max_batch_size { value: 8 } allowed_batch_sizes: [4, 8]',
        [predict([1, 2, 5]), predict([-1]), predict([0.5, 7]), regress([80]), regress([1, 2])],
        { rtol: 0, atol: 0 },
      );
      // Two queues (one per signature): 6 predict rows padded to 8, 3 regress rows padded to 4.
      assert.deepEqual(result.seen.sort(), [4, 8]);
    } finally {
      await engine.dispose();
    }
  });

  const corpus = corpusDir();
  it('corpus keras_cnn: batched equals unbatched', async function () {
    if (!corpus.dir) this.skip();
    const model = readCorpusModel(corpus.dir!, 'keras_cnn');
    const engine = await loadSavedModel(model.dir, { threads: 0 });
    try {
      const requests = model.cases.map((c): RunRequest => ({ signature: c.signature, inputs: decodeTensors(c.inputs) }));
      const result = await assertBatchedEqualsUnbatched(engine, 'max_batch_size { value: 8 } allowed_batch_sizes: [2, 8]', [...requests, ...requests], model);
      assert.deepEqual(result.seen, [8]);
    } finally {
      await engine.dispose();
    }
  });
});
