/**
 * TFRecord files (tensorflow/core/lib/io/record_writer.cc), uncompressed: each record is
 *   uint64 length | uint32 masked crc32c(length) | data | uint32 masked crc32c(data)
 * little-endian. Reading fails the way TensorFlow's RecordReader does (DATA_LOSS, same texts).
 */
import { crc32c, maskCrc, unmaskCrc } from '../runtime/checkpoint/crc32c.js';
import { dataLoss } from '../errors.js';

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

/** Every record of a file's bytes, in order. */
export function readTfRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_BYTES) throw dataLoss(`truncated record at ${offset}`);
    const lengthBytes = bytes.subarray(offset, offset + 8);
    if (unmaskCrc(view.getUint32(offset + 8, true)) !== crc32c(lengthBytes)) throw dataLoss(`corrupted record at ${offset}`);
    const length = view.getBigUint64(offset, true);
    const dataStart = offset + HEADER_BYTES;
    if (length > BigInt(bytes.length - dataStart - FOOTER_BYTES)) throw dataLoss(`truncated record at ${offset}`);
    const dataEnd = dataStart + Number(length);
    const data = bytes.subarray(dataStart, dataEnd);
    if (unmaskCrc(view.getUint32(dataEnd, true)) !== crc32c(data)) throw dataLoss(`corrupted record at ${dataStart}`);
    records.push(data);
    offset = dataEnd + FOOTER_BYTES;
  }
  return records;
}

/** A TFRecord file holding `records` (what tf.io.TFRecordWriter writes). */
export function encodeTfRecords(records: readonly Uint8Array[]): Uint8Array {
  const total = records.reduce((sum, r) => sum + HEADER_BYTES + r.length + FOOTER_BYTES, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const record of records) {
    view.setBigUint64(offset, BigInt(record.length), true);
    view.setUint32(offset + 8, maskCrc(crc32c(bytes.subarray(offset, offset + 8))), true);
    bytes.set(record, offset + HEADER_BYTES);
    const dataEnd = offset + HEADER_BYTES + record.length;
    view.setUint32(dataEnd, maskCrc(crc32c(record)), true);
    offset = dataEnd + FOOTER_BYTES;
  }
  return bytes;
}
