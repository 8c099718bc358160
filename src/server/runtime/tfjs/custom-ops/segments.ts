/**
 * UnsortedSegmentSum/Max/Min/Prod, computed on host arrays (tfjs-converter maps none of them).
 * As in TensorFlow: segment_ids cover a prefix of data's shape, negative ids drop their rows,
 * ids >= num_segments are an error, and an empty segment holds the reduction's identity (0, 1,
 * the dtype's lowest value for Max, its highest for Min).
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { CustomOpImpl } from './context.js';

type Reduction = 'sum' | 'max' | 'min' | 'prod';

const FLOAT_MAX = 3.4028234663852886e38;
const INT_MAX = 2147483647;

function identity(reduction: Reduction, dtype: tf.DataType): number {
  const top = dtype === 'int32' ? INT_MAX : FLOAT_MAX;
  switch (reduction) {
    case 'sum': return 0;
    case 'prod': return 1;
    case 'max': return dtype === 'int32' ? -INT_MAX - 1 : -top;
    case 'min': return top;
  }
}

const combine: Record<Reduction, (a: number, b: number) => number> = {
  sum: (a, b) => a + b,
  prod: (a, b) => a * b,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
};

function unsortedSegment(reduction: Reduction, name: string): CustomOpImpl {
  return ([data, segmentIds, numSegmentsTensor], node) => {
    const x = data!;
    const ids = segmentIds!.dataSync();
    const numSegments = Number(numSegmentsTensor!.dataSync()[0]);
    const idShape = segmentIds!.shape;
    if (!tf.util.arraysEqual(x.shape.slice(0, idShape.length), idShape)) {
      throw invalidArgument(`data.shape = [${x.shape}] does not start with segment_ids.shape = [${idShape}] (${name} node "${node.name}")`);
    }
    if (x.dtype !== 'float32' && x.dtype !== 'int32') throw invalidArgument(`${name}: unsupported dtype ${x.dtype}`);
    const inner = x.shape.slice(idShape.length);
    const width = inner.reduce((n, d) => n * d, 1);
    const values = x.dataSync();
    const out = x.dtype === 'int32' ? new Int32Array(numSegments * width) : new Float32Array(numSegments * width);
    out.fill(identity(reduction, x.dtype));
    const op = combine[reduction];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      if (id >= numSegments) throw invalidArgument(`segment_ids[${i}] = ${id} is out of range [0, ${numSegments})`);
      for (let j = 0; j < width; j++) out[id * width + j] = op(out[id * width + j]!, values[i * width + j]!);
    }
    return tf.tensor(out, [numSegments, ...inner], x.dtype);
  };
}

export const unsortedSegmentSum = unsortedSegment('sum', 'UnsortedSegmentSum');
export const unsortedSegmentMax = unsortedSegment('max', 'UnsortedSegmentMax');
export const unsortedSegmentMin = unsortedSegment('min', 'UnsortedSegmentMin');
export const unsortedSegmentProd = unsortedSegment('prod', 'UnsortedSegmentProd');
