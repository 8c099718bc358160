/** Little-endian base-128 varints as LevelDB and protobuf write them. */

export interface VarintResult {
  value: number;
  next: number;
}

/**
 * Reads a varint of up to 64 bits starting at `pos`. Values above 2^53 are not exact; nothing we
 * read with this (lengths, offsets of files we hold in memory) gets near that.
 */
export function readVarint(buf: Uint8Array, pos: number): VarintResult {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new RangeError('varint runs past the end of the buffer');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, next: pos };
    scale *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
}
