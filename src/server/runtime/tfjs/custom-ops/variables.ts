/** Live variable state for models whose signatures assign variables (e.g. a counter). */
import * as tf from '@tensorflow/tfjs-core';
import { failedPrecondition } from '../../../errors.js';
import { getString } from '../../graph/attrs.js';
import { VARIABLE_ATTR } from '../../graph/names.js';
import type { CustomOpImpl } from './context.js';

export const readVariable: CustomOpImpl = (_inputs, node, model) => {
  const key = getString(node, VARIABLE_ATTR)!;
  const value = model.variables.get(key);
  if (!value) throw failedPrecondition(`Variable ${key} is not initialized`);
  return tf.clone(value);
};

export const assignVariable: CustomOpImpl = (inputs, node, model) => {
  const key = getString(node, VARIABLE_ATTR)!;
  const mode = getString(node, 'mode');
  const old = model.variables.get(key);
  const value = inputs[0]!;
  if (mode !== 'assign' && !old) throw failedPrecondition(`Variable ${key} is not initialized`);
  const next = tf.tidy(() => {
    if (mode === 'add') return tf.add(old!, value);
    if (mode === 'sub') return tf.sub(old!, value);
    return tf.clone(value);
  });
  tf.keep(next);
  model.variables.set(key, next);
  old?.dispose();
  return tf.clone(next);
};

/** Forwards input 0; the other inputs exist only to be computed first. */
export const after: CustomOpImpl = (inputs) => tf.clone(inputs[0]!);
