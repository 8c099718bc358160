/** The graph of a meta graph plus its function library, converted to IR on demand. */
import type { FunctionDef } from '../../../gen/tensorflow/core/framework/function_pb.js';
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { invalidArgument } from '../../errors.js';
import { type IrFunction, type IrNode, functionFromFunctionDef, nodeFromGraphDef } from './ir.js';
import { OpRegistry } from './op-registry.js';

/** Something holding nodes: the top-level graph or a function body. */
export interface Body {
  readonly name: string;
  readonly nodes: Map<string, IrNode>;
  /** Function bodies only: output arg name -> "node:index". */
  readonly ret?: Map<string, string>;
}

export class FunctionLibrary {
  readonly registry: OpRegistry;
  private readonly defs: Map<string, FunctionDef>;
  private readonly converted = new Map<string, IrFunction>();

  constructor(metaGraph: MetaGraphDef) {
    this.defs = new Map((metaGraph.graphDef?.library?.function ?? []).map((f) => [f.signature!.name, f]));
    this.registry = new OpRegistry(metaGraph.metaInfoDef?.strippedOpList?.op ?? [], this.defs);
  }

  has(name: string): boolean {
    return this.defs.has(name) || this.converted.has(name);
  }

  /** A fresh, private copy of a function's body (callers mutate what they get). */
  instantiate(name: string): IrFunction {
    let fn = this.converted.get(name);
    if (!fn) {
      const def = this.defs.get(name);
      if (!def) throw invalidArgument(`Function "${name}" is not in the SavedModel's function library`);
      fn = functionFromFunctionDef(def, this.registry);
      this.converted.set(name, fn);
    }
    return cloneFunction(fn, fn.name);
  }

  /** Registers a rewritten function (e.g. a control-flow body specialised for one call site). */
  add(fn: IrFunction): void {
    if (this.has(fn.name)) throw new Error(`function ${fn.name} already exists`);
    this.converted.set(fn.name, fn);
  }

  get(name: string): IrFunction | undefined {
    return this.converted.get(name);
  }
}

export function topLevelBody(metaGraph: MetaGraphDef): Body {
  const nodes = new Map<string, IrNode>();
  for (const def of metaGraph.graphDef?.node ?? []) nodes.set(def.name, nodeFromGraphDef(def));
  return { name: '', nodes };
}

export function cloneNode(node: IrNode): IrNode {
  return { ...node, inputs: [...node.inputs], controlInputs: [...node.controlInputs], attr: { ...node.attr } };
}

export function cloneFunction(fn: IrFunction, name: string): IrFunction {
  const nodes = new Map<string, IrNode>();
  for (const [key, node] of fn.nodes) nodes.set(key, cloneNode(node));
  return {
    ...fn,
    name,
    inputArgs: [...fn.inputArgs],
    outputArgs: [...fn.outputArgs],
    nodes,
    ret: new Map(fn.ret),
    controlRet: [...fn.controlRet],
  };
}
