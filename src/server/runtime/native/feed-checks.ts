/**
 * What a request to the native engine is checked against before TF_SessionRun, read from the
 * SavedModel's graph (signature-io.ts does the checking, for every engine alike).
 *
 * TensorFlow's C++ session hands fed tensors to the kernels unchecked, and the pinned wheel's
 * oneDNN kernels abort the whole process on a shape the graph was not built for (MklConvOp:
 * "Check failed: index >= 0 && index < num_total_dims" for a rank-3 image; CombinedNonMaxSuppression:
 * "Check failed: d < dims()" for rank-2 scores; docs/hostile-input.md lists what was found). So an
 * input that reaches a shape-bound op is checked against both the SignatureDef's shape and its
 * Placeholder's declared shape (rank and known dimensions), as Python TensorFlow's Session.run
 * checks a feed. Inputs that flow through element-wise ops only keep TensorFlow's freedom
 * (half_plus_two declares x as [-1,1] and serves [3]), and a placeholder of unknown shape checks
 * nothing.
 */
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { SignatureChecks } from '../engine.js';
import { inlineReachableCalls } from '../graph/inline.js';
import { type IrNode, parseRef } from '../graph/ir.js';
import { FunctionLibrary, topLevelBody } from '../graph/library.js';
import { shapeAgnosticInputs } from '../graph/shape-agnostic.js';
import type { SignatureInfo } from '../savedmodel/signatures.js';
import { type DataType, baseDtype } from '../tensor/dtypes.js';

/** Signature key -> the checks of its inputs. */
export function sessionInputChecks(metaGraph: MetaGraphDef, signatures: readonly SignatureInfo[]): Map<string, SignatureChecks> {
  const top = topLevelBody(metaGraph);
  const placeholders = new Map([...top.nodes].filter(([, n]) => n.op.startsWith('Placeholder')));
  const producer = metaGraph.graphDef?.versions?.producer ?? 0;
  const bound = shapeBoundAliases(metaGraph, signatures);
  const result = new Map<string, SignatureChecks>();
  for (const signature of signatures) {
    // A dtype other than the SignatureDef's (TF Serving's half_plus_three declares its regress
    // input float and feeds a string placeholder): TensorFlow checks the placeholder's.
    const feedDtypes = new Map<string, DataType>();
    const feedShapes = new Map<string, readonly number[]>();
    for (const spec of signature.inputs) {
      const node = placeholders.get(parseRef(spec.tensorName).node);
      if (!node) continue;
      const dtype = node.attr['dtype']?.value;
      if (dtype?.case === 'type' && baseDtype(dtype.value) !== spec.dtype) feedDtypes.set(spec.alias, baseDtype(dtype.value));
      const shape = declaredShape(node, producer);
      if (shape) feedShapes.set(spec.alias, shape);
    }
    result.set(signature.key, {
      ...(feedDtypes.size > 0 ? { feedDtypes } : {}),
      feedShapes,
      shapeBound: bound.get(signature.key)!,
      sameBatch: false,
    });
  }
  return result;
}

/**
 * A Placeholder's `shape` attr, unless its rank is unknown. Graphs of producer version 21 and
 * older could not tell a scalar from an unknown shape, so TensorFlow's shape function for
 * Placeholder (array_ops.cc) reads a rank-0 shape there as unknown: TF Serving's
 * half_plus_three (producer 21) declares `tf_example` as `{}` and regresses a vector of Examples.
 */
function declaredShape(node: IrNode, producer: number): number[] | undefined {
  const attr = node.attr['shape']?.value;
  if (attr?.case !== 'shape' || attr.value.unknownRank) return undefined;
  if (attr.value.dim.length === 0 && producer <= 21) return undefined;
  return attr.value.dim.map((d) => Number(d.size));
}

/**
 * Per signature, the aliases whose tensors reach some op that is not element-wise, found on the
 * graph with every call reachable from the signature's outputs inlined. When the graph cannot be
 * followed (a call into a missing function), every input counts as bound.
 */
function shapeBoundAliases(metaGraph: MetaGraphDef, signatures: readonly SignatureInfo[]): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const signature of signatures) {
    const all = new Set(signature.inputs.map((s) => s.alias));
    try {
      const body = topLevelBody(metaGraph);
      inlineReachableCalls(body, signature.outputs.map((o) => parseRef(o.tensorName).node), new FunctionLibrary(metaGraph));
      const inputs = new Map(signature.inputs.map((s) => [s.alias, s.tensorName] as const));
      const free = shapeAgnosticInputs(body.nodes, { inputs });
      result.set(signature.key, new Set([...all].filter((alias) => !free.has(alias))));
    } catch {
      result.set(signature.key, all);
    }
  }
  return result;
}
