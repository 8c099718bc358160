/**
 * Specialises functional control flow (While/If/Case) for the resources passed into it. TF2 passes
 * captured variables into loop and branch bodies as DT_RESOURCE arguments; tfjs has no resources,
 * so each such argument is removed and, inside a private copy of the body, replaced by a marker
 * naming the variable, which the resource pass then turns into a constant or a variable read.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttrValueSchema,
  AttrValue_ListValueSchema,
  NameAttrListSchema,
} from '../../../gen/tensorflow/core/framework/attr_value_pb.js';
import { unimplemented } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { getTypeList, stringAttr } from './attrs.js';
import { type IrFunction, type IrNode, formatRef, parseRef } from './ir.js';
import type { Body, FunctionLibrary } from './library.js';
import { RESOURCE_MARKER_OP } from './names.js';
import { rewriteRefs, variableKeyOf } from './traverse.js';

interface ControlFlowKind {
  /** Attrs naming the functions it runs. */
  readonly funcAttrs: readonly string[];
  /** True when `funcAttrs` is a single attr holding a list of functions (Case). */
  readonly funcList?: boolean;
  /** Node inputs before the function arguments (If/Case take the predicate/index first). */
  readonly argOffset: number;
  readonly typeAttr: string;
  /** Loops carry their arguments through: argument i is also output i. */
  readonly loop: boolean;
}

const KINDS: Readonly<Record<string, ControlFlowKind>> = {
  While: { funcAttrs: ['cond', 'body'], argOffset: 0, typeAttr: 'T', loop: true },
  StatelessWhile: { funcAttrs: ['cond', 'body'], argOffset: 0, typeAttr: 'T', loop: true },
  If: { funcAttrs: ['then_branch', 'else_branch'], argOffset: 1, typeAttr: 'Tin', loop: false },
  StatelessIf: { funcAttrs: ['then_branch', 'else_branch'], argOffset: 1, typeAttr: 'Tin', loop: false },
  Case: { funcAttrs: ['branches'], funcList: true, argOffset: 1, typeAttr: 'Tin', loop: false },
  StatelessCase: { funcAttrs: ['branches'], funcList: true, argOffset: 1, typeAttr: 'Tin', loop: false },
};

export const isControlFlowOp = (op: string): boolean => op in KINDS;

export interface FunctionSink {
  /** Called with each function body a control-flow node now refers to (new or already known). */
  (fn: IrFunction): void;
}

/**
 * Rewrites `node` (in `body`) so that it passes no resources, and makes sure every function it
 * refers to has been handed to `sink` once.
 */
export function specializeControlFlow(
  body: Body,
  node: IrNode,
  library: FunctionLibrary,
  known: Map<string, IrFunction>,
  sink: FunctionSink,
): void {
  const kind = KINDS[node.op]!;
  const types = getTypeList(node, kind.typeAttr) ?? [];
  const resourceArgs: number[] = [];
  const keys: string[] = [];
  types.forEach((t, i) => {
    if (t !== DataType.DT_RESOURCE) return;
    const key = variableKeyOf(body, node.inputs[i + kind.argOffset] ?? '');
    if (key === undefined) {
      throw unimplemented(
        `${node.op} node "${node.name}" passes a resource (argument ${i}) that is not a restored variable`,
      );
    }
    resourceArgs.push(i);
    keys.push(key);
  });
  const suffix = resourceArgs.length > 0 ? `__${sanitize(body.name)}_${sanitize(node.name)}` : '';

  const specialize = (fname: string, isLoopBody: boolean): string => {
    const name = fname + suffix;
    if (!known.has(name)) {
      const fn = library.instantiate(fname);
      fn.name = name;
      resourceArgs.forEach((argIndex, k) => {
        const arg = fn.inputArgs[argIndex]!;
        fn.nodes.set(arg.name, {
          name: arg.name, op: RESOURCE_MARKER_OP, inputs: [], controlInputs: [], attr: { key: stringAttr(keys[k]!) }, device: '',
        });
      });
      const removed = new Set(resourceArgs);
      fn.inputArgs = fn.inputArgs.filter((_, i) => !removed.has(i));
      if (isLoopBody) {
        for (const i of resourceArgs) fn.ret.delete(fn.outputArgs[i]!.name);
        fn.outputArgs = fn.outputArgs.filter((_, i) => !removed.has(i));
      }
      known.set(name, fn);
      sink(fn);
    }
    return name;
  };

  for (const attrName of kind.funcAttrs) {
    const value = node.attr[attrName]?.value;
    if (kind.funcList && value?.case === 'list') {
      const funcs = value.value.func.map((f) =>
        create(NameAttrListSchema, { name: specialize(f.name, false), attr: f.attr }),
      );
      node.attr[attrName] = create(AttrValueSchema, {
        value: { case: 'list', value: create(AttrValue_ListValueSchema, { func: funcs }) },
      });
    } else if (value?.case === 'func') {
      const isLoopBody = kind.loop && attrName === 'body';
      node.attr[attrName] = create(AttrValueSchema, {
        value: { case: 'func', value: create(NameAttrListSchema, { name: specialize(value.value.name, isLoopBody), attr: value.value.attr }) },
      });
    }
  }
  if (resourceArgs.length === 0) return;

  const removed = new Set(resourceArgs);
  const originalInputs = node.inputs;
  node.inputs = originalInputs.filter((_, i) => i < kind.argOffset || !removed.has(i - kind.argOffset));
  node.attr[kind.typeAttr] = create(AttrValueSchema, {
    value: { case: 'list', value: create(AttrValue_ListValueSchema, { type: types.filter((_, i) => !removed.has(i)) }) },
  });
  if (!kind.loop) return;
  const shapes = node.attr['output_shapes']?.value;
  if (shapes?.case === 'list' && shapes.value.shape.length === types.length) {
    node.attr['output_shapes'] = create(AttrValueSchema, {
      value: { case: 'list', value: create(AttrValue_ListValueSchema, { shape: shapes.value.shape.filter((_, i) => !removed.has(i)) }) },
    });
  }
  // Loop outputs shift down; a resource output now means the resource that went in.
  rewriteRefs(body, (ref) => {
    const { node: name, index } = parseRef(ref);
    if (name !== node.name) return ref;
    if (removed.has(index)) return originalInputs[index]!;
    return formatRef(name, index - resourceArgs.filter((r) => r < index).length);
  });
}

const sanitize = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');
