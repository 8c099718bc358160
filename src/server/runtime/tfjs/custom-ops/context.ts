/**
 * tfjs calls a custom op with its inputs and a lower-cased copy of its string attrs, and nothing
 * about the model it belongs to. So every custom-op node in an exported graph carries two int
 * attrs, the model's id and the node's index, and the op looks up the original node (exact attrs)
 * and the model's live state here.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '@tensorflow/tfjs-converter';
import type { IrNode } from '../../graph/ir.js';

export const MODEL_ID_ATTR = '_tfm_model';
export const NODE_INDEX_ATTR = '_tfm_node';

export interface ModelContext {
  readonly id: number;
  /** Custom-op nodes by index, with their original attrs. */
  readonly nodes: IrNode[];
  /** Live values of the variables the model assigns, by checkpoint key. */
  readonly variables: Map<string, tf.Tensor>;
}

const contexts = new Map<number, ModelContext>();
let nextId = 1;

export function createModelContext(): ModelContext {
  const context: ModelContext = { id: nextId++, nodes: [], variables: new Map() };
  contexts.set(context.id, context);
  return context;
}

/** `dispose` false: the backend holding the tensors is gone (a trapped wasm instance); just forget them. */
export function releaseModelContext(context: ModelContext, dispose = true): void {
  if (dispose) for (const tensor of context.variables.values()) tensor.dispose();
  context.variables.clear();
  contexts.delete(context.id);
}

export function contextOf(graphNode: GraphNode): { model: ModelContext; node: IrNode } {
  const model = contexts.get(graphNode.attrs[MODEL_ID_ATTR] as number);
  const node = model?.nodes[graphNode.attrs[NODE_INDEX_ATTR] as number];
  if (!model || !node) throw new Error('custom op called outside a loaded model');
  return { model, node };
}

/** A custom op: inputs, the original node, the model's context, tfjs's node value -> outputs. */
export type CustomOpImpl = (
  inputs: tf.Tensor[],
  node: IrNode,
  model: ModelContext,
  graphNode: GraphNode,
) => tf.Tensor | tf.Tensor[];
