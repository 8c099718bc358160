import assert from 'node:assert/strict';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { compareOutputs, compareTensors } from './output-compare.js';

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(values) });

describe('shadow output comparison', () => {
  it('reports the largest absolute and relative difference', () => {
    const c = compareTensors(f32([3], [1, 2, 4]), f32([3], [1, 2.5, 3]));
    assert.equal(c.maxAbsDiff, 1);
    assert.equal(c.maxRelDiff, 0.25);
    assert.deepEqual(compareTensors(f32([2], [0, -1]), f32([2], [0, -1])), { maxAbsDiff: 0, maxRelDiff: 0, top1: undefined });
  });

  it('reads [batch, classes] float outputs as class scores: top-1 agreement per row', () => {
    const primary = f32([3, 3], [0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.3, 0.3, 0.4]);
    const shadow = f32([3, 3], [0.2, 0.6, 0.2, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7]);
    assert.deepEqual(compareTensors(primary, shadow).top1, { agree: 2, rows: 3 });
    assert.equal(compareTensors(f32([3, 1], [1, 2, 3]), f32([3, 1], [1, 2, 3])).top1, undefined);
  });

  it('treats a missing output, a shape or dtype change, or a new NaN as an infinite difference', () => {
    const [missing] = compareOutputs(new Map([['y', f32([1], [1])]]), new Map());
    assert.deepEqual(missing, { output: 'y', maxAbsDiff: Infinity, maxRelDiff: Infinity });
    assert.equal(compareTensors(f32([2], [1, 2]), f32([1, 2], [1, 2])).maxAbsDiff, Infinity);
    assert.equal(compareTensors(f32([1], [1]), { dtype: DataType.DT_DOUBLE, shape: [1], data: Float64Array.from([1]) }).maxAbsDiff, Infinity);
    assert.equal(compareTensors(f32([2], [1, NaN]), f32([2], [1, 2])).maxAbsDiff, Infinity);
    assert.equal(compareTensors(f32([2], [1, NaN]), f32([2], [1, NaN])).maxAbsDiff, 0);
    assert.equal(compareTensors(f32([1], [Infinity]), f32([1], [1])).maxAbsDiff, Infinity);
  });

  it('compares integer and string outputs exactly', () => {
    const i64 = (v: bigint[]): HostTensor => ({ dtype: DataType.DT_INT64, shape: [v.length], data: BigInt64Array.from(v) });
    assert.equal(compareTensors(i64([1n, 5n]), i64([1n, 2n])).maxAbsDiff, 3);
    const str = (v: string[]): HostTensor => ({ dtype: DataType.DT_STRING, shape: [v.length], data: v.map((t) => Buffer.from(t)) });
    assert.equal(compareTensors(str(['a', 'b']), str(['a', 'b'])).maxAbsDiff, 0);
    assert.equal(compareTensors(str(['a', 'b']), str(['a', 'c'])).maxAbsDiff, Infinity);
  });
});
