/** Graph walking helpers shared by the freezer passes. */
import { getString } from './attrs.js';
import { formatRef, parseRef } from './ir.js';
import type { Body } from './library.js';
import { RESOURCE_MARKER_OP } from './names.js';

/** Names of the nodes reachable from `roots` over data inputs (and control inputs if asked). */
export function reachable(body: Body, roots: Iterable<string>, followControl: boolean): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    const node = body.nodes.get(name);
    if (!node) continue;
    seen.add(name);
    for (const input of node.inputs) stack.push(parseRef(input).node);
    if (followControl) stack.push(...node.controlInputs);
  }
  return seen;
}

/** Follows Identity-like forwarding (Identity, IdentityN, Snapshot) back to the producing tensor. */
export function traceForwarded(body: Body, ref: string): string {
  let current = parseRef(ref);
  for (let hops = 0; hops < 10_000; hops++) {
    const node = body.nodes.get(current.node);
    if (!node) break;
    if ((node.op === 'Identity' || node.op === 'Snapshot') && node.inputs.length > 0) {
      current = parseRef(node.inputs[0]!);
    } else if (node.op === 'IdentityN' && node.inputs[current.index] !== undefined) {
      current = parseRef(node.inputs[current.index]!);
    } else {
      break;
    }
  }
  return formatRef(current.node, current.index);
}

/** The checkpoint key of the variable a (resource or ref) tensor stands for, if known. */
export function variableKeyOf(body: Body, ref: string): string | undefined {
  const source = body.nodes.get(parseRef(traceForwarded(body, ref)).node);
  return source?.op === RESOURCE_MARKER_OP ? getString(source, 'key') : undefined;
}

/** Rewrites every data input of `body` (and a function's return values) that `map` changes. */
export function rewriteRefs(body: Body, map: (ref: string) => string): void {
  for (const node of body.nodes.values()) {
    for (let i = 0; i < node.inputs.length; i++) node.inputs[i] = map(node.inputs[i]!);
  }
  if (body.ret) for (const [name, ref] of body.ret) body.ret.set(name, map(ref));
}
