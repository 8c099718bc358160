/**
 * Groups connected float32 elementwise ops (Add/Sub/Mul/Sigmoid/Tanh: an LSTM or GRU cell's
 * gates) into one custom op (custom-ops/fused-elementwise.ts). After a loop is unrolled an RNN is
 * hundreds of such ops over a few dozen floats each, and tfjs's cost is per op, not per float.
 *
 * A group must stay convex: a node joins a producer's group only when none of its other inputs
 * depends on that group (else the group would wait on itself). Nodes fetched or fed by name stay
 * out. Only groups of two or more ops are fused.
 */
import { getType, stringAttr } from '../graph/attrs.js';
import { type IrNode, formatRef, parseRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';
import { FUSED_ELEMENTWISE_OP } from '../graph/names.js';
import { DataType } from '../tensor/dtypes.js';
import { type ElementwiseProgram, isElementwiseOp } from './elementwise-program.js';

export function fuseElementwise(body: Body, keep: ReadonlySet<string>): number {
  const candidate = (node: IrNode): boolean =>
    isElementwiseOp(node.op) && getType(node, 'T') === DataType.DT_FLOAT && node.controlInputs.length === 0 && !keep.has(node.name);
  const groups = new GroupSets();
  const groupOf = new Map<string, number>();
  /** The groups each node depends on (raw ids; resolve with groups.find). */
  const closure = new Map<string, ReadonlySet<number>>();
  const closureOf = (name: string): ReadonlySet<number> => closure.get(name) ?? EMPTY;

  for (const node of topologicalOrder(body)) {
    const deps = new Set<number>();
    const sources = [...node.inputs.map((ref) => parseRef(ref).node), ...node.controlInputs];
    for (const source of sources) for (const g of closureOf(source)) deps.add(g);
    if (candidate(node)) {
      const producers = [...new Set(sources.flatMap((s) => (groupOf.has(s) ? [groups.find(groupOf.get(s)!)] : [])))];
      // The node joins all its producers' groups if that keeps them convex, else one, else none.
      const options = [producers, ...producers.map((g) => [g])];
      const chosen = options.find((set) => set.length > 0 && groups.canJoin(set, sources.filter((s) => !set.includes(groups.find(groupOf.get(s) ?? -1))).map(closureOf)));
      const external = sources.filter((s) => !chosen?.includes(groups.find(groupOf.get(s) ?? -1))).map(closureOf);
      const group = chosen ? groups.merge(chosen) : groups.create();
      order.set(node, counter++);
      groups.add(group, node, external);
      groupOf.set(node.name, group);
      deps.add(group);
    }
    closure.set(node.name, deps);
  }

  let fused = 0;
  for (const group of groups.all()) {
    if (group.length < 2) continue;
    replaceGroup(body, group);
    fused++;
  }
  return fused;
}

const EMPTY: ReadonlySet<number> = new Set();

/** Groups under union-find, each with its members and the groups its outside inputs depend on. */
class GroupSets {
  private readonly parent: number[] = [];
  private readonly members: IrNode[][] = [];
  private readonly externalDeps: Array<Set<number>> = [];

  create(): number {
    this.parent.push(this.parent.length);
    this.members.push([]);
    this.externalDeps.push(new Set());
    return this.parent.length - 1;
  }

  find(g: number): number {
    if (g < 0) return g;
    while (this.parent[g] !== g) g = this.parent[g] = this.parent[this.parent[g]!]!;
    return g;
  }

  /**
   * Whether a node whose outside inputs depend on `external` may join the union of `set`: no
   * outside input may depend on the union, and no group of the set may wait (through outside
   * nodes) on another.
   */
  canJoin(set: readonly number[], external: ReadonlyArray<ReadonlySet<number>>): boolean {
    const roots = new Set(set.map((g) => this.find(g)));
    const dependsOnSet = (deps: Iterable<number>, except?: number): boolean => {
      for (const d of deps) {
        const r = this.find(d);
        if (r !== except && roots.has(r)) return true;
      }
      return false;
    };
    if (external.some((deps) => dependsOnSet(deps))) return false;
    return [...roots].every((g) => !dependsOnSet(this.externalDeps[g]!, g));
  }

  merge(set: readonly number[]): number {
    const [root, ...rest] = set.map((g) => this.find(g));
    for (const g of rest) {
      if (g === root) continue;
      this.parent[g] = root!;
      // Members stay in topological order: the fused program runs them in this order.
      this.members[root!] = mergeOrdered(this.members[root!]!, this.members[g]!);
      this.members[g] = [];
      for (const d of this.externalDeps[g]!) this.externalDeps[root!]!.add(d);
    }
    return root!;
  }

  add(group: number, node: IrNode, external: ReadonlyArray<ReadonlySet<number>>): void {
    this.members[group]!.push(node);
    for (const deps of external) for (const d of deps) this.externalDeps[group]!.add(d);
  }

  all(): IrNode[][] {
    return this.members.filter((m, g) => this.parent[g] === g && m.length > 0);
  }
}

/** Both lists are in topological order (by processing order); so is their merge by that order. */
const order = new WeakMap<IrNode, number>();
let counter = 0;
function mergeOrdered(a: IrNode[], b: IrNode[]): IrNode[] {
  return [...a, ...b].sort((x, y) => order.get(x)! - order.get(y)!);
}

/** Replaces a group's nodes by one fused node; consumers read its outputs instead. */
function replaceGroup(body: Body, group: readonly IrNode[]): void {
  const inGroup = new Set(group.map((n) => n.name));
  const inputs: string[] = [];
  const operand = new Map<string, number>();
  const steps: Array<{ op: ElementwiseProgram['steps'][number]['op']; args: number[] }> = [];
  const operandOf = (ref: string): number => {
    let index = operand.get(ref);
    if (index === undefined) {
      index = inputs.length;
      inputs.push(ref);
      operand.set(ref, index);
    }
    return index;
  };
  // Inputs first (their indices must come before every step's), then the steps in order.
  for (const node of group) for (const ref of node.inputs) if (!inGroup.has(parseRef(ref).node)) operandOf(ref);
  const stepIndex = new Map<string, number>();
  for (const node of group) {
    if (!isElementwiseOp(node.op)) continue;
    const args = node.inputs.map((ref) => {
      const { node: name } = parseRef(ref);
      return inGroup.has(name) ? inputs.length + stepIndex.get(name)! : operand.get(ref)!;
    });
    stepIndex.set(node.name, steps.length);
    steps.push({ op: node.op, args });
  }
  // Outputs: members read outside the group (fetched nodes are never members: `keep`).
  const readOutside = new Set<string>();
  for (const node of body.nodes.values()) {
    if (inGroup.has(node.name)) continue;
    for (const ref of node.inputs) if (inGroup.has(parseRef(ref).node)) readOutside.add(parseRef(ref).node);
    for (const c of node.controlInputs) if (inGroup.has(c)) readOutside.add(c);
  }
  for (const ref of body.ret?.values() ?? []) if (inGroup.has(parseRef(ref).node)) readOutside.add(parseRef(ref).node);
  const outputs = group.filter((n) => readOutside.has(n.name));
  const name = `${group[group.length - 1]!.name}/tfm_fused`;
  const program: ElementwiseProgram = { inputs: inputs.length, steps, outputs: outputs.map((n) => inputs.length + stepIndex.get(n.name)!) };
  for (const node of group) body.nodes.delete(node.name);
  body.nodes.set(name, {
    name, op: FUSED_ELEMENTWISE_OP, inputs, controlInputs: [], device: '',
    attr: { T: group[0]!.attr['T']!, program: stringAttr(JSON.stringify(program)) },
  });
  const outputIndex = new Map(outputs.map((n, i) => [n.name, i]));
  const remap = (ref: string): string => {
    const { node } = parseRef(ref);
    const k = outputIndex.get(node);
    return k === undefined ? ref : formatRef(name, k);
  };
  for (const node of body.nodes.values()) {
    node.inputs = node.inputs.map(remap);
    node.controlInputs = node.controlInputs.map((c) => (outputIndex.has(c) ? name : c));
  }
  if (body.ret) for (const [key, ref] of body.ret) body.ret.set(key, remap(ref));
}

function topologicalOrder(body: Body): IrNode[] {
  const order: IrNode[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (start: string): void => {
    // Iterative DFS: unrolled graphs are deep chains.
    const stack: Array<{ name: string; expanded: boolean }> = [{ name: start, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const node = body.nodes.get(top.name);
      if (!node || done.has(top.name)) {
        stack.pop();
        continue;
      }
      if (top.expanded) {
        stack.pop();
        visiting.delete(top.name);
        done.add(top.name);
        order.push(node);
        continue;
      }
      top.expanded = true;
      visiting.add(top.name);
      for (const dep of [...node.inputs.map((r) => parseRef(r).node), ...node.controlInputs]) {
        if (!done.has(dep) && !visiting.has(dep)) stack.push({ name: dep, expanded: false });
      }
    }
  };
  for (const name of body.nodes.keys()) visit(name);
  return order;
}
