/**
 * TensorListStack. tfjs's TensorList.stack calls tf.stack on the elements, which fails for an empty
 * list; TensorFlow returns a [0, ...element_shape] tensor (a loop that ran zero times). The lists
 * live in tfjs's execution context, which reaches custom ops only as the node value's `context`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '@tensorflow/tfjs-converter';
import { internal, invalidArgument } from '../../../errors.js';
import { getInt, getType } from '../../graph/attrs.js';
import { DataType } from '../../tensor/dtypes.js';
import { tfjsDtypeOf } from '../convert.js';
import type { CustomOpImpl } from './context.js';

interface TfjsTensorList {
  size(): number;
  stack(elementShape: number[], elementDtype: tf.DataType, numElements: number): tf.Tensor;
}

interface ExecutionContextView {
  getTensorList(id: number): TfjsTensorList | undefined;
}

function listOf(graphNode: GraphNode, handle: tf.Tensor): TfjsTensorList {
  const context = (graphNode as unknown as { context?: ExecutionContextView }).context;
  const list = context?.getTensorList(handle.id);
  if (!list) throw internal('TensorListStack: tfjs execution context or tensor list not found');
  return list;
}

export const tensorListStack: CustomOpImpl = ([handle, shapeTensor], node, _model, graphNode) => {
  const dtype = tfjsDtypeOf(getType(node, 'element_dtype') ?? DataType.DT_FLOAT);
  const elementShape = shapeTensor!.rank === 0 ? [] : Array.from(shapeTensor!.dataSync());
  const unknownRank = shapeTensor!.rank === 0 && shapeTensor!.dataSync()[0] === -1;
  const list = listOf(graphNode, handle!);
  if (list.size() > 0) return list.stack(unknownRank ? [] : elementShape, dtype, getInt(node, 'num_elements') ?? -1);
  if (unknownRank || elementShape.some((d) => d < 0)) {
    throw invalidArgument(
      `Tried to stack elements of an empty list with non-fully-defined element_shape: [${unknownRank ? '?' : elementShape.join(',')}]`,
    );
  }
  return tf.zeros([0, ...elementShape], dtype);
};
