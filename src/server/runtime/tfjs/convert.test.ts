import assert from 'node:assert/strict';
import { Code, ServingError } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { fromTfjsValues, toTfjsValues } from './convert.js';

const invalid = (e: unknown): boolean => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT;

describe('host <-> tfjs values', () => {
  it('narrows int64 to int32, refusing values out of range (never wrapping)', () => {
    const ok = toTfjsValues({ dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.from([-2147483648n, 2147483647n]) });
    assert.equal(ok.dtype, 'int32');
    assert.deepEqual(Array.from(ok.values as Int32Array), [-2147483648, 2147483647]);
    assert.throws(() => toTfjsValues({ dtype: DataType.DT_INT64, shape: [1], data: BigInt64Array.from([2147483648n]) }, 'x'), invalid);
    const clamped = toTfjsValues({ dtype: DataType.DT_INT64, shape: [1], data: BigInt64Array.from([9223372036854775807n]) }, 'c', 'clamp');
    assert.deepEqual(Array.from(clamped.values as Int32Array), [2147483647]);
  });

  it('narrows float64 to float32, refusing finite values beyond float32', () => {
    const v = toTfjsValues({ dtype: DataType.DT_DOUBLE, shape: [3], data: Float64Array.from([0.1, Infinity, NaN]) });
    assert.equal(v.dtype, 'float32');
    assert.equal((v.values as Float32Array)[0], Math.fround(0.1));
    assert.throws(() => toTfjsValues({ dtype: DataType.DT_DOUBLE, shape: [1], data: Float64Array.from([1e300]) }), invalid);
  });

  it('returns outputs in the declared dtype, wrapping small integers like a TensorFlow cast', () => {
    assert.deepEqual(Array.from(fromTfjsValues(Int32Array.from([256, 258, -1]), [3], DataType.DT_UINT8).data as Uint8Array), [0, 2, 255]);
    assert.deepEqual(Array.from(fromTfjsValues(Int32Array.from([7]), [1], DataType.DT_INT64).data as BigInt64Array), [7n]);
    assert.deepEqual(Array.from(fromTfjsValues(Uint8Array.from([0, 1]), [2], DataType.DT_BOOL).data as Uint8Array), [0, 1]);
  });

  it('takes int64 outputs answered as a BigInt64Array (tfjs-node) whole (issue 8, bug 2)', () => {
    const big = BigInt64Array.from([9007199254740993n, -5n]);
    const out = fromTfjsValues(big as unknown as ArrayLike<number>, [2], DataType.DT_INT64);
    assert.deepEqual(Array.from(out.data as BigInt64Array), [9007199254740993n, -5n]);
    const unsigned = fromTfjsValues(big as unknown as ArrayLike<number>, [2], DataType.DT_UINT64);
    assert.deepEqual(Array.from(unsigned.data as BigUint64Array), [9007199254740993n, 18446744073709551611n]);
    assert.deepEqual(Array.from(fromTfjsValues(BigInt64Array.from([3n]) as unknown as ArrayLike<number>, [1], DataType.DT_INT32).data as Int32Array), [3]);
  });

  it('converts half and bfloat16 bit patterns', () => {
    const half = toTfjsValues({ dtype: DataType.DT_HALF, shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x7c00]) });
    assert.deepEqual(Array.from(half.values as Float32Array), [1, -2, Infinity]);
    const back = fromTfjsValues(Float32Array.from([1, -2, 0.5]), [3], DataType.DT_HALF);
    assert.deepEqual(Array.from(back.data as Uint16Array), [0x3c00, 0xc000, 0x3800]);
    const bf = toTfjsValues({ dtype: DataType.DT_BFLOAT16, shape: [1], data: Uint16Array.from([0x3fc0]) });
    assert.deepEqual(Array.from(bf.values as Float32Array), [1.5]);
  });
});
