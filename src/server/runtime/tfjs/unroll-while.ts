/**
 * Unrolls While loops whose trip count is static, so that tfjs runs them in its synchronous
 * executor: Keras RNN layers loop `time < timesteps`, a constant of the input's static shape, and
 * tfjs's async control-flow executor spends most of an LSTM's time in per-iteration bookkeeping.
 *
 * The loop variables that are static (counters: int/bool scalars computed from constants) are
 * simulated on the host (graph/static-eval.ts) to find the trip count; the body is then copied
 * once per iteration into the top-level graph with those values as constants, its Consts shared by
 * every copy. Tensor lists become what they are in an unrolled loop: a list made from a tensor is
 * read with a Gather at the (now constant) index; a reserved list is a row of slots that
 * SetItem fills and TensorListStack packs. A loop this cannot express exactly (dynamic trip count,
 * side effects, list ops beyond these, too many iterations) is left to tfjs's executor, unchanged.
 */
import { getString, getType, hostTensorAttr, intAttr, typeAttr } from '../graph/attrs.js';
import type { FrozenGraph } from '../graph/freeze.js';
import { ARG_OP, type IrFunction, type IrNode, formatRef, parseRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';
import { AFTER_OP, ASSIGN_VARIABLE_OP, VARIABLE_ATTR } from '../graph/names.js';
import { type StaticValue, evaluateStatic, scalarValue, toHostTensor } from '../graph/static-eval.js';
import { DataType } from '../tensor/dtypes.js';
import { traceForwarded } from '../graph/traverse.js';
import { type ListValue, NotUnrollable, type Value, bail, isListOp, lowerListOp, stackNode } from './unroll-lists.js';

const LOOP_OPS = new Set(['While', 'StatelessWhile']);
/** Beyond these the graph grows more than the loop costs. */
const MAX_TRIPS = 1000;
const MAX_NEW_NODES = 100_000;
/** A body with effects beyond its outputs stays a loop. */
const SIDE_EFFECT_OPS = new Set([ASSIGN_VARIABLE_OP, AFTER_OP, 'Assert', 'Print', 'PrintV2']);

/** How a body node's outputs resolve in one iteration's copy. */
type NodeValue = { readonly kind: 'value'; readonly value: Value } | { readonly kind: 'node'; readonly name: string };

/** Unrolls every top-level loop it can; returns how many. */
export function unrollStaticLoops(frozen: FrozenGraph): number {
  const top: Body = { name: '', nodes: frozen.nodes as Map<string, IrNode> };
  const fetched = new Set(frozen.signatures.flatMap((b) => [...b.outputs.values()]));
  let unrolled = 0;
  for (const node of [...top.nodes.values()]) {
    if (!LOOP_OPS.has(node.op) || fetched.has(node.name)) continue;
    try {
      new LoopUnroller(top, node, frozen.functions).apply();
      unrolled++;
    } catch (error) {
      if (!(error instanceof NotUnrollable)) throw error;
    }
  }
  if (unrolled > 0) {
    dropUnreadLists(top);
    dropUnusedFunctions(top, frozen.functions as Map<string, IrFunction>);
  }
  return unrolled;
}

function funcAttr(node: IrNode, name: string): string {
  const value = node.attr[name]?.value;
  return value?.case === 'func' ? value.value.name : bail(`no ${name} function`);
}

class LoopUnroller {
  private readonly body: IrFunction;
  private readonly cond: IrFunction;
  /** New and replaced top-level nodes, applied only once the whole loop has unrolled. */
  private readonly staged = new Map<string, IrNode>();
  private readonly prefix: string;
  private trips = 0;

  constructor(
    private readonly top: Body,
    private readonly loop: IrNode,
    functions: ReadonlyMap<string, IrFunction>,
  ) {
    this.body = functions.get(funcAttr(loop, 'body')) ?? bail('body not found');
    this.cond = functions.get(funcAttr(loop, 'cond')) ?? bail('cond not found');
    this.prefix = `${loop.name}/tfm_unrolled`;
    const n = loop.inputs.length;
    if (this.body.inputArgs.length !== n || this.body.outputArgs.length !== n || this.cond.inputArgs.length !== n) bail('arity');
    for (const fn of [this.body, this.cond]) {
      // Control returns are not looked at: tfjs never runs them (artifacts.ts exports none).
      if ([...fn.nodes.values()].some((x) => SIDE_EFFECT_OPS.has(x.op))) bail('side effects');
    }
  }

  apply(): void {
    const initial = this.initialValues();
    const trips = this.tripCount(initial);
    this.trips = trips;
    let state: Value[] = initial.map((v) => v.value);
    for (let k = 0; k < trips; k++) {
      state = this.emitIteration(k, state);
      if (this.staged.size > MAX_NEW_NODES) bail('too large');
    }
    this.rewriteConsumers(state);
    this.top.nodes.delete(this.loop.name);
    for (const [name, node] of this.staged) this.top.nodes.set(name, node);
  }

  /** Each loop input's value, and its static value when it has one (a candidate counter). */
  private initialValues(): Array<{ value: Value; static?: StaticValue }> {
    const memo = new Map<string, StaticValue | null>();
    return this.loop.inputs.map((ref) => {
      const value = evaluateStatic(this.top, ref, () => undefined, memo);
      if (value && value.shape.length === 0) return { value: { kind: 'ref', ref }, static: value };
      const source = this.top.nodes.get(parseRef(traceForwarded(this.top, ref)).node);
      if (source && isListOp(source.op)) {
        const list = this.listSource(source, memo);
        return { value: { kind: 'list', list } };
      }
      return { value: { kind: 'ref', ref } };
    });
  }

  private listSource(source: IrNode, memo: Map<string, StaticValue | null>): ListValue {
    if (source.op === 'TensorListFromTensor') return { kind: 'tensor', ref: source.inputs[0]! };
    if (source.op === 'EmptyTensorList') return { kind: 'slots', slots: [], growable: true };
    if (source.op === 'TensorListReserve') {
      const size = evaluateStatic(this.top, source.inputs[1]!, () => undefined, memo);
      if (!size || size.data.length !== 1 || size.data[0]! < 0) bail('reserved size not static');
      return { kind: 'slots', slots: Array.from({ length: size!.data[0]! }, () => undefined), growable: false };
    }
    return bail(`list from ${source.op}`);
  }

  /**
   * Simulates the static loop variables until the condition is false. A candidate whose next
   * value is not static is dropped and the simulation restarts without it.
   */
  private tripCount(initial: ReadonlyArray<{ value: Value; static?: StaticValue }>): number {
    const candidates = new Set(initial.flatMap((v, i) => (v.static ? [i] : [])));
    for (;;) {
      let values = new Map([...candidates].map((i) => [i, initial[i]!.static!]));
      let demoted: number | undefined;
      let trips = 0;
      for (;;) {
        const condArgs = argLookup(this.cond, values);
        const ok = evaluateStatic(this.cond, this.cond.ret.get(this.cond.outputArgs[0]!.name)!, condArgs, new Map());
        if (!ok || ok.data.length !== 1) bail('condition not static');
        if (!ok!.data[0]) break;
        if (++trips > MAX_TRIPS) bail('too many iterations');
        const memo = new Map<string, StaticValue | null>();
        const bodyArgs = argLookup(this.body, values);
        const next = new Map<number, StaticValue>();
        for (const i of candidates) {
          const value = evaluateStatic(this.body, this.body.ret.get(this.body.outputArgs[i]!.name)!, bodyArgs, memo);
          if (!value) {
            demoted = i;
            break;
          }
          next.set(i, value);
        }
        if (demoted !== undefined) break;
        values = next;
      }
      if (demoted === undefined) {
        this.staticInputs = new Map([...candidates].map((i) => [i, initial[i]!.static!]));
        return trips;
      }
      candidates.delete(demoted);
    }
  }

  /** Loop inputs that are static counters, by index (set by tripCount). */
  private staticInputs = new Map<number, StaticValue>();

  /** Copies the body once; returns the values of its outputs. */
  private emitIteration(k: number, args: readonly Value[]): Value[] {
    const body = this.body;
    const prefix = `${this.prefix}/${k}/`;
    const argValues = args.map((v, i) => (k === 0 && this.staticInputs.has(i) ? { kind: 'static', value: this.staticInputs.get(i)! } as const : v));
    const argIndex = new Map(body.inputArgs.map((a, i) => [a.name, i]));
    const staticArg = (name: string): StaticValue | undefined => {
      const v = argValues[argIndex.get(name) ?? -1];
      return v?.kind === 'static' ? v.value : undefined;
    };
    const memo = new Map<string, StaticValue | null>();
    const values = new Map<string, NodeValue>();
    const resolve = (ref: string): Value => {
      const { node, index } = parseRef(ref);
      const v = values.get(node) ?? bail(`unresolved ${node}`);
      if (v.kind === 'node') return { kind: 'ref', ref: formatRef(v.name, index) };
      return index === 0 ? v.value : bail('multi-output value');
    };
    const asRef = (value: Value, name: string): string => {
      if (value.kind === 'ref') return value.ref;
      if (value.kind === 'list') return bail('a list reaches an op that is not a list op');
      return this.constant(value.home ?? `${prefix}${name}/tfm_value`, value.value);
    };
    for (const node of neededNodes(body)) {
      if (node.op === ARG_OP) {
        values.set(node.name, { kind: 'value', value: argValues[argIndex.get(node.name)!]! });
      } else if (node.op === 'Const') {
        const value = evaluateStatic(body, formatRef(node.name, 0), staticArg, memo);
        values.set(node.name, value
          ? { kind: 'value', value: { kind: 'static', value, home: `${this.prefix}/${node.name}` } }
          : { kind: 'node', name: this.hoist(node) });
      } else if (isListOp(node.op)) {
        const inputs = node.inputs.map(resolve);
        const lowered = lowerListOp(node, inputs, `${prefix}${node.name}`, (v, n) => asRef(v, n), (ref, dtype) => this.rowsOf(ref, dtype));
        for (const extra of lowered.nodes) this.staged.set(extra.name, extra);
        values.set(node.name, { kind: 'value', value: lowered.result });
      } else {
        const value = evaluateStatic(body, formatRef(node.name, 0), staticArg, memo);
        if (value && singleOutput(node)) {
          values.set(node.name, { kind: 'value', value: { kind: 'static', value } });
          continue;
        }
        const name = `${prefix}${node.name}`;
        this.staged.set(name, {
          ...node,
          name,
          inputs: node.inputs.map((ref) => asRef(resolve(ref), parseRef(ref).node)),
          controlInputs: node.controlInputs.flatMap((c) => {
            const v = values.get(c);
            return v?.kind === 'node' && v.name.startsWith(prefix) ? [v.name] : [];
          }),
          attr: { ...node.attr },
        });
        values.set(node.name, { kind: 'node', name });
      }
    }
    return body.outputArgs.map((out) => resolve(body.ret.get(out.name)!));
  }

  private readonly unpacks = new Map<string, string>();

  /** An Unpack of `ref` into rows, shared by all iterations. */
  private rowsOf(ref: string, dtype: DataType): string {
    let name = this.unpacks.get(ref);
    if (!name) {
      name = `${this.prefix}/rows/${this.unpacks.size}`;
      this.unpacks.set(ref, name);
      this.staged.set(name, {
        name, op: 'Unpack', inputs: [ref], controlInputs: [], device: '',
        attr: { T: typeAttr(dtype), num: intAttr(this.trips), axis: intAttr(0) },
      });
    }
    return name;
  }

  /** A body Const, added once for all iterations (a variable's Const under its shared name). */
  private hoist(node: IrNode): string {
    const name = getString(node, VARIABLE_ATTR) !== undefined ? node.name : `${this.prefix}/${node.name}`;
    const existing = this.top.nodes.get(name);
    if (existing && existing.op !== 'Const') bail(`name clash ${name}`);
    if (!existing && !this.staged.has(name)) this.staged.set(name, { ...node, name, inputs: [], controlInputs: [], attr: { ...node.attr } });
    return name;
  }

  private constant(name: string, value: StaticValue): string {
    if (!this.staged.has(name)) {
      this.staged.set(name, {
        name, op: 'Const', inputs: [], controlInputs: [], device: '',
        attr: { dtype: typeAttr(value.dtype), value: hostTensorAttr(toHostTensor(value)) },
      });
    }
    return formatRef(name, 0);
  }

  /** Points the loop's consumers at the last iteration's values (stacking lists where asked). */
  private rewriteConsumers(final: readonly Value[]): void {
    for (const node of this.top.nodes.values()) {
      if (node.name === this.loop.name) continue;
      const reads = node.inputs.some((r) => parseRef(r).node === this.loop.name);
      const waits = node.controlInputs.includes(this.loop.name);
      if (!reads && !waits) continue;
      const current = this.staged.get(node.name) ?? node;
      const controlInputs = current.controlInputs.filter((c) => c !== this.loop.name);
      const outputOf = (ref: string): Value | undefined => {
        const { node: name, index } = parseRef(ref);
        return name === this.loop.name ? final[index] ?? bail('loop output out of range') : undefined;
      };
      const listInput = current.inputs.length > 0 ? outputOf(current.inputs[0]!) : undefined;
      if (listInput?.kind === 'list') {
        this.staged.set(node.name, this.consumeList(current, listInput.list));
        continue;
      }
      const inputs = current.inputs.map((ref, i) => {
        const value = outputOf(ref);
        if (!value) return ref;
        if (value.kind === 'ref') return value.ref;
        if (value.kind === 'list') return bail('a loop list output reaches a non-list op');
        return this.constant(`${this.prefix}/out/${parseRef(ref).index}/${i}`, value.value);
      });
      this.staged.set(node.name, { ...current, inputs, controlInputs });
    }
  }

  private consumeList(consumer: IrNode, list: ListValue): IrNode {
    if (consumer.op === 'TensorListStack') {
      if (list.kind === 'tensor') return { ...consumer, op: 'Identity', inputs: [list.ref], controlInputs: [], attr: { T: typeAttr(getType(consumer, 'element_dtype') ?? DataType.DT_FLOAT) } };
      const { pack, zeros } = stackNode(consumer.name, list.slots, getType(consumer, 'element_dtype') ?? DataType.DT_FLOAT);
      for (const z of zeros) this.staged.set(z.name, z);
      return pack;
    }
    if (consumer.op === 'TensorListLength' && list.kind === 'slots') {
      const value = scalarValue(DataType.DT_INT32, list.slots.length);
      return { ...consumer, op: 'Const', inputs: [], controlInputs: [], attr: { dtype: typeAttr(DataType.DT_INT32), value: hostTensorAttr(toHostTensor(value)) } };
    }
    return bail(`loop list output read by ${consumer.op}`);
  }
}

function argLookup(fn: IrFunction, values: ReadonlyMap<number, StaticValue>): (name: string) => StaticValue | undefined {
  const index = new Map(fn.inputArgs.map((a, i) => [a.name, i]));
  return (name) => values.get(index.get(name) ?? -1);
}

const MULTI_OUTPUT = new Set(['Split', 'SplitV', 'Unpack', 'IdentityN']);
const singleOutput = (node: IrNode): boolean => !MULTI_OUTPUT.has(node.op);

/** The body's nodes its outputs depend on, inputs before users. */
function neededNodes(fn: IrFunction): IrNode[] {
  const order: IrNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    const mark = state.get(name);
    if (mark === 'done') return;
    if (mark === 'visiting') bail('cycle');
    const node = fn.nodes.get(name) ?? bail(`missing node ${name}`);
    state.set(name, 'visiting');
    for (const ref of node.inputs) visit(parseRef(ref).node);
    for (const c of node.controlInputs) visit(c);
    state.set(name, 'done');
    order.push(node);
  };
  for (const ref of fn.ret.values()) visit(parseRef(ref).node);
  for (const arg of fn.inputArgs) if (fn.nodes.has(arg.name)) visit(arg.name);
  return order;
}

const LIST_SOURCES = new Set(['TensorListFromTensor', 'TensorListReserve', 'EmptyTensorList']);

/** Removes the list producers only the unrolled loops read (tfjs would never run them anyway). */
function dropUnreadLists(top: Body): void {
  const read = new Set<string>();
  for (const node of top.nodes.values()) {
    for (const ref of node.inputs) read.add(parseRef(ref).node);
    for (const c of node.controlInputs) read.add(c);
  }
  for (const node of [...top.nodes.values()]) if (LIST_SOURCES.has(node.op) && !read.has(node.name)) top.nodes.delete(node.name);
}

/** Removes functions no remaining node refers to (their Consts would be loaded for nothing). */
function dropUnusedFunctions(top: Body, functions: Map<string, IrFunction>): void {
  const used = new Set<string>();
  const scan = (nodes: Iterable<IrNode>): void => {
    for (const node of nodes) {
      for (const attr of Object.values(node.attr)) {
        const names = attr.value.case === 'func' ? [attr.value.value.name] : attr.value.case === 'list' ? attr.value.value.func.map((f) => f.name) : [];
        for (const name of names) {
          if (used.has(name)) continue;
          used.add(name);
          const fn = functions.get(name);
          if (fn) scan(fn.nodes.values());
        }
      }
    }
  };
  scan(top.nodes.values());
  for (const name of [...functions.keys()]) if (!used.has(name)) functions.delete(name);
}

