/**
 * Reader for LevelDB-format immutable tables ("SSTables"), the format of a TensorBundle's
 * `variables.index`. Reads every key/value pair; index files are small (one entry per tensor).
 *
 * Layout: data blocks, a metaindex block, an index block (one entry per data block, value = a
 * BlockHandle), then a 48-byte footer holding the metaindex and index handles and a magic number.
 * Every block is followed by a 5-byte trailer: compression type and masked crc32c.
 */
import { crc32cUpdate, unmaskCrc } from './crc32c.js';
import { snappyUncompress } from './snappy.js';
import { readVarint } from './varint.js';

const FOOTER_LENGTH = 48;
const BLOCK_TRAILER_LENGTH = 5;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;

export class TableFormatError extends Error {
  override readonly name = 'TableFormatError';
}

interface BlockHandle {
  offset: number;
  size: number;
}

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** All entries of the table, in key order. */
export function readTable(file: Uint8Array): TableEntry[] {
  if (file.length < FOOTER_LENGTH) throw new TableFormatError(`file is ${file.length} bytes, too short for a table`);
  const footer = file.subarray(file.length - FOOTER_LENGTH);
  const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
  if (view.getUint32(40, true) !== MAGIC_LO || view.getUint32(44, true) !== MAGIC_HI) {
    throw new TableFormatError('bad magic number in table footer');
  }
  const metaindex = readBlockHandle(footer, 0);
  const index = readBlockHandle(footer, metaindex.next);
  const entries: TableEntry[] = [];
  for (const { value } of readBlock(file, index.handle)) {
    const dataHandle = readBlockHandle(value, 0).handle;
    for (const entry of readBlock(file, dataHandle)) entries.push(entry);
  }
  return entries;
}

function readBlockHandle(buf: Uint8Array, pos: number): { handle: BlockHandle; next: number } {
  const offset = readVarint(buf, pos);
  const size = readVarint(buf, offset.next);
  return { handle: { offset: offset.value, size: size.value }, next: size.next };
}

function readBlock(file: Uint8Array, handle: BlockHandle): TableEntry[] {
  const end = handle.offset + handle.size;
  if (end + BLOCK_TRAILER_LENGTH > file.length) {
    throw new TableFormatError(`block [${handle.offset}, ${end}) runs past the end of the file`);
  }
  const raw = file.subarray(handle.offset, end);
  const type = file[end]!;
  const stored = new DataView(file.buffer, file.byteOffset + end + 1, 4).getUint32(0, true);
  const actual = crc32cUpdate(crc32cUpdate(0, raw), file.subarray(end, end + 1));
  if (actual !== unmaskCrc(stored)) {
    throw new TableFormatError(`checksum mismatch in block at offset ${handle.offset}`);
  }
  let contents: Uint8Array;
  if (type === 0) contents = raw;
  else if (type === 1) contents = snappyUncompress(raw);
  else throw new TableFormatError(`unknown block compression type ${type}`);
  return parseBlockEntries(contents);
}

function parseBlockEntries(block: Uint8Array): TableEntry[] {
  if (block.length < 4) throw new TableFormatError('block too short');
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const numRestarts = view.getUint32(block.length - 4, true);
  const dataEnd = block.length - 4 - 4 * numRestarts;
  if (dataEnd < 0) throw new TableFormatError('restart array larger than the block');
  const entries: TableEntry[] = [];
  let lastKey = new Uint8Array(0);
  let pos = 0;
  while (pos < dataEnd) {
    const shared = readVarint(block, pos);
    const nonShared = readVarint(block, shared.next);
    const valueLength = readVarint(block, nonShared.next);
    pos = valueLength.next;
    if (shared.value > lastKey.length || pos + nonShared.value + valueLength.value > dataEnd) {
      throw new TableFormatError('corrupt block entry');
    }
    const key = new Uint8Array(shared.value + nonShared.value);
    key.set(lastKey.subarray(0, shared.value));
    key.set(block.subarray(pos, pos + nonShared.value), shared.value);
    pos += nonShared.value;
    entries.push({ key, value: block.subarray(pos, pos + valueLength.value) });
    pos += valueLength.value;
    lastKey = key;
  }
  return entries;
}
