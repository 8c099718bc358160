/**
 * Inlines function calls. tfjs cannot execute PartitionedCall/StatefulPartitionedCall (TF2 wraps
 * every signature in them), so each call reachable from the roots is replaced by the callee's body,
 * its nodes prefixed with the call's name. The call node itself becomes an IdentityN of the
 * callee's return values, so consumers of "call:k" need no rewriting.
 */
import { unimplemented } from '../../errors.js';
import { ARG_OP, type IrNode, formatRef, parseRef } from './ir.js';
import { type Body, type FunctionLibrary } from './library.js';

const CALL_OPS = new Set(['PartitionedCall', 'StatefulPartitionedCall']);

/** The function a node calls, if it is a call (by call op, or by naming a library function). */
export function calleeOf(node: IrNode, library: FunctionLibrary): string | undefined {
  if (CALL_OPS.has(node.op)) {
    const f = node.attr['f']?.value;
    return f?.case === 'func' ? f.value.name : undefined;
  }
  return library.has(node.op) ? node.op : undefined;
}

/**
 * Walks back from `roots` over data inputs (and control inputs when `followControl` says so),
 * inlining every call met on the way, including calls inside inlined bodies.
 */
export function inlineReachableCalls(
  body: Body,
  roots: readonly string[],
  library: FunctionLibrary,
  followControl: (node: IrNode) => boolean = () => false,
): void {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const node = body.nodes.get(name);
    if (!node) continue;
    const callee = calleeOf(node, library);
    if (callee) inlineCall(body, node, callee, library);
    for (const input of node.inputs) stack.push(parseRef(input).node);
    if (followControl(node)) stack.push(...node.controlInputs);
  }
}

function inlineCall(body: Body, call: IrNode, callee: string, library: FunctionLibrary): void {
  const fn = library.instantiate(callee);
  if (fn.inputArgs.length !== call.inputs.length) {
    throw unimplemented(
      `Call "${call.name}" passes ${call.inputs.length} inputs to function ${callee}, which takes ${fn.inputArgs.length}`,
    );
  }
  const argBinding = new Map(fn.inputArgs.map((arg, i) => [arg.name, call.inputs[i]!]));
  const prefix = `${call.name}/`;
  const mapRef = (ref: string): string => {
    const { node, index } = parseRef(ref);
    return argBinding.get(node) ?? formatRef(prefix + node, index);
  };
  for (const inner of fn.nodes.values()) {
    if (inner.op === ARG_OP) continue;
    const name = prefix + inner.name;
    if (body.nodes.has(name)) throw unimplemented(`Cannot inline ${callee} into "${call.name}": node name ${name} already exists`);
    body.nodes.set(name, {
      ...inner,
      name,
      inputs: inner.inputs.map(mapRef),
      // Control edges to arguments carry no ordering once the arguments are plain tensors.
      controlInputs: inner.controlInputs.filter((c) => !argBinding.has(c)).map((c) => prefix + c),
    });
  }
  const tout = call.attr['Tout'];
  call.op = 'IdentityN';
  call.inputs = fn.outputArgs.map((out) => mapRef(fn.ret.get(out.name)!));
  // "^call" must still run the callee's side effects (e.g. a variable update).
  call.controlInputs = fn.controlRet.map((c) => prefix + c);
  call.attr = tout ? { T: tout } : {};
}
