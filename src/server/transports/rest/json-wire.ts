/**
 * Tensors across the JSON worker boundary (json-workers.ts). Numeric data travels as its typed
 * array (moved, not copied, when the sender owns the whole buffer); DT_STRING data, an array of
 * byte strings that are often views into shared slabs, is packed into one buffer and its end
 * offsets, so that a clone copies the bytes once and never a slab per string.
 */
import type { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor, TensorData } from '../../runtime/tensor/host-tensor.js';

type NumericData = Exclude<TensorData, Uint8Array[]>;

/** DT_STRING data: the strings' bytes back to back; string i ends at ends[i]. */
export interface PackedStrings {
  readonly bytes: Uint8Array;
  readonly ends: Float64Array;
}

export interface WireTensor {
  readonly name: string;
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly data: NumericData | PackedStrings;
}

/**
 * Tensors as messages carry them. With `transfer`, the buffers the tensors own entirely are
 * listed there to be moved (the sender must not use the tensors afterwards); without, they are
 * copied by the message.
 */
export function toWire(tensors: ReadonlyMap<string, HostTensor>, transfer?: ArrayBuffer[]): WireTensor[] {
  const wire: WireTensor[] = [];
  for (const [name, tensor] of tensors) {
    const data = Array.isArray(tensor.data) ? packStrings(tensor.data) : tensor.data;
    if (transfer) {
      const view = 'ends' in data ? data.bytes : data;
      if (ownsBuffer(view) && !transfer.includes(view.buffer as ArrayBuffer)) transfer.push(view.buffer as ArrayBuffer);
      if ('ends' in data) transfer.push(data.ends.buffer as ArrayBuffer);
    }
    wire.push({ name, dtype: tensor.dtype, shape: tensor.shape, data });
  }
  return wire;
}

export function fromWire(wire: readonly WireTensor[]): Map<string, HostTensor> {
  const tensors = new Map<string, HostTensor>();
  for (const { name, dtype, shape, data } of wire) {
    tensors.set(name, { dtype, shape, data: 'ends' in data ? unpackStrings(data) : data });
  }
  return tensors;
}

/** A rough size of a tensor map's JSON, to choose between the event loop and a worker. */
export function jsonWeight(tensors: ReadonlyMap<string, HostTensor>): number {
  let weight = 0;
  for (const { data } of tensors.values()) {
    if (!Array.isArray(data)) weight += data.length * 8;
    else for (const bytes of data) weight += bytes.byteLength + 4;
  }
  return weight;
}

function ownsBuffer(view: ArrayBufferView): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;
}

function packStrings(strings: readonly Uint8Array[]): PackedStrings {
  let total = 0;
  for (const s of strings) total += s.byteLength;
  const bytes = new Uint8Array(total);
  const ends = new Float64Array(strings.length);
  let at = 0;
  for (let i = 0; i < strings.length; i++) {
    bytes.set(strings[i]!, at);
    at += strings[i]!.byteLength;
    ends[i] = at;
  }
  return { bytes, ends };
}

function unpackStrings({ bytes, ends }: PackedStrings): Uint8Array[] {
  const strings = new Array<Uint8Array>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    strings[i] = bytes.subarray(start, end);
    start = end;
  }
  return strings;
}
