/**
 * Which checkpoint key holds the value of each variable node of the top-level graph.
 *
 * TF2: signature calls pass captured variables as trailing inputs; the object graph's
 * concrete_functions[f].bound_inputs gives their object-graph node ids, and the checkpoint's own
 * object graph (_CHECKPOINTABLE_OBJECT_GRAPH) gives each id's VARIABLE_VALUE key.
 * TF1: the saver's RestoreV2 outputs are assigned to the variables; RestoreV2's tensor_names say
 * which key each output is.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { TrackableObjectGraphSchema } from '../../../gen/tensorflow/core/protobuf/trackable_object_graph_pb.js';
import { dataLoss } from '../../errors.js';
import type { TensorBundle } from '../checkpoint/tensor-bundle.js';
import { tensorFromProto } from '../tensor/host-tensor.js';
import { type IrNode, parseRef } from './ir.js';
import type { Body } from './library.js';

export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';
const VARIABLE_VALUE = 'VARIABLE_VALUE';

export type CapturedObject =
  | { kind: 'variable'; key: string }
  | { kind: 'asset'; assetFileDefIndex: number }
  | { kind: 'resource'; objectId: number };

/** Top-level node name -> what it stands for. */
export async function capturedObjectsByNode(
  metaGraph: MetaGraphDef,
  graph: Body,
  bundle: TensorBundle | undefined,
): Promise<Map<string, CapturedObject>> {
  const result = new Map<string, CapturedObject>();
  const savedObjects = metaGraph.objectGraphDef;
  if (savedObjects && bundle?.has(OBJECT_GRAPH_KEY)) {
    const raw = (await bundle.read(OBJECT_GRAPH_KEY)).data as Uint8Array[];
    let checkpointGraph;
    try {
      checkpointGraph = fromBinary(TrackableObjectGraphSchema, raw[0]!);
    } catch (error) {
      throw dataLoss(`Corrupt ${OBJECT_GRAPH_KEY} in checkpoint ${bundle.prefix}: ${(error as Error).message}`);
    }
    for (const node of graph.nodes.values()) {
      const fn = node.op.endsWith('PartitionedCall') ? funcAttr(node) : undefined;
      const concrete = fn ? savedObjects.concreteFunctions[fn] : undefined;
      if (!concrete) continue;
      const bound = concrete.boundInputs;
      const first = node.inputs.length - bound.length;
      bound.forEach((objectId, i) => {
        const captured = node.inputs[first + i];
        if (captured === undefined) return;
        const nodeName = parseRef(captured).node;
        const saved = savedObjects.nodes[objectId];
        if (saved?.kind.case === 'variable') {
          const key = checkpointGraph.nodes[objectId]?.attributes.find((a) => a.name === VARIABLE_VALUE)?.checkpointKey;
          if (key) result.set(nodeName, { kind: 'variable', key });
        } else if (saved?.kind.case === 'asset') {
          result.set(nodeName, { kind: 'asset', assetFileDefIndex: saved.kind.value.assetFileDefIndex });
        } else if (saved?.kind.case === 'resource') {
          result.set(nodeName, { kind: 'resource', objectId });
        }
      });
    }
  }
  for (const [name, key] of tf1RestoredVariables(graph)) {
    if (!result.has(name)) result.set(name, { kind: 'variable', key });
  }
  return result;
}

function funcAttr(node: IrNode): string | undefined {
  const f = node.attr['f']?.value;
  return f?.case === 'func' ? f.value.name : undefined;
}

/** Variable node name -> checkpoint key, from Assign(var, RestoreV2:i) edges of the saver. */
function tf1RestoredVariables(graph: Body): Map<string, string> {
  const result = new Map<string, string>();
  const namesOf = new Map<string, string[]>();
  const tensorNames = (restore: IrNode): string[] => {
    let names = namesOf.get(restore.name);
    if (!names) {
      const constNode = graph.nodes.get(parseRef(restore.inputs[1] ?? '').node);
      const value = constNode?.attr['value']?.value;
      names = value?.case === 'tensor'
        ? (tensorFromProto(value.value).data as Uint8Array[]).map((b) => new TextDecoder().decode(b))
        : [];
      namesOf.set(restore.name, names);
    }
    return names;
  };
  for (const node of graph.nodes.values()) {
    if (node.op !== 'Assign' && node.op !== 'AssignVariableOp') continue;
    const target = throughIdentity(graph, node.inputs[0]);
    const source = throughIdentity(graph, node.inputs[1]);
    if (!target || !source) continue;
    const restore = graph.nodes.get(source.node);
    if (restore?.op !== 'RestoreV2' && restore?.op !== 'RestoreV1' && restore?.op !== 'RestoreSlice') continue;
    const key = tensorNames(restore)[source.index];
    if (key !== undefined) result.set(target.node, key);
  }
  return result;
}

function throughIdentity(graph: Body, ref: string | undefined): { node: string; index: number } | undefined {
  if (ref === undefined) return undefined;
  let current = parseRef(ref);
  for (;;) {
    const node = graph.nodes.get(current.node);
    if (node?.op !== 'Identity' || node.inputs.length === 0) return current;
    current = parseRef(node.inputs[0]!);
  }
}
