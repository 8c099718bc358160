/**
 * The protocol's raw tensor encoding (REST binary data extension, gRPC raw_input_contents and
 * raw_output_contents): fixed-size elements as little-endian bytes in row-major order; BYTES as
 * each element's 4-byte little-endian length followed by its bytes; BOOL one byte per element.
 */
import { invalidArgument } from '../../errors.js';
import { DataType, elementSize } from '../../runtime/tensor/dtypes.js';
import { type HostTensor, dataFromBytes, numElements } from '../../runtime/tensor/host-tensor.js';

/** A request tensor from its raw bytes; `name` is used in errors. */
export function tensorFromRaw(name: string, dtype: DataType, shape: readonly number[], raw: Uint8Array): HostTensor {
  const count = numElements(shape);
  if (dtype === DataType.DT_STRING) return { dtype, shape, data: splitBytesElements(name, count, raw) };
  const expected = count * elementSize(dtype);
  if (raw.length !== expected) {
    throw invalidArgument(`unexpected size ${raw.length} for input '${name}', expecting ${expected} bytes for shape [${shape.join(',')}]`);
  }
  return { dtype, shape, data: dataFromBytes(dtype, count, raw) };
}

function splitBytesElements(name: string, count: number, raw: Uint8Array): Uint8Array[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < raw.length) {
    if (raw.length - offset < 4) throw invalidArgument(`incomplete BYTES element length in input '${name}'`);
    const length = view.getUint32(offset, true);
    offset += 4;
    if (length > raw.length - offset) throw invalidArgument(`BYTES element of ${length} bytes runs past the end of input '${name}'`);
    elements.push(raw.slice(offset, offset + length));
    offset += length;
  }
  if (elements.length !== count) {
    throw invalidArgument(`unexpected number of string elements ${elements.length} for input '${name}', expecting ${count}`);
  }
  return elements;
}

/** The raw bytes of an output tensor (a view on the tensor's memory for fixed-size types). */
export function rawFromTensor(tensor: HostTensor): Uint8Array {
  const data = tensor.data;
  if (Array.isArray(data)) {
    let total = 0;
    for (const element of data) total += 4 + element.length;
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const element of data) {
      view.setUint32(offset, element.length, true);
      out.set(element, offset + 4);
      offset += 4 + element.length;
    }
    return out;
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
