/**
 * Evaluates the tensors that initialisation code reads and that are constant by construction:
 * Consts, forwarded through Identity, a resource variable read whose only assignment is itself
 * constant (TF2 keeps asset paths in such variables), and the Size/Range/Cast arithmetic table
 * initialisers build their keys with (index_to_string_table_from_tensor: keys =
 * cast(range(size(vocabulary)), int64)).
 */
import { DataType } from '../tensor/dtypes.js';
import { type HostTensor, numElements } from '../tensor/host-tensor.js';
import { tensorFromProto } from '../tensor/host-tensor.js';
import { getTensor, getType } from './attrs.js';
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
  const input = (i: number): HostTensor | undefined =>
    source.inputs[i] === undefined ? undefined : evaluateConstant(body, source.inputs[i]!, depth + 1);
  switch (source.op) {
    case 'Size': {
      const x = input(0);
      return x ? fromNumbers(getType(source, 'out_type') ?? DataType.DT_INT32, [], [numElements(x.shape)]) : undefined;
    }
    case 'Range': {
      const [start, limit, delta] = [input(0), input(1), input(2)].map((t) => (t && t.shape.length === 0 ? toNumbers(t)?.[0] : undefined));
      if (start === undefined || limit === undefined || delta === undefined || delta === 0) return undefined;
      const values: number[] = [];
      for (let v = start; delta > 0 ? v < limit : v > limit; v += delta) {
        values.push(v);
        if (values.length > 1 << 24) return undefined;
      }
      return fromNumbers(getType(source, 'Tidx') ?? DataType.DT_INT32, [values.length], values);
    }
    case 'Cast': {
      const x = input(0);
      const values = x && toNumbers(x);
      return values ? fromNumbers(getType(source, 'DstT') ?? DataType.DT_INVALID, x.shape, values) : undefined;
    }
    default:
      return undefined;
  }
}

function toNumbers(t: HostTensor): number[] | undefined {
  switch (t.dtype) {
    case DataType.DT_INT32:
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
      return Array.from(t.data as ArrayLike<number>);
    case DataType.DT_INT64:
      return Array.from(t.data as BigInt64Array, Number);
    default:
      return undefined;
  }
}

function fromNumbers(dtype: DataType, shape: readonly number[], values: number[]): HostTensor | undefined {
  switch (dtype) {
    case DataType.DT_INT32: return { dtype, shape, data: Int32Array.from(values, Math.trunc) };
    case DataType.DT_INT64: return { dtype, shape, data: BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))) };
    case DataType.DT_FLOAT: return { dtype, shape, data: Float32Array.from(values) };
    case DataType.DT_DOUBLE: return { dtype, shape, data: Float64Array.from(values) };
    default: return undefined;
  }
}
