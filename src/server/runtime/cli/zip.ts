/**
 * Reads the members of a zip archive (what an .npz file is): stored or deflated entries, with
 * ZIP64 sizes and offsets as Python's zipfile writes them (numpy forces ZIP64 local headers).
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  read(): Uint8Array;
}

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const U32_MAX = 0xffffffff;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function findEndOfCentralDirectory(dv: DataView): number {
  for (let pos = dv.byteLength - 22; pos >= Math.max(0, dv.byteLength - 22 - 0xffff); pos--) {
    if (dv.getUint32(pos, true) === EOCD_SIGNATURE) return pos;
  }
  throw new ZipFormatError('not a zip file (no end of central directory)');
}

/** The central directory's entry count and offset, from the ZIP64 record when present. */
function centralDirectory(dv: DataView, eocd: number): { count: number; offset: number } {
  let count = dv.getUint16(eocd + 10, true);
  let offset = dv.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if (locator >= 0 && dv.getUint32(locator, true) === ZIP64_EOCD_LOCATOR_SIGNATURE) {
    const record = Number(dv.getBigUint64(locator + 8, true));
    if (dv.getUint32(record, true) !== ZIP64_EOCD_SIGNATURE) throw new ZipFormatError('bad ZIP64 end of central directory');
    count = Number(dv.getBigUint64(record + 32, true));
    offset = Number(dv.getBigUint64(record + 48, true));
  }
  return { count, offset };
}

/** Replaces 0xffffffff sizes/offset with the values from a ZIP64 extra field. */
function applyZip64(dv: DataView, extraStart: number, extraLength: number, sizes: { compressed: number; uncompressed: number; offset: number }): void {
  let pos = extraStart;
  while (pos + 4 <= extraStart + extraLength) {
    const id = dv.getUint16(pos, true);
    const length = dv.getUint16(pos + 2, true);
    if (id === 0x0001) {
      let field = pos + 4;
      const take = (): number => {
        const value = Number(dv.getBigUint64(field, true));
        field += 8;
        return value;
      };
      if (sizes.uncompressed === U32_MAX) sizes.uncompressed = take();
      if (sizes.compressed === U32_MAX) sizes.compressed = take();
      if (sizes.offset === U32_MAX) sizes.offset = take();
      return;
    }
    pos += 4 + length;
  }
}

export function readZip(bytes: Uint8Array): ZipEntry[] {
  const dv = view(bytes);
  const { count, offset } = centralDirectory(dv, findEndOfCentralDirectory(dv));
  const entries: ZipEntry[] = [];
  let pos = offset;
  for (let i = 0; i < count; i++) {
    if (dv.getUint32(pos, true) !== CENTRAL_SIGNATURE) throw new ZipFormatError('bad central directory entry');
    const method = dv.getUint16(pos + 10, true);
    const sizes = { compressed: dv.getUint32(pos + 20, true), uncompressed: dv.getUint32(pos + 24, true), offset: dv.getUint32(pos + 42, true) };
    const nameLength = dv.getUint16(pos + 28, true);
    const extraLength = dv.getUint16(pos + 30, true);
    const commentLength = dv.getUint16(pos + 32, true);
    const flags = dv.getUint16(pos + 8, true);
    const rawName = bytes.subarray(pos + 46, pos + 46 + nameLength);
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(rawName);
    applyZip64(dv, pos + 46 + nameLength, extraLength, sizes);
    entries.push({ name, read: () => readEntry(bytes, dv, name, method, sizes) });
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function readEntry(bytes: Uint8Array, dv: DataView, name: string, method: number, sizes: { compressed: number; uncompressed: number; offset: number }): Uint8Array {
  const local = sizes.offset;
  if (dv.getUint32(local, true) !== LOCAL_SIGNATURE) throw new ZipFormatError(`bad local header for ${name}`);
  const dataStart = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
  const data = bytes.subarray(dataStart, dataStart + sizes.compressed);
  if (method === 0) return data;
  if (method === 8) {
    const out = inflateRawSync(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  throw new ZipFormatError(`${name}: unsupported zip compression method ${method}`);
}
