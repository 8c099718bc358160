/**
 * TF1's Select: condition, t and e of one shape, or a scalar condition, or a rank-1 condition
 * holding one bool per row of t and e (dynamic_rnn with sequence_length copies finished rows this
 * way). tfjs's where broadcasts from the right instead, so the row form is made explicit here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { CustomOpImpl } from './context.js';

export const selectV1: CustomOpImpl = ([condition, t, e], node) => {
  const cond = condition!;
  if (!tf.util.arraysEqual(t!.shape, e!.shape)) {
    throw invalidArgument(`'then' and 'else' must have the same size.  but received: [${t!.shape}] vs. [${e!.shape}] (node "${node.name}")`);
  }
  if (cond.rank === 1 && t!.rank > 1) {
    if (cond.shape[0] !== t!.shape[0]) {
      throw invalidArgument(`Number of batches of 'then' must match size of 'cond', but saw: ${t!.shape[0]} vs. ${cond.shape[0]} (node "${node.name}")`);
    }
    return tf.tidy(() => tf.where(tf.reshape(cond, [cond.shape[0]!, ...new Array<number>(t!.rank - 1).fill(1)]), t!, e!));
  }
  if (cond.rank !== 0 && !tf.util.arraysEqual(cond.shape, t!.shape)) {
    throw invalidArgument(`'cond' and 'then' must have the same size, but received: [${cond.shape}] vs. [${t!.shape}] (node "${node.name}")`);
  }
  return tf.where(cond, t!, e!);
};
