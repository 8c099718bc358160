/**
 * The wire bytes of a predict PredictionLog, written directly from the call's tensors: the same
 * bytes protobuf-es's toBinary gives for prediction-logs.ts's predictLog() (fields in number
 * order, map entries in the maps' order, tensors in tensor_content, strings in string_val), at a
 * fraction of the cost of building the message first (a sampled call pays this, so logging at 10%
 * must stay cheap). The parts that are the same for every call of a version and signature (the
 * LogMetadata and ModelSpec messages) are encoded once by protobuf-es and copied in.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelSpecSchema } from '../../gen/tensorflow_serving/apis/model_pb.js';
import { LogMetadataSchema } from '../../gen/tensorflow_serving/apis/logging_pb.js';
import type { LoggingConfig } from '../../gen/tensorflow_serving/config/logging_config_pb.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { type LoggedCall, logMetadata, modelSpec } from './prediction-logs.js';

/** What every record of one (model, version, signature) starts from. */
export interface CallPrefix {
  readonly logMetadata: Uint8Array;
  readonly modelSpec: Uint8Array;
}

export function callPrefix(call: LoggedCall, config: LoggingConfig): CallPrefix {
  return {
    logMetadata: toBinary(LogMetadataSchema, create(LogMetadataSchema, logMetadata(call, config))),
    modelSpec: toBinary(ModelSpecSchema, create(ModelSpecSchema, modelSpec(call))),
  };
}

/** Element byte sizes of the dtypes whose data is a typed array sent as tensor_content. */
const CONTENT_DTYPES: ReadonlySet<DataType> = new Set([
  DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32, DataType.DT_INT16, DataType.DT_INT8, DataType.DT_UINT8,
  DataType.DT_UINT16, DataType.DT_HALF, DataType.DT_BFLOAT16, DataType.DT_INT64, DataType.DT_UINT32, DataType.DT_UINT64,
  DataType.DT_BOOL, DataType.DT_COMPLEX64, DataType.DT_COMPLEX128,
]);

/** True when encodePredictLog can write every tensor (others go through protobuf-es). */
export function encodable(tensors: ReadonlyMap<string, HostTensor>): boolean {
  for (const tensor of tensors.values()) if (tensor.dtype !== DataType.DT_STRING && !CONTENT_DTYPES.has(tensor.dtype)) return false;
  return true;
}

const LEN = 2;
const VARINT = 0;
const utf8 = new TextEncoder();

/** The serialized PredictionLog { log_metadata, predict_log { request, response } }. */
export function encodePredictLog(
  prefix: CallPrefix,
  inputs: ReadonlyMap<string, HostTensor>,
  outputFilter: readonly string[] | undefined,
  outputs: ReadonlyMap<string, HostTensor>,
): Uint8Array {
  const spec = prefix.modelSpec.length;
  const inputEntries = entriesOf(inputs);
  const outputEntries = entriesOf(outputs);
  const filter = (outputFilter ?? []).map((name) => utf8.encode(name));
  let request = field(spec);
  for (const entry of inputEntries) request += field(entry.size);
  for (const name of filter) request += field(name.length);
  let response = field(spec);
  for (const entry of outputEntries) response += field(entry.size);
  const predictLog = field(request) + field(response);
  const total = field(prefix.logMetadata.length) + field(predictLog);

  const w = new Writer(total);
  w.bytesField(1, prefix.logMetadata);
  w.tag(6, LEN).varint(predictLog);
  // PredictRequest: model_spec = 1, inputs = 2, output_filter = 3.
  w.tag(1, LEN).varint(request);
  w.bytesField(1, prefix.modelSpec);
  for (const entry of inputEntries) w.entry(2, entry);
  for (const name of filter) w.bytesField(3, name);
  // PredictResponse: outputs = 1, model_spec = 2.
  w.tag(2, LEN).varint(response);
  for (const entry of outputEntries) w.entry(1, entry);
  w.bytesField(2, prefix.modelSpec);
  if (w.offset !== total) throw new Error(`PredictionLog encoding wrote ${w.offset} of ${total} bytes`);
  return w.bytes;
}

/** A map<string, TensorProto> entry, sized. */
interface Entry {
  readonly key: Uint8Array;
  readonly tensor: HostTensor;
  readonly shapeSize: number;
  readonly tensorSize: number;
  /** The entry message's size. */
  readonly size: number;
}

function entriesOf(tensors: ReadonlyMap<string, HostTensor>): Entry[] {
  const entries: Entry[] = [];
  for (const [alias, tensor] of tensors) {
    const key = utf8.encode(alias);
    let shapeSize = 0;
    for (const dim of tensor.shape) shapeSize += field(dim === 0 ? 0 : 1 + varintSize(dim));
    // TensorProto: dtype = 1, tensor_shape = 2, tensor_content = 4 | string_val = 8.
    let tensorSize = 1 + varintSize(tensor.dtype) + field(shapeSize);
    if (tensor.dtype === DataType.DT_STRING) {
      for (const value of tensor.data as Uint8Array[]) tensorSize += field(value.length);
    } else {
      const bytes = (tensor.data as ArrayBufferView).byteLength;
      if (bytes > 0) tensorSize += field(bytes);
    }
    entries.push({ key, tensor, shapeSize, tensorSize, size: field(key.length) + field(tensorSize) });
  }
  return entries;
}

/** A length-delimited field of `length` bytes: tag, length, bytes. */
const field = (length: number): number => 1 + varintSize(length) + length;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

class Writer {
  readonly bytes: Uint8Array;
  offset = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  varint(value: number): this {
    while (value >= 0x80) {
      this.bytes[this.offset++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.bytes[this.offset++] = value;
    return this;
  }

  raw(data: Uint8Array): this {
    this.bytes.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    return this.tag(field, LEN).varint(data.length).raw(data);
  }

  entry(field: number, entry: Entry): void {
    this.tag(field, LEN).varint(entry.size);
    this.bytesField(1, entry.key);
    this.tag(2, LEN).varint(entry.tensorSize);
    const tensor = entry.tensor;
    this.tag(1, VARINT).varint(tensor.dtype);
    this.tag(2, LEN).varint(entry.shapeSize);
    for (const dim of tensor.shape) {
      if (dim === 0) this.tag(2, LEN).varint(0);
      else this.tag(2, LEN).varint(1 + varintSize(dim)).tag(1, VARINT).varint(dim);
    }
    if (tensor.dtype === DataType.DT_STRING) {
      for (const value of tensor.data as Uint8Array[]) this.bytesField(8, value);
      return;
    }
    const data = tensor.data as ArrayBufferView;
    if (data.byteLength > 0) this.bytesField(4, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
}
