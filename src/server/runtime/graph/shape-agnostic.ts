/**
 * Which signature inputs only flow through element-wise ops. TensorFlow's session does not check
 * a fed tensor's shape against the signature: the kernels decide, and element-wise kernels accept
 * any shape (TF Serving's own half_plus_two declares x as [-1,1] and its documented REST example
 * feeds [3]). Such inputs keep that freedom; every other input is checked against the signature
 * before a kernel sees it (request-check.ts), since a wasm kernel handed a shape the graph was not
 * built for can trap instead of failing cleanly.
 */
import type { SignatureBinding } from './freeze.js';
import { type IrNode, parseRef } from './ir.js';

/** Ops whose result is defined for operands of any shape (with broadcasting). */
const ELEMENTWISE_OPS: ReadonlySet<string> = new Set([
  'Identity', 'IdentityN', 'StopGradient', 'Snapshot', 'PreventGradient', 'Cast',
  'Add', 'AddV2', 'Sub', 'Mul', 'MulNoNan', 'Div', 'DivNoNan', 'RealDiv', 'FloorDiv', 'FloorMod', 'TruncateDiv',
  'Maximum', 'Minimum', 'Pow', 'SquaredDifference', 'BiasAdd',
  'Neg', 'Abs', 'Sign', 'Square', 'Sqrt', 'Rsqrt', 'Reciprocal', 'Exp', 'Expm1', 'Log', 'Log1p',
  'Floor', 'Ceil', 'Round', 'Rint', 'Sin', 'Cos', 'Tan', 'Tanh', 'Sigmoid', 'Relu', 'Relu6', 'Elu', 'Selu',
  'LeakyRelu', 'Softplus', 'Softsign', 'Erf', 'IsNan', 'IsInf', 'IsFinite',
  'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot',
  'Select', 'SelectV2', 'ClipByValue',
]);

/**
 * The aliases of `binding` whose fed tensors reach the outputs through element-wise ops only
 * (the bias of BiasAdd is excluded: it must be a vector).
 */
export function shapeAgnosticInputs(nodes: ReadonlyMap<string, IrNode>, binding: Pick<SignatureBinding, 'inputs'>): Set<string> {
  const consumers = new Map<string, IrNode[]>();
  for (const node of nodes.values()) {
    for (const input of node.inputs) {
      const producer = parseRef(input).node;
      const list = consumers.get(producer);
      if (list) list.push(node);
      else consumers.set(producer, [node]);
    }
  }
  const agnostic = new Set<string>();
  for (const [alias, ref] of binding.inputs) {
    if (ref === undefined) {
      agnostic.add(alias);
      continue;
    }
    if (onlyElementwise(parseRef(ref).node, consumers)) agnostic.add(alias);
  }
  return agnostic;
}

function onlyElementwise(feed: string, consumers: ReadonlyMap<string, IrNode[]>): boolean {
  const seen = new Set<string>([feed]);
  const stack = [feed];
  while (stack.length > 0) {
    const name = stack.pop()!;
    for (const consumer of consumers.get(name) ?? []) {
      if (!ELEMENTWISE_OPS.has(consumer.op)) return false;
      if (consumer.op === 'BiasAdd' && parseRef(consumer.inputs[1] ?? '').node === name) return false;
      if (seen.has(consumer.name)) continue;
      seen.add(consumer.name);
      stack.push(consumer.name);
    }
  }
  return true;
}
