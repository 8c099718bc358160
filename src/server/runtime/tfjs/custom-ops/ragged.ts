/**
 * Ragged tensor ops. tfjs-core implements them, but tfjs-converter never registers its ragged op
 * table, so graphs using them fail with "Unknown op"; these adapters call tfjs-core directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getInt } from '../../graph/attrs.js';
import type { CustomOpImpl } from './context.js';

export const raggedTensorToTensor: CustomOpImpl = ([shape, values, defaultValue, ...partitions], node) => {
  const attr = node.attr['row_partition_types']?.value;
  const types = attr?.case === 'list' ? attr.value.s.map((s) => new TextDecoder().decode(s)) : [];
  if (shape!.rank > 0) return tf.raggedTensorToTensor(shape!, values!, defaultValue!, partitions, types);
  // A scalar shape (TensorFlow passes -1) means every dimension is inferred.
  const raggedRank = types.filter((t) => t !== 'FIRST_DIM_SIZE').length;
  return tf.tidy(() => {
    const inferred = tf.fill([values!.rank + raggedRank], -1, shape!.dtype as 'int32');
    return tf.raggedTensorToTensor(inferred, values!, defaultValue!, partitions, types);
  });
};

export const raggedRange: CustomOpImpl = ([starts, limits, deltas]) => {
  const { rtNestedSplits, rtDenseValues } = tf.raggedRange(starts!, limits!, deltas!);
  return [rtNestedSplits, rtDenseValues];
};

/** Inputs: PARAMS_RAGGED_RANK nested splits, the dense values, the indices. */
export const raggedGather: CustomOpImpl = (inputs, node) => {
  const paramsRank = getInt(node, 'PARAMS_RAGGED_RANK') ?? inputs.length - 2;
  const outputRank = getInt(node, 'OUTPUT_RAGGED_RANK') ?? paramsRank;
  const splits = inputs.slice(0, paramsRank);
  const { outputNestedSplits, outputDenseValues } = tf.raggedGather(splits, inputs[paramsRank]!, inputs[paramsRank + 1]!, outputRank);
  return [...outputNestedSplits, outputDenseValues];
};
