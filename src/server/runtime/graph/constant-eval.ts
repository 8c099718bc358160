/**
 * Evaluates the tensors that initialisation code reads and that are constant by construction:
 * Consts, forwarded through Identity, or a resource variable read whose only assignment is itself
 * constant (TF2 keeps asset paths in such variables).
 */
import type { HostTensor } from '../tensor/host-tensor.js';
import { tensorFromProto } from '../tensor/host-tensor.js';
import { getTensor } from './attrs.js';
import { parseRef } from './ir.js';
import type { Body } from './library.js';
import { traceForwarded } from './traverse.js';

export function evaluateConstant(body: Body, ref: string, depth = 0): HostTensor | undefined {
  if (depth > 32) return undefined;
  const source = body.nodes.get(parseRef(traceForwarded(body, ref)).node);
  if (!source) return undefined;
  if (source.op === 'Const') {
    const proto = getTensor(source, 'value');
    return proto ? tensorFromProto(proto) : undefined;
  }
  if (source.op === 'ReadVariableOp') {
    const variable = parseRef(traceForwarded(body, source.inputs[0] ?? '')).node;
    const assigns = [...body.nodes.values()].filter(
      (n) => n.op === 'AssignVariableOp' && parseRef(traceForwarded(body, n.inputs[0] ?? '')).node === variable,
    );
    return assigns.length === 1 ? evaluateConstant(body, assigns[0]!.inputs[1]!, depth + 1) : undefined;
  }
  return undefined;
}
