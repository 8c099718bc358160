/**
 * Who reads what in a graph body, for the tfjs rewrites (optimize.ts, fold-batch-norm.ts): a node
 * may be merged into its reader only when nothing else needs its value, and a Const nobody reads
 * any more is dropped (tfjs would otherwise upload it as a weight).
 */
import type { FrozenGraph } from '../graph/freeze.js';
import { type IrNode, formatRef, parseRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';
import { VARIABLE_ATTR } from '../graph/names.js';
import { getString } from '../graph/attrs.js';

/** Each node's data readers, in graph order (a reader appears once per input that names the node). */
export function readersOf(body: Body): Map<string, IrNode[]> {
  const readers = new Map<string, IrNode[]>();
  for (const node of body.nodes.values()) {
    for (const ref of node.inputs) {
      const name = parseRef(ref).node;
      const list = readers.get(name);
      if (list) list.push(node);
      else readers.set(name, [node]);
    }
  }
  return readers;
}

/** Whether a node's output has exactly one reader and is not needed by name (fed or fetched). */
export function singleUseTest(body: Body, keep: ReadonlySet<string>, frozen: FrozenGraph): (name: string) => boolean {
  const consumers = new Map<string, number>();
  const count = (ref: string): void => {
    const name = parseRef(ref).node;
    consumers.set(name, (consumers.get(name) ?? 0) + 1);
  };
  for (const node of body.nodes.values()) node.inputs.forEach(count);
  for (const ref of body.ret?.values() ?? []) count(ref);
  if (body.name === '') for (const binding of frozen.signatures) for (const name of binding.outputs.values()) count(formatRef(name, 0));
  return (name) => consumers.get(name) === 1 && !keep.has(name);
}

/**
 * Removes Consts that no node, return value or kept name refers to any more (the inputs that
 * constant folding and BatchNorm folding replaced). Mutable variables' Consts stay.
 */
export function dropUnreadConsts(body: Body, keep: ReadonlySet<string>, frozen: FrozenGraph): void {
  const read = new Set<string>(keep);
  for (const node of body.nodes.values()) {
    for (const ref of node.inputs) read.add(parseRef(ref).node);
    for (const name of node.controlInputs) read.add(name);
  }
  for (const ref of body.ret?.values() ?? []) read.add(parseRef(ref).node);
  for (const node of [...body.nodes.values()]) {
    if (node.op !== 'Const' || read.has(node.name)) continue;
    const key = getString(node, VARIABLE_ATTR);
    if (key !== undefined && frozen.mutableVariables.has(key)) continue;
    body.nodes.delete(node.name);
  }
}
