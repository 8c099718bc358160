/**
 * Bincount, DenseBincount and RaggedBincount on host arrays, as TensorFlow's CPU kernels count:
 * values >= size are dropped, a negative value fails the request, empty weights count 1 per
 * value, binary_output writes 1 for any count. (tfjs's DenseBincount answered counts where
 * binary_output asked for ones, and failed a negative value as UNIMPLEMENTED.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import type { CustomOpImpl } from './context.js';

type Out = Float32Array | Int32Array;

const NEGATIVE = 'Input arr must be non-negative!';

function binaryOutput(node: IrNode): boolean {
  const v = node.attr['binary_output']?.value;
  return v?.case === 'b' && v.value;
}

function sizeOf(sizeTensor: tf.Tensor): number {
  if (sizeTensor.rank !== 0) throw invalidArgument(`Shape must be rank 0 but is rank ${sizeTensor.rank}`);
  const size = sizeTensor.dataSync()[0]!;
  if (size < 0) throw invalidArgument(`size (${size}) must be non-negative`);
  return size;
}

const output = (weights: tf.Tensor, length: number): Out =>
  weights.dtype === 'int32' ? new Int32Array(length) : new Float32Array(length);

/** Counts values[from, to) into out[row * size ...], weighted by weights[i] when there are any. */
function count(values: ArrayLike<number>, weights: ArrayLike<number>, from: number, to: number, out: Out, row: number, size: number, binary: boolean, negative = NEGATIVE): void {
  for (let i = from; i < to; i++) {
    const value = values[i]!;
    if (value < 0) throw invalidArgument(negative);
    if (value >= size) continue;
    const k = row * size + value;
    if (binary) out[k] = 1;
    else out[k] = out[k]! + (weights.length > 0 ? weights[i]! : 1);
  }
}

/** Bincount(arr, size, weights): arr of any shape counted into [size]. */
export const bincount: CustomOpImpl = ([arr, sizeTensor, weights]) => {
  const size = sizeOf(sizeTensor!);
  const values = arr!.dataSync();
  const w = weights!.dataSync();
  if (w.length > 0 && w.length !== values.length) throw invalidArgument('Input indices and weights must have the same size.');
  const out = output(weights!, size);
  count(values, w, 0, values.length, out, 0, size, false);
  return tf.tensor(out, [size], weights!.dtype);
};

/** DenseBincount(input, size, weights): rank 1 into [size], rank 2 row by row into [rows, size]. */
export const denseBincount: CustomOpImpl = ([input, sizeTensor, weights], node) => {
  const x = input!;
  if (x.rank > 2) throw invalidArgument(`Shape must be at most rank 2 but is rank ${x.rank}`);
  const size = sizeOf(sizeTensor!);
  const values = x.dataSync();
  const w = weights!.dataSync();
  if (w.length > 0 && !tf.util.arraysEqual(weights!.shape, x.shape)) {
    throw invalidArgument(x.rank === 2 ? `weights shape [${weights!.shape}] does not match input shape [${x.shape}]` : 'Input indices and weights must have the same size.');
  }
  const binary = binaryOutput(node);
  const rows = x.rank === 2 ? x.shape[0]! : 1;
  const columns = x.rank === 2 ? x.shape[1]! : values.length;
  const out = output(weights!, rows * size);
  for (let r = 0; r < rows; r++) count(values, w, r * columns, (r + 1) * columns, out, r, size, binary);
  return tf.tensor(out, x.rank === 2 ? [rows, size] : [size], weights!.dtype);
};

/** RaggedBincount(splits, values, size, weights): one row of counts per ragged row. */
export const raggedBincount: CustomOpImpl = ([splitsTensor, valuesTensor, sizeTensor, weights], node) => {
  const size = sizeOf(sizeTensor!);
  const splits = splitsTensor!.dataSync();
  const values = valuesTensor!.dataSync();
  const w = weights!.dataSync();
  const rows = splits.length - 1;
  if (splits[0] !== 0) throw invalidArgument(`Splits must start with 0, not with ${splits[0]}`);
  if (splits[rows] !== values.length) {
    throw invalidArgument(`Splits must end with the number of values, got ${splits[rows]} instead of ${values.length}`);
  }
  if (w.length > 0 && w.length !== values.length) throw invalidArgument('Input indices and weights must have the same size.');
  const binary = binaryOutput(node);
  const out = output(weights!, rows * size);
  for (let r = 0; r < rows; r++) {
    if (splits[r + 1]! < splits[r]!) throw invalidArgument('Splits must be non-decreasing');
    count(values, w, splits[r]!, splits[r + 1]!, out, r, size, binary, 'Input must be non-negative');
  }
  return tf.tensor(out, [rows, size], weights!.dtype);
};
