/** GatherV2 over string params: tfjs's gather accepts numeric tensors only. */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import { getInt } from '../../graph/attrs.js';
import { stringBytes } from '../convert.js';
import type { CustomOpImpl } from './context.js';

export const gatherStrings: CustomOpImpl = ([params, indicesTensor, axisTensor], node) => {
  const shape = params!.shape;
  const rank = shape.length;
  let axis = axisTensor ? axisTensor.dataSync()[0]! : 0;
  if (axis < 0) axis += rank;
  const batchDims = getInt(node, 'batch_dims') ?? 0;
  if (batchDims !== 0) throw invalidArgument(`GatherV2 node "${node.name}": batch_dims on string params is not supported`);
  const values = stringBytes(params!);
  const indices = indicesTensor!.dataSync();
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = shape[axis]!;
  const out: Uint8Array[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices) {
      if (raw < 0 || raw >= dim) throw invalidArgument(`indices = ${raw} is not in [0, ${dim})`);
      for (let i = 0; i < inner; i++) out.push(values[(o * dim + raw) * inner + i]!);
    }
  }
  return tf.tensor(out, [...shape.slice(0, axis), ...indicesTensor!.shape, ...shape.slice(axis + 1)], 'string');
};
