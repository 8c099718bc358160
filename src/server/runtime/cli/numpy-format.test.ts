import assert from 'node:assert/strict';
import { DataType } from '../tensor/dtypes.js';
import type { HostTensor, TensorData } from '../tensor/host-tensor.js';
import { halfToNumber, numberToHalf } from './dragon4.js';
import { formatNumpyStr } from './numpy-format.js';
import { callOracle, venvPython } from './test-oracle.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(seed: number, count: number, scale = 1): number[] {
  const rand = random(seed);
  return Array.from({ length: count }, () => scale * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()));
}

interface Case {
  readonly name: string;
  readonly tensor: HostTensor;
  readonly numpyDtype: string;
}

const NUMPY_DTYPES: Partial<Record<DataType, string>> = {
  [DataType.DT_FLOAT]: 'float32', [DataType.DT_DOUBLE]: 'float64', [DataType.DT_HALF]: 'float16',
  [DataType.DT_INT8]: 'int8', [DataType.DT_INT16]: 'int16', [DataType.DT_INT32]: 'int32', [DataType.DT_INT64]: 'int64',
  [DataType.DT_UINT8]: 'uint8', [DataType.DT_UINT16]: 'uint16', [DataType.DT_UINT32]: 'uint32', [DataType.DT_UINT64]: 'uint64',
  [DataType.DT_BOOL]: 'bool', [DataType.DT_STRING]: 'object',
};

function make(name: string, dtype: DataType, shape: number[], data: TensorData): Case {
  return { name, tensor: { dtype, shape, data }, numpyDtype: NUMPY_DTYPES[dtype]! };
}

const f32 = (name: string, shape: number[], values: number[]): Case => make(name, DataType.DT_FLOAT, shape, Float32Array.from(values));
const f64 = (name: string, shape: number[], values: number[]): Case => make(name, DataType.DT_DOUBLE, shape, Float64Array.from(values));
const bytes = (name: string, shape: number[], values: string[]): Case =>
  make(name, DataType.DT_STRING, shape, values.map((v) => Uint8Array.from(Buffer.from(v, 'latin1'))));

function cases(): Case[] {
  const list: Case[] = [
    f32('half_plus_two', [3, 1], [2.5, 3, 3.75]),
    f32('normal 1-D', [5], normals(1, 5)),
    f32('normal 2-D', [3, 4], normals(2, 12)),
    f32('normal 3-D', [2, 3, 4], normals(3, 24)),
    f32('wrapping row', [40], normals(4, 40)),
    f32('wrapping 2-D', [4, 25], normals(5, 100)),
    f32('large scale', [6], normals(6, 6, 1000)),
    f32('small scale', [6], normals(7, 6, 1e-3)),
    f32('huge scale', [2, 3], normals(8, 6, 1e7)),
    f32('uniform', [8], Array.from({ length: 8 }, random(9))),
    f32('integers', [10], Array.from({ length: 10 }, (_, i) => i)),
    f32('1e10 and 1', [2], [1e10, 1]),
    f32('1e-5 and 1', [2], [1e-5, 1]),
    f32('ratio 1000', [2], [1, 1000]),
    f32('ratio over 1000', [2], [1, 1000.5]),
    f32('1e-4 boundary', [2], [0.0001, 1]),
    f32('below 1e-4', [2], [0.0000999, 1]),
    f32('below 1e6', [2], [999999, 1]),
    f32('at 1e6', [2], [1e6, 1]),
    f32('nan and -inf', [3], [NaN, 1, -Infinity]),
    f32('only nan', [1], [NaN]),
    f32('infinities', [2], [Infinity, -Infinity]),
    f32('nan and inf', [2, 2], [NaN, Infinity, 0.5, 2]),
    f32('zeros', [2], [0, 0]),
    f32('negative zero', [2], [-0, 0]),
    f32('tiny', [2], [0, 1e-10]),
    f32('one value', [1], [3.14159]),
    f32('negatives', [2, 2], [-1.5, 2.25, -100.125, 0]),
    f32('0-d 2.5', [], [2.5]),
    f32('0-d 0.1', [], [0.1]),
    f32('0-d 1e-5', [], [1e-5]),
    f32('0-d 123456.7', [], [123456.7]),
    f32('0-d 1e6', [], [1e6]),
    f32('0-d -0', [], [-0]),
    f32('0-d nan', [], [NaN]),
    f32('0-d 3', [], [3]),
    f32('summarised 1-D', [2000], normals(10, 2000)),
    f32('summarised 2-D', [50, 50], normals(11, 2500)),
    f32('summarised 3-D', [10, 10, 20], normals(12, 2000, 10)),
    f32('summarised one axis', [1001, 1], normals(13, 1001)),
    f32('empty', [0], []),
    f32('empty 2-D', [2, 0], []),
    f64('float64 normal', [5], normals(14, 5)),
    f64('float64 scaled', [3, 3], normals(15, 9, 1e5)),
    f64('float64 1e8', [2], [1e8, 1]),
    f64('float64 tenths', [3], [0.1, 0.2, 0.30000000000000004]),
    f64('float64 0-d 0.1', [], [0.1]),
    f64('float64 0-d 1e16', [], [1e16]),
    f64('float64 0-d 1e-5', [], [1e-5]),
    make('float16', DataType.DT_HALF, [4], Uint16Array.from([0.5, 1.5, 1000, 0.1].map(numberToHalf))),
    make('float16 0-d', DataType.DT_HALF, [], Uint16Array.from([numberToHalf(0.1)])),
    make('int32', DataType.DT_INT32, [3], Int32Array.from([-3, 10, 200])),
    make('int32 2-D', DataType.DT_INT32, [2, 2], Int32Array.from([1, 2, 3, 4])),
    make('int32 wrapping', DataType.DT_INT32, [30], Int32Array.from(normals(16, 30, 1e6).map(Math.round))),
    make('int32 summarised', DataType.DT_INT32, [1500], Int32Array.from({ length: 1500 }, (_, i) => i * 7 - 3000)),
    make('int64', DataType.DT_INT64, [2], BigInt64Array.from([9007199254740993n, -1n])),
    make('int64 0-d', DataType.DT_INT64, [], BigInt64Array.from([5n])),
    make('uint8', DataType.DT_UINT8, [3], Uint8Array.from([0, 255, 7])),
    make('int8', DataType.DT_INT8, [2], Int8Array.from([-128, 127])),
    make('uint16', DataType.DT_UINT16, [2], Uint16Array.from([65535, 1])),
    make('int16', DataType.DT_INT16, [2], Int16Array.from([-32768, 5])),
    make('uint32', DataType.DT_UINT32, [2], Uint32Array.from([4294967295, 0])),
    make('uint64', DataType.DT_UINT64, [2], BigUint64Array.from([18446744073709551615n, 3n])),
    make('bool', DataType.DT_BOOL, [2], Uint8Array.from([1, 0])),
    make('bool 2-D', DataType.DT_BOOL, [2, 1], Uint8Array.from([1, 0])),
    make('bool 0-d', DataType.DT_BOOL, [], Uint8Array.from([1])),
    make('bool summarised', DataType.DT_BOOL, [1200], Uint8Array.from({ length: 1200 }, (_, i) => i % 3 === 0 ? 1 : 0)),
    bytes('bytes', [2], ['hello world!', 'abc!']),
    bytes('bytes quotes', [4], ["it's", 'say "hi"', `both ' and "`, '']),
    bytes('bytes escapes', [2], ['\x00\x01\n\t\\\r', '\xff\x80~\x7f']),
    bytes('bytes 2-D', [2, 2], ['a', 'bb', 'ccc', 'd']),
    bytes('bytes 0-d', [], ['x']),
    bytes('bytes wrapping', [30], Array.from({ length: 30 }, (_, i) => `token${i}`)),
    f32('rounding carries', [4], [0.999999999, 9.9999999, 0.0999999999, 1.0000001]),
    f64('float64 extremes', [3], [1e300, 5e-324, -2.2250738585072014e-308]),
    f64('float64 rounding carries', [3], [0.99999999999, 99.999999999, 1 / 3]),
  ];
  // Mixed magnitudes, to cover both notations, padding and digit counts broadly.
  const rand = random(42);
  for (let i = 0; i < 24; i++) {
    const count = 1 + Math.floor(rand() * 12);
    const spread = Math.floor(rand() * 8);
    const values = Array.from({ length: count }, () => (rand() - 0.3) * 10 ** (Math.floor(rand() * (2 * spread + 1)) - spread));
    list.push(i % 2 === 0 ? f32(`sweep ${i}`, [count], values) : f64(`sweep ${i}`, [count], values));
  }
  return list;
}

function jsonValues(c: Case): unknown[] {
  const { tensor } = c;
  if (tensor.dtype === DataType.DT_STRING) return (tensor.data as Uint8Array[]).map((b) => Buffer.from(b).toString('base64'));
  if (tensor.dtype === DataType.DT_BOOL) return Array.from(tensor.data as Uint8Array, (v) => v !== 0);
  if (tensor.dtype === DataType.DT_HALF) return Array.from(tensor.data as Uint16Array, (b) => String(halfToNumber(b)));
  return Array.from(tensor.data as ArrayLike<number | bigint>, (v) => (Object.is(v, -0) ? '-0.0' : String(v)));
}

describe('cli/numpy-format', function () {
  this.timeout(60_000);
  const all = cases();
  let expected: string[] = [];

  before(async function () {
    const venv = venvPython();
    if (!venv.python) {
      console.warn(`skipping: ${venv.skipReason}`);
      this.skip();
    }
    const arrays = all.map((c) => ({ dtype: c.numpyDtype, shape: c.tensor.shape, values: jsonValues(c) }));
    expected = await callOracle<string[]>(venv.python!, { mode: 'format', arrays });
  });

  it('prints every array exactly as str(numpy array) does', () => {
    const failures = all
      .map((c, i) => ({ name: c.name, ours: formatNumpyStr(c.tensor), numpy: expected[i]! }))
      .filter((r) => r.ours !== r.numpy);
    assert.deepEqual(failures, []);
  });
});
