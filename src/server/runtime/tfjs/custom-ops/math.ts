/** Elementwise ops TensorFlow has and tfjs-converter does not map. */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, unimplemented } from '../../../errors.js';
import type { CustomOpImpl } from './context.js';

/** erfc(x) = 1 - erf(x); tfjs's erf is accurate to about 1.5e-7 absolute. */
export const erfc: CustomOpImpl = ([x]) => tf.tidy(() => tf.sub(1, tf.erf(x!)));

/** SpaceToDepth (NHWC): moves block_size x block_size spatial blocks into the channels. */
export const spaceToDepth: CustomOpImpl = ([x], node) => {
  const block = Number(node.attr['block_size']?.value.value ?? 1);
  const format = node.attr['data_format']?.value;
  if (format?.case === 's' && new TextDecoder().decode(format.value) !== 'NHWC') {
    throw unimplemented('SpaceToDepth supports data_format NHWC only');
  }
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  if (h % block !== 0 || w % block !== 0) {
    throw invalidArgument(`Image height ${h} and width ${w} should be divisible by block_size: ${block}`);
  }
  return tf.tidy(() => {
    const split = tf.reshape(x!, [b, h / block, block, w / block, block, c]);
    return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), [b, h / block, w / block, block * block * c]);
  });
};

/**
 * Replaces tfjs-converter's MatrixBandPart mapping, which reads num_upper from input 1 (num_lower)
 * instead of input 2, so a causal mask band_part(x, -1, 0) came out as the full matrix.
 */
export const matrixBandPart: CustomOpImpl = ([a, lower, upper]) =>
  tf.linalg.bandPart(a!, lower!.dataSync()[0]!, upper!.dataSync()[0]!);

export const softsign: CustomOpImpl = ([x]) => tf.tidy(() => tf.div(x!, tf.add(tf.abs(x!), 1)));

/** Bucketize: index of the first boundary greater than the value (boundaries sorted). */
export const bucketize: CustomOpImpl = ([x], node) => {
  const attr = node.attr['boundaries']?.value;
  const boundaries = attr?.case === 'list' ? [...attr.value.f] : [];
  return tf.tidy(() => {
    if (boundaries.length === 0) return tf.zeros(x!.shape, 'int32');
    const b = tf.tensor1d(boundaries, 'float32');
    const flat = tf.reshape(tf.cast(x!, 'float32'), [-1]);
    // upperBound gives, per value, how many boundaries are <= it: the bucket index.
    const idx = tf.searchSorted(b, flat, 'right');
    return tf.reshape(idx, x!.shape);
  });
};

/** Differences beyond this cannot come from float32 rounding of int32-range values: an overflow. */
const OVERFLOW_GAP = 2 ** 30;

/** See graph/int64-checks.ts. */
export const checkInt64: CustomOpImpl = ([exact, approx], node) => {
  const a = exact!.dataSync();
  const b = approx!.dataSync();
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= OVERFLOW_GAP)) {
      const op = new TextDecoder().decode(node.attr['checked_op']?.value.case === 's' ? node.attr['checked_op'].value.value : undefined);
      throw invalidArgument(
        `int64 ${op} in node "${node.name}" gives about ${b[i]!.toExponential(6)}, outside the int32 range ` +
          'this runtime computes int64 tensors in (use --runtime=tensorflow for full int64 support)',
      );
    }
  }
  return tf.clone(exact!);
};
