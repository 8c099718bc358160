/**
 * Output tensors -> predict response JSON, as TF Serving's json_tensor.cc (MakeJsonFromTensors)
 * writes it: row requests get `{"predictions": [...]}` (one entry per batch row; an object per
 * row when there are several outputs), columnar requests `{"outputs": ...}`. Floats use TF
 * Serving's formatting; DT_STRING outputs whose alias ends in "_bytes" are written as {"b64": ...}.
 * Written compactly (TF Serving pretty-prints; the JSON values are the same).
 */
import { invalidArgument } from '../../errors.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor, TensorData } from '../../runtime/tensor/host-tensor.js';
import { encodeBase64 } from './base64.js';
import type { PredictFormat } from './json-tensor.js';
import { tfTypeName } from './json-tensor.js';
import { formatFloat32, formatFloat64 } from './number-format.js';

type ElementWriter = (data: TensorData, index: number) => string;

export function predictResponseJson(outputs: ReadonlyMap<string, HostTensor>, format: PredictFormat): string {
  if (outputs.size === 0) throw invalidArgument('Cannot convert empty tensor map to JSON');
  return format === 'row' ? rowJson(outputs) : columnarJson(outputs);
}

function rowJson(outputs: ReadonlyMap<string, HostTensor>): string {
  let batch = -1;
  for (const [name, tensor] of outputs) {
    if (tensor.shape.length === 0) throw invalidArgument(`Tensor name: ${name} has no shape information `);
    const rows = tensor.shape[0]!;
    if (batch >= 0 && rows !== batch) {
      throw invalidArgument(`Tensor name: ${name} has inconsistent batch size: ${rows} expecting: ${batch}`);
    }
    batch = rows;
  }
  if (outputs.size === 1) {
    const [[name, tensor]] = outputs;
    const writer = elementWriter(name, tensor);
    const rowSize = rowElements(tensor);
    let out = '{"predictions":[';
    for (let row = 0; row < batch; row++) {
      if (row > 0) out += ',';
      out += tensorJson(tensor, writer, 1, row * rowSize);
    }
    return `${out}]}`;
  }
  const names = [...outputs.keys()];
  const keys = names.map((name) => `${JSON.stringify(name)}:`);
  const tensors = names.map((name) => outputs.get(name)!);
  const writers = names.map((name, i) => elementWriter(name, tensors[i]!));
  const rowSizes = tensors.map(rowElements);
  let out = '{"predictions":[';
  for (let row = 0; row < batch; row++) {
    out += row > 0 ? ',{' : '{';
    for (let i = 0; i < tensors.length; i++) {
      if (i > 0) out += ',';
      out += keys[i]! + tensorJson(tensors[i]!, writers[i]!, 1, row * rowSizes[i]!);
    }
    out += '}';
  }
  return `${out}]}`;
}

function columnarJson(outputs: ReadonlyMap<string, HostTensor>): string {
  if (outputs.size === 1) {
    const [[name, tensor]] = outputs;
    return `{"outputs":${tensorJson(tensor, elementWriter(name, tensor), 0, 0)}}`;
  }
  let out = '{"outputs":{';
  let first = true;
  for (const [name, tensor] of outputs) {
    out += `${first ? '' : ','}${JSON.stringify(name)}:${tensorJson(tensor, elementWriter(name, tensor), 0, 0)}`;
    first = false;
  }
  return `${out}}}`;
}

function rowElements(tensor: HostTensor): number {
  let size = 1;
  for (let d = 1; d < tensor.shape.length; d++) size *= tensor.shape[d]!;
  return size;
}

/** The sub-tensor at `offset` spanning dimensions [dim, rank) as nested JSON lists (a scalar when dim == rank). */
function tensorJson(tensor: HostTensor, writer: ElementWriter, dim: number, offset: number): string {
  const { shape, data } = tensor;
  if (dim >= shape.length) return writer(data, offset);
  const size = shape[dim]!;
  if (dim === shape.length - 1) {
    if (size === 0) return '[]';
    let out = `[${writer(data, offset)}`;
    for (let i = 1; i < size; i++) out += `,${writer(data, offset + i)}`;
    return `${out}]`;
  }
  let stride = 1;
  for (let d = dim + 1; d < shape.length; d++) stride *= shape[d]!;
  let out = '[';
  for (let i = 0; i < size; i++) {
    if (i > 0) out += ',';
    out += tensorJson(tensor, writer, dim + 1, offset + i * stride);
  }
  return `${out}]`;
}

const writeFloat32: ElementWriter = (data, i) => formatFloat32((data as Float32Array)[i]!);
const writeFloat64: ElementWriter = (data, i) => formatFloat64((data as Float64Array)[i]!);
const writeInteger: ElementWriter = (data, i) => String((data as Int32Array | BigInt64Array)[i]);
const writeBool: ElementWriter = (data, i) => ((data as Uint8Array)[i] ? 'true' : 'false');
const writeString: ElementWriter = (data, i) => {
  const bytes = (data as Uint8Array[])[i]!;
  return JSON.stringify(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
};
const writeBytes: ElementWriter = (data, i) => `{"b64":"${encodeBase64((data as Uint8Array[])[i]!)}"}`;

function elementWriter(name: string, tensor: HostTensor): ElementWriter {
  switch (tensor.dtype) {
    case DataType.DT_FLOAT: return writeFloat32;
    case DataType.DT_DOUBLE: return writeFloat64;
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_INT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32:
    case DataType.DT_UINT64: return writeInteger;
    case DataType.DT_BOOL: return writeBool;
    case DataType.DT_STRING: return name.endsWith('_bytes') ? writeBytes : writeString;
    default: throw invalidArgument(`Failed to write JSON value for tensor type: ${tfTypeName(tensor.dtype)}`);
  }
}
