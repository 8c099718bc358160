/**
 * Turns one meta graph of a SavedModel into a self-contained graph tfjs can execute: calls
 * inlined, variables replaced by checkpoint values (or live state where the graph assigns them),
 * assets pointed at files in the export directory, control flow rid of resources, everything
 * unreachable from the signatures' outputs removed.
 */
import { resolve, sep } from 'node:path';
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { failedPrecondition, invalidArgument, notFound } from '../../errors.js';
import type { TensorBundle } from '../checkpoint/tensor-bundle.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { describeSignatures } from '../savedmodel/signatures.js';
import { getString, getType, intAttr, scalarTensorAttr, stringAttr, typeAttr } from './attrs.js';
import { type CapturedObject, capturedObjectsByNode } from './checkpoint-keys.js';
import { isControlFlowOp, specializeControlFlow } from './control-flow.js';
import { inlineReachableCalls } from './inline.js';
import { type IrFunction, type IrNode, canonicalRef, parseRef } from './ir.js';
import { type Body, FunctionLibrary, topLevelBody } from './library.js';
import { RESOURCE_MARKER_OP, VARIABLE_ATTR } from './names.js';
import { bypassForwarding, orderSideEffects, pruneTo } from './prune.js';
import { assignedVariables, rewriteResourceOps } from './resources.js';
import { reachable } from './traverse.js';
import { insertInt64Checks } from './int64-checks.js';
import { isCaseOp, lowerCase } from './lower-case.js';
import { type TableInit, resolveTableInits } from './tables.js';
import { type DataType, DataType as DT } from '../tensor/dtypes.js';

export interface SignatureBinding {
  readonly key: string;
  readonly methodName: string;
  /** alias -> the tensor to feed ("node:index"); absent when the outputs do not depend on it. */
  readonly inputs: ReadonlyMap<string, string | undefined>;
  /**
   * alias -> the dtype the graph's feed point has. TensorFlow checks fed values against it, not
   * against the SignatureDef (which old exports sometimes got wrong).
   */
  readonly feedDtypes: ReadonlyMap<string, DataType>;
  /** alias -> the node holding the output (an Identity the freezer adds). */
  readonly outputs: ReadonlyMap<string, string>;
}

export interface FrozenGraph {
  readonly nodes: ReadonlyMap<string, IrNode>;
  /** Bodies of functional control flow, which tfjs runs as functions. */
  readonly functions: ReadonlyMap<string, IrFunction>;
  /** Checkpoint values of every variable the graph uses, by checkpoint key. */
  readonly variables: ReadonlyMap<string, HostTensor>;
  /** Keys of the variables some signature assigns (state lives beside the graph). */
  readonly mutableVariables: ReadonlySet<string>;
  readonly signatures: readonly SignatureBinding[];
  /** Hash tables to fill before the first run (from the init op). */
  readonly tables: readonly TableInit[];
  readonly producer: number;
}

export interface FreezeOptions {
  readonly metaGraph: MetaGraphDef;
  /** The SavedModel directory (assets are resolved under it). */
  readonly exportDir: string;
  readonly bundle: TensorBundle | undefined;
}

const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable']);

export async function freezeMetaGraph({ metaGraph, exportDir, bundle }: FreezeOptions): Promise<FrozenGraph> {
  const library = new FunctionLibrary(metaGraph);
  const top = topLevelBody(metaGraph);
  const captured = await capturedObjectsByNode(metaGraph, top, bundle);
  feedAssets(metaGraph, top, captured, exportDir);
  markVariables(top, captured);
  const tables = await resolveTableInits(metaGraph, top, library, exportDir);

  const { signatures, roots, inputNodes } = bindSignatures(metaGraph, top);

  // Inline calls and specialise control flow, in the top graph and every function it runs.
  const functions = new Map<string, IrFunction>();
  const pending: IrFunction[] = [];
  const expand = (body: Body, bodyRoots: string[]): void => {
    inlineReachableCalls(body, bodyRoots, library, () => true);
    for (const name of reachable(body, bodyRoots, true)) {
      if (isCaseOp(body.nodes.get(name)!.op)) lowerCase(body, body.nodes.get(name)!, library);
      const node = body.nodes.get(name)!;
      if (isControlFlowOp(node.op)) specializeControlFlow(body, node, library, functions, (fn) => pending.push(fn));
    }
  };
  expand(top, roots);
  for (let fn = pending.pop(); fn; fn = pending.pop()) expand(fn, functionRoots(fn));

  const bodies: Array<{ body: Body; roots: string[] }> = [
    { body: top, roots },
    ...[...functions.values()].map((fn) => ({ body: fn as Body, roots: functionRoots(fn) })),
  ];
  const mutable = new Set<string>();
  for (const { body, roots: r } of bodies) for (const key of assignedVariables(body, reachable(body, r, true))) mutable.add(key);

  const dtypeOf = (key: string): DataType => {
    const entry = bundle?.entry(key);
    if (!entry) throw notFound(`Variable ${key} is not in the SavedModel's checkpoint`);
    return entry.dtype;
  };
  // Signature inputs are fed by name, so forwarding through them must stay.
  const feedPoints = new Set([...roots, ...inputNodes]);
  for (const { body, roots: r } of bodies) {
    rewriteResourceOps(body, reachable(body, r, true), { mutable, dtypeOf });
    orderSideEffects(body);
    bypassForwarding(body, body === top ? feedPoints : new Set());
    // A function's return values may now skip its Identity nodes: prune from where they point.
    pruneTo(body, body === top ? r : functionRoots(body as IrFunction));
    insertInt64Checks(body);
    assertFrozen(body);
  }

  const usedKeys = new Set<string>();
  for (const { body } of bodies) {
    for (const node of body.nodes.values()) {
      const key = getString(node, VARIABLE_ATTR);
      if (key !== undefined) usedKeys.add(key);
    }
  }
  const variables = usedKeys.size > 0 && bundle ? await bundle.readMany([...usedKeys]) : new Map<string, HostTensor>();

  return {
    nodes: top.nodes,
    functions,
    variables,
    mutableVariables: mutable,
    signatures: signatures.map((s) => ({
      ...s,
      inputs: new Map([...s.inputs].map(([alias, ref]) => [alias, ref && top.nodes.has(parseRef(ref).node) ? ref : undefined])),
    })),
    tables,
    producer: metaGraph.graphDef?.versions?.producer ?? 0,
  };
}

function functionRoots(fn: IrFunction): string[] {
  return [...[...fn.ret.values()].map((r) => parseRef(r).node), ...fn.controlRet];
}

function bindSignatures(metaGraph: MetaGraphDef, top: Body): {
  signatures: SignatureBinding[];
  roots: string[];
  inputNodes: string[];
} {
  const signatures: SignatureBinding[] = [];
  const roots: string[] = [];
  const inputNodes: string[] = [];
  describeSignatures(metaGraph).forEach((sig, sigIndex) => {
    const inputs = new Map<string, string>();
    const feedDtypes = new Map<string, DataType>();
    for (const spec of sig.inputs) {
      const ref = canonicalRef(spec.tensorName);
      const feedNode = top.nodes.get(parseRef(ref).node);
      if (!feedNode) {
        throw invalidArgument(`Signature ${sig.key}: input ${spec.alias} names tensor ${spec.tensorName}, which is not in the graph`);
      }
      inputs.set(spec.alias, ref);
      feedDtypes.set(spec.alias, getType(feedNode, feedNode.op.startsWith('Placeholder') ? 'dtype' : 'T') ?? spec.dtype);
      inputNodes.push(feedNode.name);
    }
    const outputs = new Map<string, string>();
    sig.outputs.forEach((spec, outIndex) => {
      const ref = canonicalRef(spec.tensorName);
      if (!top.nodes.has(parseRef(ref).node)) {
        throw invalidArgument(`Signature ${sig.key}: output ${spec.alias} names tensor ${spec.tensorName}, which is not in the graph`);
      }
      const name = `tfm_output/${sigIndex}/${outIndex}`;
      top.nodes.set(name, {
        name, op: 'Identity', inputs: [ref], controlInputs: [], device: '', attr: { T: typeAttr(spec.dtype) },
      });
      outputs.set(spec.alias, name);
      roots.push(name);
    });
    signatures.push({ key: sig.key, methodName: sig.methodName, inputs, feedDtypes, outputs });
  });
  return { signatures, roots, inputNodes };
}

/** Top-level variables become resource markers carrying their checkpoint key. */
function markVariables(top: Body, captured: Map<string, CapturedObject>): void {
  for (const [name, object] of captured) {
    const node = top.nodes.get(name);
    if (object.kind !== 'variable' || !node || !VARIABLE_OPS.has(node.op)) continue;
    const isRef = node.op !== 'VarHandleOp';
    top.nodes.set(name, {
      ...node, op: RESOURCE_MARKER_OP, inputs: [], controlInputs: [],
      attr: { key: stringAttr(object.key), ref: intAttr(isRef ? 1 : 0) },
    });
  }
}

/**
 * TensorFlow feeds each asset tensor with the asset's path in the export directory at load time;
 * we make those tensors constants. Asset names that would leave the assets directory are refused.
 */
function feedAssets(metaGraph: MetaGraphDef, top: Body, captured: Map<string, CapturedObject>, exportDir: string): void {
  const assetsDir = resolve(exportDir, 'assets');
  const pathOf = (filename: string): string => {
    const path = resolve(assetsDir, filename);
    if (!path.startsWith(assetsDir + sep)) throw failedPrecondition(`Asset file name "${filename}" points outside ${assetsDir}`);
    return path;
  };
  const setPath = (nodeName: string, filename: string): void => {
    const node = top.nodes.get(nodeName);
    if (!node) return;
    top.nodes.set(nodeName, {
      ...node, op: 'Const', inputs: [], controlInputs: [],
      attr: { dtype: typeAttr(DT.DT_STRING), value: scalarTensorAttr(DT.DT_STRING, pathOf(filename)) },
    });
  };
  for (const asset of metaGraph.assetFileDef) {
    const info = asset.tensorInfo;
    if (info?.encoding.case === 'name') setPath(parseRef(info.encoding.value).node, asset.filename);
  }
  for (const [nodeName, object] of captured) {
    if (object.kind !== 'asset') continue;
    const asset = metaGraph.assetFileDef[object.assetFileDefIndex];
    if (asset) setPath(nodeName, asset.filename);
  }
}

/** Nothing resource-typed may reach tfjs. */
function assertFrozen(body: Body): void {
  for (const node of body.nodes.values()) {
    if (node.op === RESOURCE_MARKER_OP || VARIABLE_OPS.has(node.op) || node.op === 'ReadVariableOp') {
      throw failedPrecondition(
        `Node "${node.name}" (${node.op}) in ${body.name || 'the graph'} still refers to a resource after freezing`,
      );
    }
  }
}
