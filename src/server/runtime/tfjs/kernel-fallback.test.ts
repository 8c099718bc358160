/**
 * The wasm backend, with our fallbacks registered, must compute what tfjs's reference cpu backend
 * computes, for every dtype the graphs we run use. Each case here once differed on plain wasm.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initTfjs } from './setup.js';

const I = (v: number[], s: number[]): tf.Tensor => tf.tensor(v, s, 'int32');
const F = (v: number[], s: number[]): tf.Tensor => tf.tensor(v, s, 'float32');
const B = (v: number[], s: number[]): tf.Tensor => tf.tensor(v, s, 'bool');
const S = (v: string[], s: number[]): tf.Tensor => tf.tensor(v, s, 'string');

const CASES: Record<string, () => tf.Tensor> = {
  'ClipByValue int32': () => tf.clipByValue(I([1, 260, -5], [3]), 0, 255),
  'GatherV2 batch_dims=1, rank-1 indices': () =>
    tf.gather(F([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], [3, 4]), I([3, 1, 2], [3]), 1, 1),
  'GatherV2 batch_dims=1, rank-2 indices': () =>
    tf.gather(F([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], [3, 4]), I([3, 1, 2, 0, 1, 1], [3, 2]), 1, 1),
  'Reverse bool': () => tf.reverse(B([1, 0, 0], [3])),
  'StridedSlice bool': () => tf.stridedSlice(B([1, 0, 0, 1], [4]), [0], [4], [2]),
  'StridedSlice int32': () => tf.stridedSlice(I([1, 2, 3, 4, 5, 6], [2, 3]), [0, 0], [2, 3], [1, 2]),
  'Select bool': () => tf.where(B([1, 0], [2]), B([1, 1], [2]), B([0, 0], [2])),
  'Select float32 (native)': () => tf.where(B([1, 0], [1, 2]), F([1, 2, 3, 4], [2, 2]), F([9], [1])),
  'Cast int32 to bool': () => tf.cast(I([0, 2, -1], [3]), 'bool'),
  'Cast float32 to int32 (native)': () => tf.cast(F([1.7, -1.7, 2.5], [3]), 'int32'),
  'Expm1 small': () => tf.expm1(F([1e-7, 1], [2])),
  'Log1p small': () => tf.log1p(F([1e-7, 1], [2])),
  'BatchMatMul int32': () => tf.matMul(I([1, 2, 3, 4], [2, 2]), I([1, 0, 0, 1], [2, 2])),
  'OneHot float32': () => tf.oneHot(I([1, 0], [2]), 3, 1, 0, 'float32'),
  'OneHot int32 (native)': () => tf.oneHot(I([1, 0], [2]), 3, 5, -1, 'int32'),
  'Einsum (missing on wasm)': () => tf.einsum('ij,jk->ik', F([1, 2, 3, 4], [2, 2]), F([1, 0, 0, 1], [2, 2])),
  'Tile string': () => tf.tile(S(['a', 'b'], [1, 2]), [3, 1]),
  'GatherNd string': () => tf.gatherND(S(['a', 'b', 'c', 'd'], [2, 2]), I([1, 0], [1, 2])),
  'StridedSlice string': () => tf.stridedSlice(S(['a', 'b', 'c', 'd'], [4]), [0], [4], [2]),
  'Fill string': () => tf.fill([2], 'z', 'string'),
  'RaggedTensorToTensor (missing on wasm)': () =>
    tf.raggedTensorToTensor(I([2, 3], [2]), F([1, 2, 3], [3]), F([0], []), [I([0, 1, 3], [3])], ['ROW_SPLITS']),
  'UnsortedSegmentSum (missing on wasm)': () => tf.unsortedSegmentSum(F([1, 2, 3], [3]), tf.tensor1d([0, 1, 0], 'int32'), 2),
};

interface Result {
  dtype: string;
  shape: number[];
  values: Array<number | string>;
}

function compute(backend: string): Map<string, Result> {
  assert.ok(tf.setBackend(backend));
  const results = new Map<string, Result>();
  for (const [name, fn] of Object.entries(CASES)) {
    const t = tf.tidy(fn);
    results.set(name, { dtype: t.dtype, shape: t.shape, values: Array.from(t.dataSync() as ArrayLike<number | string>) });
    t.dispose();
  }
  return results;
}

describe('wasm kernels with cpu fallbacks', () => {
  let cpu: Map<string, Result>;
  let wasm: Map<string, Result>;
  before(async () => {
    await initTfjs('wasm');
    cpu = compute('cpu');
    wasm = compute('wasm');
  });
  after(() => tf.setBackend('wasm'));

  for (const name of Object.keys(CASES)) {
    it(`${name} matches the cpu backend`, () => {
      const want = cpu.get(name)!;
      const got = wasm.get(name)!;
      assert.equal(got.dtype, want.dtype);
      assert.deepEqual(got.shape, want.shape);
      got.values.forEach((v, i) => {
        const w = want.values[i]!;
        if (typeof w === 'string') assert.equal(v, w, `element ${i}`);
        else assert.ok(Math.abs((v as number) - w) <= 1e-6 * Math.abs(w), `element ${i}: ${v} != ${w}`);
      });
    });
  }
});
