import assert from 'node:assert/strict';
import { DataType } from '../runtime/tensor/dtypes.js';
import { type HostTensor, elementsOf } from '../runtime/tensor/host-tensor.js';
import { concatRows, padTrailingDims, repeatFirstRow, splitRows } from './tensor-rows.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (t: HostTensor): string[] => (t.data as Uint8Array[]).map((b) => new TextDecoder().decode(b));

describe('tensor rows', () => {
  it('concatenates and splits numeric tensors along dim 0', () => {
    const a: HostTensor = { dtype: DataType.DT_INT64, shape: [1, 2], data: BigInt64Array.from([1n, 2n]) };
    const b: HostTensor = { dtype: DataType.DT_INT64, shape: [2, 2], data: BigInt64Array.from([3n, 4n, 5n, 6n]) };
    const merged = concatRows([a, b]);
    assert.deepEqual(merged.shape, [3, 2]);
    assert.ok(merged.data instanceof BigInt64Array);
    assert.deepEqual(elementsOf(merged), [1n, 2n, 3n, 4n, 5n, 6n]);
    const [first, second] = splitRows(merged, [1, 2]);
    assert.deepEqual(first, a);
    assert.deepEqual(second, b);
  });

  it('treats complex values as two slots per element', () => {
    const c: HostTensor = { dtype: DataType.DT_COMPLEX64, shape: [2, 1], data: Float32Array.from([1, -1, 2, -2]) };
    assert.deepEqual(splitRows(c, [1, 1]).map((t) => Array.from(t.data as Float32Array)), [[1, -1], [2, -2]]);
    assert.deepEqual(Array.from(repeatFirstRow(c, 2).data as Float32Array), [1, -1, 1, -1]);
  });

  it('handles string tensors', () => {
    const s: HostTensor = { dtype: DataType.DT_STRING, shape: [2], data: [bytes('a'), bytes('b')] };
    const merged = concatRows([s, { dtype: DataType.DT_STRING, shape: [1], data: [bytes('c')] }]);
    assert.deepEqual(text(merged), ['a', 'b', 'c']);
    assert.deepEqual(splitRows(merged, [2, 1]).map(text), [['a', 'b'], ['c']]);
    assert.deepEqual(text(repeatFirstRow(s, 3)), ['a', 'a', 'a']);
  });

  it('repeats the first row', () => {
    const t: HostTensor = { dtype: DataType.DT_FLOAT, shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) };
    const padded = repeatFirstRow(t, 3);
    assert.deepEqual(padded.shape, [3, 2]);
    assert.deepEqual(Array.from(padded.data as Float32Array), [1, 2, 1, 2, 1, 2]);
  });

  it('pads trailing dims with the first element, keeping dim 0', () => {
    const t: HostTensor = { dtype: DataType.DT_INT32, shape: [2, 1, 2], data: Int32Array.from([7, 8, 9, 10]) };
    const padded = padTrailingDims(t, [99, 2, 3]);
    assert.deepEqual(padded.shape, [2, 2, 3]);
    assert.deepEqual(Array.from(padded.data as Int32Array), [7, 8, 7, 7, 7, 7, 9, 10, 7, 7, 7, 7]);
    assert.equal(padTrailingDims(t, [2, 1, 2]), t);
  });

  it('pads string tensors and refuses to pad empty ones', () => {
    const s: HostTensor = { dtype: DataType.DT_STRING, shape: [1, 1], data: [bytes('x')] };
    assert.deepEqual(text(padTrailingDims(s, [1, 3])), ['x', 'x', 'x']);
    const empty: HostTensor = { dtype: DataType.DT_FLOAT, shape: [1, 0], data: new Float32Array(0) };
    assert.throws(() => padTrailingDims(empty, [1, 2]), /Got empty tensor in batch of non-empty tensors\./);
  });
});
