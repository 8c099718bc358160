/**
 * Reader for TensorFlow's TensorBundle checkpoint format (the `variables/` directory of a
 * SavedModel): `<prefix>.index` is a LevelDB table mapping tensor keys to BundleEntryProto, and
 * `<prefix>.data-0000K-of-0000N` shards hold the raw bytes. Every read is checked against the
 * entry's crc32c; a mismatch or a missing shard is DATA_LOSS, as in TensorFlow.
 */
import { open, readFile } from 'node:fs/promises';
import { fromBinary } from '@bufbuild/protobuf';
import {
  type BundleEntryProto,
  BundleEntryProtoSchema,
  BundleHeaderProto_Endianness,
  BundleHeaderProtoSchema,
} from '../../../gen/tensorflow/core/protobuf/tensor_bundle_pb.js';
import { Code, ServingError, dataLoss, notFound, unimplemented } from '../../errors.js';
import { DataType, dtypeEnumName, elementSize, isSupportedHostDtype } from '../tensor/dtypes.js';
import { type HostTensor, dataFromBytes, numElements, shapeFromProto } from '../tensor/host-tensor.js';
import { crc32c, crc32cUpdate, maskCrc } from './crc32c.js';
import { TableFormatError, readTable } from './leveldb-table.js';
import { readVarint } from './varint.js';

const HEADER_KEY = '';

export interface BundleEntry {
  readonly key: string;
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly proto: BundleEntryProto;
}

export class TensorBundle {
  private constructor(
    readonly prefix: string,
    readonly numShards: number,
    private readonly entries: ReadonlyMap<string, BundleEntry>,
  ) {}

  /** Opens `<prefix>.index` (e.g. prefix = ".../variables/variables"). */
  static async open(prefix: string): Promise<TensorBundle> {
    const indexPath = `${prefix}.index`;
    let indexBytes: Uint8Array;
    try {
      indexBytes = await readFile(indexPath);
    } catch (error) {
      throw ioError(error, indexPath);
    }
    let table;
    try {
      table = readTable(indexBytes);
    } catch (error) {
      if (error instanceof TableFormatError || error instanceof RangeError) {
        throw dataLoss(`Corrupt checkpoint index ${indexPath}: ${error.message}`);
      }
      throw error;
    }
    const decoder = new TextDecoder();
    let numShards = 1;
    const entries = new Map<string, BundleEntry>();
    for (const { key: keyBytes, value } of table) {
      const key = decoder.decode(keyBytes);
      try {
        if (key === HEADER_KEY) {
          const header = fromBinary(BundleHeaderProtoSchema, value);
          if (header.endianness !== BundleHeaderProto_Endianness.LITTLE) {
            throw unimplemented(`Checkpoint ${indexPath} was written on a big-endian machine`);
          }
          numShards = Math.max(1, header.numShards);
          continue;
        }
        const proto = fromBinary(BundleEntryProtoSchema, value);
        entries.set(key, { key, dtype: proto.dtype, shape: shapeFromProto(proto.shape), proto });
      } catch (error) {
        if (error instanceof ServingError) throw error;
        throw dataLoss(`Corrupt checkpoint index ${indexPath}: entry "${key}": ${(error as Error).message}`);
      }
    }
    return new TensorBundle(prefix, numShards, entries);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  entry(key: string): BundleEntry | undefined {
    return this.entries.get(key);
  }

  shardPath(shardId: number): string {
    const pad = (n: number): string => String(n).padStart(5, '0');
    return `${this.prefix}.data-${pad(shardId)}-of-${pad(this.numShards)}`;
  }

  /** Reads and verifies several tensors, opening each shard once. */
  async readMany(keys: readonly string[]): Promise<Map<string, HostTensor>> {
    const byShard = new Map<number, BundleEntry[]>();
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (!entry) throw notFound(`Key ${key} not found in checkpoint ${this.prefix}`);
      if (entry.proto.slices.length > 0) {
        throw unimplemented(
          `Variable "${key}" is partitioned into ${entry.proto.slices.length} slices in checkpoint ${this.prefix}; ` +
            'partitioned (sliced) variables are not supported',
        );
      }
      if (!isSupportedHostDtype(entry.dtype)) {
        throw unimplemented(`Checkpoint tensor "${key}" has unsupported dtype ${dtypeEnumName(entry.dtype)}`);
      }
      const list = byShard.get(entry.proto.shardId) ?? [];
      list.push(entry);
      byShard.set(entry.proto.shardId, list);
    }
    const result = new Map<string, HostTensor>();
    for (const [shardId, list] of byShard) {
      const path = this.shardPath(shardId);
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        throw ioError(error, path);
      }
      try {
        for (const entry of list) {
          const size = Number(entry.proto.size);
          const bytes = new Uint8Array(size);
          const { bytesRead } = await handle.read(bytes, 0, size, Number(entry.proto.offset));
          if (bytesRead !== size) {
            throw dataLoss(`Checkpoint shard ${path} is truncated: tensor "${entry.key}" needs ${size} bytes at offset ${entry.proto.offset}`);
          }
          const tensor = decodeEntry(entry, bytes);
          if (maskCrc(checksumOf(tensor, bytes)) !== entry.proto.crc32c) {
            throw dataLoss(`Checksum does not match for tensor "${entry.key}" in checkpoint shard ${path}`);
          }
          result.set(entry.key, tensor);
        }
      } finally {
        await handle.close();
      }
    }
    return result;
  }

  async read(key: string): Promise<HostTensor> {
    return (await this.readMany([key])).get(key)!;
  }
}

function decodeEntry(entry: BundleEntry, bytes: Uint8Array): HostTensor {
  const count = numElements(entry.shape);
  try {
    if (entry.dtype === DataType.DT_STRING) return { dtype: entry.dtype, shape: entry.shape, data: decodeStrings(bytes, count) };
    if (elementSize(entry.dtype) * count !== bytes.length) {
      throw new RangeError(`${bytes.length} bytes for ${count} ${dtypeEnumName(entry.dtype)} elements`);
    }
    return { dtype: entry.dtype, shape: entry.shape, data: dataFromBytes(entry.dtype, count, bytes) };
  } catch (error) {
    if (error instanceof ServingError) throw error;
    throw dataLoss(`Corrupt checkpoint tensor "${entry.key}": ${(error as Error).message}`);
  }
}

/**
 * The checksum TensorFlow stores: over the raw bytes for fixed-size dtypes. For strings it covers
 * each length as a little-endian uint32 (uint64 above 4 GiB; not the varint bytes on disk), then the
 * stored 4-byte length checksum, then the string bytes.
 */
function checksumOf(tensor: HostTensor, bytes: Uint8Array): number {
  if (tensor.dtype !== DataType.DT_STRING) return crc32c(bytes);
  const strings = tensor.data as Uint8Array[];
  let crc = 0;
  const width = new DataView(new ArrayBuffer(8));
  for (const s of strings) {
    if (s.length <= 0xffffffff) {
      width.setUint32(0, s.length, true);
      crc = crc32cUpdate(crc, new Uint8Array(width.buffer, 0, 4));
    } else {
      width.setBigUint64(0, BigInt(s.length), true);
      crc = crc32cUpdate(crc, new Uint8Array(width.buffer, 0, 8));
    }
  }
  const lengthsEnd = bytes.length - strings.reduce((sum, s) => sum + s.length, 0);
  crc = crc32cUpdate(crc, bytes.subarray(lengthsEnd - 4, lengthsEnd));
  for (const s of strings) crc = crc32cUpdate(crc, s);
  return crc;
}

/** String tensors: varint64 lengths, a 4-byte masked crc of those lengths, then the bytes. */
function decodeStrings(bytes: Uint8Array, count: number): Uint8Array[] {
  const lengths: number[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const { value, next } = readVarint(bytes, pos);
    lengths.push(value);
    pos = next;
  }
  pos += 4;
  const strings: Uint8Array[] = [];
  for (const length of lengths) {
    if (pos + length > bytes.length) throw new RangeError('string data runs past the entry');
    strings.push(bytes.slice(pos, pos + length));
    pos += length;
  }
  return strings;
}

function ioError(error: unknown, path: string): ServingError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ServingError(Code.DATA_LOSS, `Checkpoint file not found: ${path}`);
  return new ServingError(Code.DATA_LOSS, `Cannot read checkpoint file ${path}: ${(error as Error).message}`);
}
