/** Elementwise ops TensorFlow has and tfjs-converter does not map. */
import * as tf from '@tensorflow/tfjs-core';
import type { CustomOpImpl } from './context.js';

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
