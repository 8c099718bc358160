/**
 * TensorListStack and TensorListSetItem over tfjs's own tensor lists, which live in its execution
 * context and reach custom ops only as the node value's `context`. Fixed here:
 * - tfjs's TensorList.stack calls tf.stack on the elements, which fails for an empty list;
 *   TensorFlow returns a [0, ...element_shape] tensor (a loop that ran zero times).
 * - tfjs forgets the size a TensorListReserve asked for; TensorFlow stacks every reserved element,
 *   zeros where nothing was written (dynamic_rnn with sequence_length stops at the longest row).
 *   The graph pass in tfjs/tensor-list-size.ts feeds the reserved size as an extra input.
 * - At the end of each While body run, tfjs disposes every tensor the body computed that is not
 *   an input or output of the body, kept or not: an element written into a list from an
 *   intermediate value was disposed before the stack read it. SetItem stores its own copy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '@tensorflow/tfjs-converter';
import { internal, invalidArgument } from '../../../errors.js';
import { getInt, getType } from '../../graph/attrs.js';
import { DataType } from '../../tensor/dtypes.js';
import { tfjsDtypeOf } from '../convert.js';
import type { CustomOpImpl } from './context.js';

interface TfjsTensorList {
  readonly idTensor: tf.Tensor;
  readonly tensors: Array<tf.Tensor | undefined>;
  size(): number;
  setItem(index: number, tensor: tf.Tensor): void;
  stack(elementShape: number[], elementDtype: tf.DataType, numElements: number): tf.Tensor;
}

interface ExecutionContextView {
  getTensorList(id: number): TfjsTensorList | undefined;
}

function listOf(graphNode: GraphNode, handle: tf.Tensor, op: string): TfjsTensorList {
  const context = (graphNode as unknown as { context?: ExecutionContextView }).context;
  const list = context?.getTensorList(handle.id);
  if (!list) throw internal(`${op}: tfjs execution context or tensor list not found`);
  return list;
}

export const tensorListStack: CustomOpImpl = ([handle, shapeTensor, reserved], node, _model, graphNode) => {
  const dtype = tfjsDtypeOf(getType(node, 'element_dtype') ?? DataType.DT_FLOAT);
  const elementShape = shapeTensor!.rank === 0 ? [] : Array.from(shapeTensor!.dataSync());
  const unknownRank = shapeTensor!.rank === 0 && shapeTensor!.dataSync()[0] === -1;
  const list = listOf(graphNode, handle!, 'TensorListStack');
  const size = Math.max(list.size(), reserved ? reserved.dataSync()[0]! : 0);
  const written = list.tensors.filter((t): t is tf.Tensor => t !== undefined);
  if (written.length > 0 && written.length === size && list.tensors.length === size) {
    return list.stack(unknownRank ? [] : elementShape, dtype, getInt(node, 'num_elements') ?? -1);
  }
  const shape = written[0]?.shape ?? elementShape;
  if (unknownRank || shape.some((d) => d < 0)) {
    throw invalidArgument(
      `Tried to stack elements of an empty list with non-fully-defined element_shape: [${unknownRank ? '?' : elementShape.join(',')}]`,
    );
  }
  if (size === 0) return tf.zeros([0, ...shape], dtype);
  return tf.tidy(() => tf.stack(Array.from({ length: size }, (_, i) => list.tensors[i] ?? tf.zeros(shape, dtype)), 0));
};

export const tensorListSetItem: CustomOpImpl = ([handle, index, item], _node, _model, graphNode) => {
  const list = listOf(graphNode, handle!, 'TensorListSetItem');
  list.setItem(index!.dataSync()[0]!, tf.clone(item!));
  return list.idTensor;
};
