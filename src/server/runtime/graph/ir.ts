/**
 * A mutable, simple graph representation the freezer rewrites. Unlike GraphDef/FunctionDef, every
 * data input is "node:index" with a flat output index (function bodies write
 * "node:out_arg:idx"), control inputs are kept apart, and nodes are looked up by name.
 */
import type { AttrValue } from '../../../gen/tensorflow/core/framework/attr_value_pb.js';
import type { FunctionDef } from '../../../gen/tensorflow/core/framework/function_pb.js';
import type { NodeDef } from '../../../gen/tensorflow/core/framework/node_def_pb.js';
import type { OpDef_ArgDef } from '../../../gen/tensorflow/core/framework/op_def_pb.js';
import { invalidArgument } from '../../errors.js';
import type { OpRegistry } from './op-registry.js';

export interface IrNode {
  name: string;
  op: string;
  /** Data inputs, each "node:index". */
  inputs: string[];
  /** Node names that must run before this one. */
  controlInputs: string[];
  attr: Record<string, AttrValue>;
  device: string;
}

/** A function body: arguments appear as nodes with op "_Arg" named after the arg. */
export interface IrFunction {
  name: string;
  inputArgs: OpDef_ArgDef[];
  outputArgs: OpDef_ArgDef[];
  nodes: Map<string, IrNode>;
  /** Output arg name -> "node:index". */
  ret: Map<string, string>;
  /** Nodes that must run whenever the function runs (side effects). */
  controlRet: string[];
  attr: FunctionDef['attr'];
}

export const ARG_OP = '_Arg';

export interface TensorRef {
  node: string;
  index: number;
}

export function parseRef(ref: string): TensorRef {
  const colon = ref.lastIndexOf(':');
  if (colon < 0) return { node: ref, index: 0 };
  return { node: ref.slice(0, colon), index: Number(ref.slice(colon + 1)) };
}

export const formatRef = (node: string, index: number): string => `${node}:${index}`;

/** Normalises "a" to "a:0". */
export const canonicalRef = (ref: string): string => {
  const { node, index } = parseRef(ref);
  return formatRef(node, index);
};

/** Converts a graph-level NodeDef ("node", "node:k", "^node" inputs). */
export function nodeFromGraphDef(def: NodeDef): IrNode {
  const inputs: string[] = [];
  const controlInputs: string[] = [];
  for (const input of def.input) {
    if (input.startsWith('^')) controlInputs.push(input.slice(1));
    else inputs.push(canonicalRef(input));
  }
  return { name: def.name, op: def.op, inputs, controlInputs, attr: { ...def.attr }, device: def.device };
}

/**
 * Converts a FunctionDef. Body inputs are "arg", "node:out_arg:idx" or "^node"; the output-arg
 * form is flattened using the producing op's OpDef (number_attr / type_list_attr args count as
 * several outputs).
 */
export function functionFromFunctionDef(def: FunctionDef, registry: OpRegistry): IrFunction {
  const sig = def.signature!;
  const byName = new Map(def.nodeDef.map((n) => [n.name, n]));
  const offsets = new Map<string, Map<string, number>>();
  const flatIndex = (nodeName: string, outArg: string, idx: number): number => {
    let table = offsets.get(nodeName);
    if (!table) {
      const node = byName.get(nodeName);
      const sizes = node && registry.outputArgSizes(node);
      if (!sizes) throw invalidArgument(`Function ${sig.name}: no OpDef for the op of node "${nodeName}" (${node?.op ?? 'missing'})`);
      table = new Map();
      let offset = 0;
      for (const { arg, size } of sizes) {
        table.set(arg.name, offset);
        offset += size;
      }
      offsets.set(nodeName, table);
    }
    const offset = table.get(outArg);
    if (offset === undefined) throw invalidArgument(`Function ${sig.name}: node "${nodeName}" has no output "${outArg}"`);
    return offset + idx;
  };
  const convertRef = (ref: string): string => {
    const parts = ref.split(':');
    if (parts.length === 1) return formatRef(parts[0]!, 0);
    if (parts.length === 2) return formatRef(parts[0]!, Number(parts[1]));
    return formatRef(parts[0]!, flatIndex(parts[0]!, parts[1]!, Number(parts[2])));
  };

  const nodes = new Map<string, IrNode>();
  for (const arg of sig.inputArg) {
    nodes.set(arg.name, { name: arg.name, op: ARG_OP, inputs: [], controlInputs: [], attr: {}, device: '' });
  }
  for (const n of def.nodeDef) {
    const inputs: string[] = [];
    const controlInputs: string[] = [];
    for (const input of n.input) {
      if (input.startsWith('^')) controlInputs.push(input.slice(1));
      else inputs.push(convertRef(input));
    }
    nodes.set(n.name, { name: n.name, op: n.op, inputs, controlInputs, attr: { ...n.attr }, device: n.device });
  }
  const ret = new Map<string, string>();
  for (const out of sig.outputArg) {
    const ref = def.ret[out.name];
    if (ref === undefined) throw invalidArgument(`Function ${sig.name}: output "${out.name}" has no return value`);
    ret.set(out.name, convertRef(ref));
  }
  const controlRet = Object.values(def.controlRet);
  return { name: sig.name, inputArgs: sig.inputArg, outputArgs: sig.outputArg, nodes, ret, controlRet, attr: def.attr };
}
