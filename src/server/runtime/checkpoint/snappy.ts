/**
 * Decoder for raw (unframed) Snappy blocks. LevelDB tables may store blocks Snappy-compressed
 * (block type 1); TensorFlow's bundle writer normally does not, but readers of the format must
 * accept it.
 */
import { readVarint } from './varint.js';

export function snappyUncompress(input: Uint8Array): Uint8Array {
  const header = readVarint(input, 0);
  const out = new Uint8Array(header.value);
  let pos = header.next;
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const bytes = len - 59;
        len = 0;
        for (let i = 0; i < bytes; i++) len |= input[pos++]! << (8 * i);
        len >>>= 0;
      }
      len += 1;
      if (pos + len > input.length || o + len > out.length) throw new RangeError('snappy literal out of bounds');
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16) | (input[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + len > out.length) throw new RangeError('snappy copy out of bounds');
    // Byte by byte: a copy may overlap its own output (run-length style).
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== out.length) throw new RangeError(`snappy output is ${o} bytes, header says ${out.length}`);
  return out;
}
