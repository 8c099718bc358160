/**
 * Final clean-up of a frozen body: control dependencies are dropped, except that a node ordered
 * after a variable read/assign gets that dependency as a real data input (tfjs orders only by
 * data); then everything not reachable from the roots is removed and Identity-like forwarding
 * is bypassed.
 */
import { type IrNode, canonicalRef, formatRef, parseRef } from './ir.js';
import type { Body } from './library.js';
import { AFTER_OP, ASSIGN_VARIABLE_OP, READ_VARIABLE_OP } from './names.js';
import { reachable, rewriteRefs } from './traverse.js';

const STATEFUL_OPS = new Set([READ_VARIABLE_OP, ASSIGN_VARIABLE_OP]);
/**
 * Ops whose effect is a check (Assert, and the stateful If that tf.debugging guards its Assert
 * with): what depends on them by control edge waits for their output, so a failed assertion fails
 * the run instead of being pruned away.
 */
const CHECK_OPS = new Set(['Assert', 'If']);
const isOrdered = (op: string): boolean => STATEFUL_OPS.has(op) || CHECK_OPS.has(op);
const FORWARDING_OPS = new Set(['Identity', 'IdentityN', 'Snapshot', 'StopGradient', 'PreventGradient']);

/** Turns control edges that order variable reads/writes and checks into data edges; drops all others. */
export function orderSideEffects(body: Body): void {
  const nodes = [...body.nodes.values()];
  if (!nodes.some((n) => isOrdered(n.op))) {
    for (const node of nodes) node.controlInputs = [];
    return;
  }
  const memo = new Map<string, Set<string>>();
  const statefulAncestors = (name: string, visiting: Set<string>): Set<string> => {
    const cached = memo.get(name);
    if (cached) return cached;
    const result = new Set<string>();
    const node = body.nodes.get(name);
    if (!node || visiting.has(name)) return result;
    visiting.add(name);
    if (isOrdered(node.op)) result.add(name);
    for (const dep of [...node.controlInputs, ...node.inputs.map((i) => parseRef(i).node)]) {
      for (const s of statefulAncestors(dep, visiting)) result.add(s);
    }
    visiting.delete(name);
    memo.set(name, result);
    return result;
  };
  // Every node's dependencies first, on the untouched graph: rewriting as we go would hide the
  // edges that run through nodes already processed (a NoOp gathering several updates).
  const dependencies = new Map<IrNode, string[]>();
  for (const node of nodes) {
    const deps = new Set<string>();
    for (const c of node.controlInputs) for (const s of statefulAncestors(c, new Set())) deps.add(s);
    deps.delete(node.name);
    dependencies.set(node, [...deps]);
  }
  for (const [node, deps] of dependencies) {
    node.controlInputs = [];
    if (deps.length === 0) continue;
    const depRefs = deps.map((d) => formatRef(d, 0));
    if (STATEFUL_OPS.has(node.op)) {
      node.inputs.push(...depRefs);
    } else if (node.inputs.length > 0) {
      const after: IrNode = {
        name: `${node.name}/_tfm_after`, op: AFTER_OP, inputs: [node.inputs[0]!, ...depRefs], controlInputs: [], attr: {}, device: '',
      };
      body.nodes.set(after.name, after);
      node.inputs[0] = formatRef(after.name, 0);
    }
  }
}

/** Deletes every node not reachable (over data edges) from `roots`. */
export function pruneTo(body: Body, roots: Iterable<string>): void {
  const keep = reachable(body, roots, false);
  for (const name of [...body.nodes.keys()]) if (!keep.has(name)) body.nodes.delete(name);
}

/**
 * Points consumers of Identity-like nodes at the forwarded tensor. Nodes in `keep` (signature
 * inputs, which callers feed by name, and roots) are left in place.
 */
export function bypassForwarding(body: Body, keep: ReadonlySet<string>): void {
  const forwardable = (name: string): boolean => {
    const node = body.nodes.get(name);
    return node !== undefined && FORWARDING_OPS.has(node.op) && !keep.has(name);
  };
  rewriteRefs(body, (ref) => {
    let current = ref;
    while (forwardable(parseRef(current).node)) {
      const next = traceForwardedOnce(body, current);
      if (next === current) break;
      current = next;
    }
    return current;
  });
}

function traceForwardedOnce(body: Body, ref: string): string {
  const { node: name, index } = parseRef(ref);
  const node = body.nodes.get(name)!;
  const source = node.op === 'IdentityN' ? node.inputs[index] : node.inputs[0];
  return source === undefined ? ref : canonicalRef(source);
}
