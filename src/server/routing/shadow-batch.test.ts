import assert from 'node:assert/strict';
import type { ShadowCall } from '../core/types.js';
import { invalidArgument } from '../errors.js';
import type { ModelEngine, RunRequest } from '../runtime/engine.js';
import type { SignatureInfo } from '../runtime/savedmodel/signatures.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { type CopyResult, type QueuedCopy, runCopies, takeBatch } from './shadow-batch.js';

const floats = (shape: number[], values: number[]): HostTensor => ({ dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(values) });
const call = (x: HostTensor, more: Partial<ShadowCall> = {}): ShadowCall => ({ signatureName: 'serving_default', inputs: new Map([['x', x]]), ...more });
const copy = (x: HostTensor, more: Partial<QueuedCopy & ShadowCall> = {}): QueuedCopy => ({
  model: more.model ?? 'm',
  shadow: more.shadow ?? 2n,
  call: call(x, more),
});

/** y = 0.5x + 2 elementwise (half_plus_two); `fail` rejects a run whose x holds it. */
function engine(options: { fail?: number; reduce?: boolean } = {}) {
  const runs: HostTensor[] = [];
  /** Each run's inCallerThread hint. */
  const inCallerThread: Array<boolean | undefined> = [];
  const e = {
    run: async ({ inputs, inCallerThread: hint }: RunRequest) => {
      const x = inputs.get('x')!;
      runs.push(x);
      inCallerThread.push(hint);
      const values = Array.from(x.data as Float32Array);
      if (options.fail !== undefined && values.includes(options.fail)) throw invalidArgument(`bad input ${options.fail}`);
      if (options.reduce) return new Map([['y', floats([1], [values.reduce((a, b) => a + b, 0)])]]);
      return new Map([['y', floats([...x.shape], values.map((v) => 0.5 * v + 2))]]);
    },
  } as unknown as ModelEngine;
  return { engine: e, runs, inCallerThread };
}

const spec = (shape: number[] | undefined) => ({ alias: 'x', tensorName: 'x:0', dtype: DataType.DT_FLOAT, shape });
const signature = (input: number[] | undefined, output: number[] | undefined = input): SignatureInfo => ({
  key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: [spec(input)], outputs: [{ ...spec(output), alias: 'y' }],
});
const ys = (results: CopyResult[]): unknown[] => results.map((r) => ('outputs' in r ? Array.from(r.outputs.get('y')!.data as Float32Array) : String(r.error)));

describe('shadow batches', () => {
  it('takes the queued copies that can share a run, up to the row bound, and leaves the others in order', () => {
    const queue = [
      copy(floats([1], [1])),
      copy(floats([1], [2]), { shadow: 3n }),
      copy(floats([2], [3, 4])),
      copy(floats([1, 2], [5, 6])),
      copy(floats([1], [7]), { signatureName: 'other' }),
      copy(floats([1], [8]), { outputFilter: ['y'] }),
      copy({ dtype: DataType.DT_DOUBLE, shape: [1], data: Float64Array.of(9) }),
      copy(floats([1], [10]), { model: 'n' }),
      copy(floats([1], [11])),
      copy(floats([1], [12])),
    ];
    const batch = takeBatch(queue, 4);
    assert.deepEqual(batch.map((c) => c.call.inputs.get('x')!.data[0]), [1, 3, 11], '1 + 2 + 1 rows; the other dims, version, signature, filter, dtype and model wait');
    assert.deepEqual(queue.map((c) => c.call.inputs.get('x')!.data[0]), [2, 5, 7, 8, 9, 10, 12]);
    assert.deepEqual(takeBatch(queue, 1).map((c) => c.call.inputs.get('x')!.data[0]), [2], 'a bound of 1 row: one copy per run');
  });

  it('never batches a copy without rows (no inputs, or scalars)', () => {
    const queue = [copy(floats([], [1])), copy(floats([], [2])), copy(floats([1], [3])), copy(floats([1], [4]))];
    assert.equal(takeBatch(queue, 32).length, 1);
    assert.equal(takeBatch(queue, 32).length, 1);
    assert.equal(takeBatch(queue, 32).length, 2);
  });

  it('runs a batch as one engine call and gives each copy its own rows', async () => {
    const { engine: e, runs } = engine();
    const calls = [call(floats([1], [1])), call(floats([2], [2, 3])), call(floats([1], [4]))];
    const results = await runCopies(e, signature([-1]), calls);
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]!.shape, [4]);
    assert.deepEqual(ys(results), [[2.5], [3, 3.5], [4]]);
  });

  it('runs the copies one by one when the batch fails, so only the bad copy fails', async () => {
    const { engine: e, runs, inCallerThread } = engine({ fail: 2 });
    const results = await runCopies(e, signature(undefined), [call(floats([1], [1])), call(floats([1], [2])), call(floats([1], [3]))]);
    assert.equal(runs.length, 4, 'the batch, then each copy');
    assert.deepEqual(ys(results), [[2.5], 'INVALID_ARGUMENT: bad input 2', [3.5]]);
    assert.deepEqual(inCallerThread, [true, true, true, true], 'batched and single shadow runs stay off the shared inter-op pool');
  });

  it('runs the copies one by one when the outputs do not have the batch\'s rows', async () => {
    const { engine: e, runs } = engine({ reduce: true });
    const results = await runCopies(e, signature(undefined), [call(floats([1], [1])), call(floats([1], [2]))]);
    assert.equal(runs.length, 3);
    assert.deepEqual(ys(results), [[1], [2]]);
  });

  it('never batches a signature that declares a fixed dim 0', async () => {
    for (const sig of [signature([1]), signature([-1], [1]), signature([-1], [])]) {
      const { engine: e, runs } = engine();
      const results = await runCopies(e, sig, [call(floats([1], [1])), call(floats([1], [2]))]);
      assert.equal(runs.length, 2);
      assert.deepEqual(ys(results), [[2.5], [3]]);
    }
  });
});
