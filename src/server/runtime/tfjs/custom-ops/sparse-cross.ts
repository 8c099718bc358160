/**
 * SparseCross (tf.sparse.cross_hashed, Keras HashedCrossing; also its string form) and
 * SparseCrossV2 (tf.sparse.cross): per batch row, the cartesian product of the row's features
 * across the sparse columns then the dense ones, the last column varying fastest. Hashed crosses
 * chain FingerprintCat64 from hash_key over each feature's hash (Fingerprint64 of a string, the
 * integer itself) modulo num_buckets, in unsigned 64-bit arithmetic as TensorFlow's kernel;
 * string crosses join the features (integers in decimal) with "_X_" or the given separator.
 * Outputs a SparseTensor: indices [crosses, 2], values, dense_shape [batch, most crosses].
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import { stringBytes } from '../convert.js';
import type { CustomOpImpl } from './context.js';

const MASK = (1n << 64n) - 1n;
const K_MUL = 0xc6a4a7935bd1e995n;
const INT64_MAX = (1n << 63n) - 1n;

const shiftMix = (v: bigint): bigint => v ^ (v >> 47n);

/** TensorFlow's FingerprintCat64. */
function fingerprintCat64(fp1: bigint, fp2: bigint): bigint {
  let result = fp1 ^ K_MUL;
  result ^= (shiftMix((fp2 * K_MUL) & MASK) * K_MUL) & MASK;
  result = (result * K_MUL) & MASK;
  result = (shiftMix(result) * K_MUL) & MASK;
  return shiftMix(result);
}

/** One column: the features of each batch row, as strings or numbers. */
interface Column {
  count(batch: number): number;
  feature(batch: number, n: number): Uint8Array | number;
}

const read = (t: tf.Tensor): Array<Uint8Array | number> => (t.dtype === 'string' ? stringBytes(t) : Array.from(t.dataSync()));

function sparseColumn(indices: tf.Tensor, values: tf.Tensor, batchSize: number, position: number): Column {
  if (indices.rank !== 2 || indices.shape[1] !== 2) throw invalidArgument(`Input indices should be a matrix of [n, 2] but received shape [${indices.shape}] at position ${position}`);
  if (values.rank !== 1 || values.shape[0] !== indices.shape[0]) {
    throw invalidArgument(`Expected size of values to be ${indices.shape[0]} got ${values.shape[0]} at position ${position}`);
  }
  const rows = indices.dataSync();
  const data = read(values);
  const counts: number[] = [];
  const starts: number[] = [];
  let row = 0;
  for (let b = 0; b < batchSize; b++) {
    starts.push(row);
    while (row < data.length && rows[row * 2] === b) row++;
    counts.push(row - starts[b]!);
  }
  return { count: (b) => counts[b]!, feature: (b, n) => data[starts[b]! + n]! };
}

function denseColumn(dense: tf.Tensor, position: number): Column {
  if (dense.rank !== 2) throw invalidArgument(`Dense inputs should be a matrix but received shape [${dense.shape}] at position ${position}`);
  const width = dense.shape[1]!;
  const data = read(dense);
  return { count: () => width, feature: (b, n) => data[b * width + n]! };
}

function intAttr(node: IrNode, name: string): bigint {
  const v = node.attr[name]?.value;
  return v?.case === 'i' ? v.value : 0n;
}

function listLength(node: IrNode, name: string): number {
  const v = node.attr[name]?.value;
  return v?.case === 'list' ? v.value.type.length : 0;
}

const encoder = new TextEncoder();

function cross(inputs: tf.Tensor[], node: IrNode, mode: { hashed: false; separator: Uint8Array } | { hashed: true; buckets: bigint; key: bigint }): tf.Tensor[] {
  const n = Number(intAttr(node, 'N'));
  const denseCount = listLength(node, 'dense_types');
  const indices = inputs.slice(0, n);
  const values = inputs.slice(n, 2 * n);
  const shapes = inputs.slice(2 * n, 3 * n);
  const dense = inputs.slice(3 * n, 3 * n + denseCount);
  const batchSize = n > 0 ? Number(shapes[0]!.dataSync()[0]) : dense.length > 0 ? dense[0]!.shape[0]! : 0;
  shapes.forEach((s, i) => {
    if (Number(s.dataSync()[0]) !== batchSize) throw invalidArgument(`Expected batch size ${batchSize} got ${s.dataSync()[0]} at position ${i}`);
  });
  dense.forEach((d, i) => {
    if (d.shape[0] !== batchSize) throw invalidArgument(`Expected batch size ${batchSize} got ${d.shape[0]} at dense tensor ${i}`);
  });
  const columns = [...indices.map((ix, i) => sparseColumn(ix, values[i]!, batchSize, i)), ...dense.map((d, i) => denseColumn(d, i))];
  const outIndices: number[] = [];
  const outValues: Array<number | Uint8Array> = [];
  let most = 0;
  for (let b = 0; b < batchSize; b++) {
    const counts = columns.map((c) => c.count(b));
    const total = counts.length > 0 && counts.every((c) => c > 0) ? counts.reduce((x, y) => x * y, 1) : 0;
    most = Math.max(most, total);
    const pick = new Array<number>(columns.length).fill(0);
    for (let k = 0; k < total; k++) {
      outIndices.push(b, k);
      const features = columns.map((c, i) => c.feature(b, pick[i]!));
      outValues.push(mode.hashed ? hashCross(features, mode.buckets, mode.key) : joinCross(features, mode.separator));
      for (let i = columns.length - 1; i >= 0; i--) {
        pick[i]!++;
        if (pick[i]! < counts[i]!) break;
        pick[i] = 0;
      }
    }
  }
  const crosses = outValues.length;
  return [
    tf.tensor2d(outIndices, [crosses, 2], 'int32'),
    mode.hashed ? tf.tensor1d(outValues as number[], 'int32') : tf.tensor1d(outValues as unknown as string[], 'string'),
    tf.tensor1d([batchSize, most], 'int32'),
  ];
}

function featureHash(feature: Uint8Array | number): bigint {
  if (typeof feature === 'number') return BigInt.asUintN(64, BigInt(feature));
  return BigInt.asUintN(64, BigInt(tf.util.fingerPrint64(feature).toString()));
}

function hashCross(features: Array<Uint8Array | number>, buckets: bigint, key: bigint): number {
  let hashed = BigInt.asUintN(64, key);
  for (const feature of features) hashed = fingerprintCat64(hashed, featureHash(feature));
  const value = buckets > 0n ? hashed % buckets : hashed % INT64_MAX;
  // tfjs carries int64 as int32: a bucket id beyond it is refused, never wrapped.
  if (value > 2147483647n) throw invalidArgument(`hashed cross ${value} (num_buckets ${buckets}) is beyond the int32 range of this runtime`);
  return Number(value);
}

function joinCross(features: Array<Uint8Array | number>, separator: Uint8Array): Uint8Array {
  const parts = features.map((f) => (typeof f === 'number' ? encoder.encode(String(f)) : f));
  const length = parts.reduce((n, p) => n + p.length, 0) + separator.length * Math.max(0, parts.length - 1);
  const out = new Uint8Array(length);
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      out.set(separator, at);
      at += separator.length;
    }
    out.set(p, at);
    at += p.length;
  });
  return out;
}

export const sparseCross: CustomOpImpl = (inputs, node) => {
  const hashedAttr = node.attr['hashed_output']?.value;
  const hashed = hashedAttr?.case === 'b' && hashedAttr.value;
  return hashed
    ? cross(inputs, node, { hashed: true, buckets: intAttr(node, 'num_buckets'), key: intAttr(node, 'hash_key') })
    : cross(inputs, node, { hashed: false, separator: encoder.encode('_X_') });
};

export const sparseCrossV2: CustomOpImpl = (inputs, node) => {
  const sep = inputs[inputs.length - 1]!;
  if (sep.rank !== 0) throw invalidArgument(`Input separator should be a scalar. Received: [${sep.shape}]`);
  return cross(inputs.slice(0, -1), node, { hashed: false, separator: stringBytes(sep)[0]! });
};

/** ZerosLike of strings (tf.sparse.from_dense compares string features with it): empty strings. */
export const zerosLikeStrings: CustomOpImpl = ([x]) =>
  tf.tensor(new Array<Uint8Array>(x!.size).fill(new Uint8Array(0)), x!.shape, 'string');
