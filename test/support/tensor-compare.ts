/**
 * Compares a tensor we computed with TensorFlow's: same dtype and shape; floats within
 * |actual - expected| <= atol + rtol * |expected| (numpy.allclose, NaN equal to NaN), everything
 * else exactly. Returns a description of the first difference, or undefined when they match.
 */
import { DataType, isFloatingDtype, numpyName } from '../../src/server/runtime/tensor/dtypes.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';

export function describeMismatch(actual: HostTensor, expected: HostTensor, rtol: number, atol: number): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${numpyName(actual.dtype)} != expected ${numpyName(expected.dtype)}`;
  if (actual.shape.join(',') !== expected.shape.join(',')) return `shape [${actual.shape}] != expected [${expected.shape}]`;
  const a = actual.data as ArrayLike<number | bigint | Uint8Array>;
  const e = expected.data as ArrayLike<number | bigint | Uint8Array>;
  if (a.length !== e.length) return `${a.length} values != expected ${e.length}`;
  let worst: { index: number; excess: number } | undefined;
  for (let i = 0; i < e.length; i++) {
    const av = a[i]!;
    const ev = e[i]!;
    if (expected.dtype === DataType.DT_STRING) {
      if (Buffer.compare(Buffer.from(av as Uint8Array), Buffer.from(ev as Uint8Array)) !== 0) {
        return `string at index ${i}: ${JSON.stringify(Buffer.from(av as Uint8Array).toString())} != expected ${JSON.stringify(Buffer.from(ev as Uint8Array).toString())}`;
      }
    } else if (isFloatingDtype(expected.dtype)) {
      const x = av as number;
      const y = ev as number;
      if (Number.isNaN(y) ? Number.isNaN(x) : x === y) continue;
      const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
      if (!(excess <= 0) && (!worst || excess > worst.excess || Number.isNaN(excess))) worst = { index: i, excess };
    } else if (av !== ev) {
      return `value at index ${i}: ${av} != expected ${ev}`;
    }
  }
  if (worst) {
    return `value at index ${worst.index}: ${a[worst.index]} != expected ${e[worst.index]} (rtol ${rtol}, atol ${atol})`;
  }
  return undefined;
}
