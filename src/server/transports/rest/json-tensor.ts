/**
 * Predict JSON -> input tensors, following TF Serving's json_tensor.cc (FillPredictRequestFromJson):
 * row format ("instances": one element per batch row, objects keyed by input name when there are
 * several inputs) or columnar ("inputs": the value, or an object keyed by input name). Values are
 * converted to the signature's input dtype; the error texts are TF Serving's.
 */
import { invalidArgument, unimplemented } from '../../errors.js';
import type { TensorSpec } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import { type HostTensor, type TensorData, allocateData, numElements } from '../../runtime/tensor/host-tensor.js';
import { decodeBase64, isBase64Object } from './base64.js';
import { debugString, jsonTypeName, jsonValueError } from './json-debug.js';
import { ByteString, FloatToken, type JsonObject, type JsonValue, isJsonObject, member } from './json-parse.js';

export type PredictFormat = 'row' | 'columnar';

/** What conversion needs of a signature input: its alias and dtype. */
export type InputKind = Pick<TensorSpec, 'alias' | 'dtype'>;

export interface PredictTensors {
  readonly format: PredictFormat;
  readonly inputs: Map<string, HostTensor>;
}

/** TensorFlow's DataTypeString names, as TF Serving's messages print them. */
const TF_TYPE_NAMES: ReadonlyMap<DataType, string> = new Map([
  [DataType.DT_FLOAT, 'float'], [DataType.DT_DOUBLE, 'double'], [DataType.DT_INT32, 'int32'],
  [DataType.DT_UINT8, 'uint8'], [DataType.DT_INT16, 'int16'], [DataType.DT_INT8, 'int8'],
  [DataType.DT_STRING, 'string'], [DataType.DT_COMPLEX64, 'complex64'], [DataType.DT_INT64, 'int64'],
  [DataType.DT_BOOL, 'bool'], [DataType.DT_BFLOAT16, 'bfloat16'], [DataType.DT_UINT16, 'uint16'],
  [DataType.DT_COMPLEX128, 'complex128'], [DataType.DT_HALF, 'half'], [DataType.DT_UINT32, 'uint32'],
  [DataType.DT_UINT64, 'uint64'],
]);

export function tfTypeName(dtype: DataType): string {
  return TF_TYPE_NAMES.get(dtype) ?? (DataType[dtype] ?? `type ${dtype}`).replace(/^DT_/, '').toLowerCase();
}

/** TensorShape's limit on dimensions. */
const MAX_RANK = 254;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const SCALAR: readonly number[] = [];

/** Integer dtypes tell `1` from `1.0` and need exact int64s: JSON.parse's numbers are not enough. */
export function needsPreciseNumbers(inputs: readonly InputKind[]): boolean {
  return inputs.some((input) => input.dtype !== DataType.DT_FLOAT && input.dtype !== DataType.DT_DOUBLE &&
    input.dtype !== DataType.DT_STRING && input.dtype !== DataType.DT_BOOL);
}

/**
 * The input tensors of a predict request. `inputs` are the signature's (sorted by alias);
 * `maxElements` bounds allocations by what the body could hold (one character per value), so that
 * a small body cannot make us allocate a huge tensor before it fails validation.
 */
export function tensorsFromJson(
  doc: JsonObject,
  inputs: readonly InputKind[],
  signatureName: string,
  maxElements: number,
): PredictTensors {
  const instances = member(doc, 'instances');
  const columns = member(doc, 'inputs');
  if (inputs.length === 0) {
    // Beyond TF Serving (which refuses signatures without inputs): `"inputs": {}` runs them.
    if (instances === undefined && isJsonObject(columns) && Object.keys(columns).length === 0) {
      return { format: 'columnar', inputs: new Map() };
    }
    throw invalidArgument(`Failed to get input map for signature: ${signatureName || 'DEFAULT'}`);
  }
  if (instances !== undefined) {
    if (columns !== undefined) {
      throw jsonValueError(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
    }
    if (!Array.isArray(instances)) throw jsonValueError(doc, "Expecting 'instances' to be an list/array");
    if (instances.length === 0) throw jsonValueError(doc, "No values in 'instances' array");
    return { format: 'row', inputs: tensorsFromInstances(instances, inputs, maxElements) };
  }
  if (columns !== undefined) return { format: 'columnar', inputs: tensorsFromColumns(columns, inputs, maxElements) };
  throw invalidArgument("Missing 'inputs' or 'instances' key");
}

const isElementObject = (value: JsonValue): boolean => isJsonObject(value) && !isBase64Object(value);

function tensorsFromInstances(list: JsonValue[], inputs: readonly InputKind[], maxElements: number): Map<string, HostTensor> {
  if (!isJsonObject(list[0]!) && inputs.length > 1) {
    throw invalidArgument(
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map',
    );
  }
  const objects = isElementObject(list[0]!);
  const batches = new Map<string, BatchBuilder>();
  const batchOf = (spec: InputKind): BatchBuilder => {
    let batch = batches.get(spec.alias);
    if (!batch) batches.set(spec.alias, (batch = new BatchBuilder(spec.dtype, list.length, maxElements)));
    return batch;
  };
  for (let i = 0; i < list.length; i++) {
    const element = list[i]!;
    if (!objects) {
      if (isElementObject(element)) throw invalidArgument(`Expecting value/list but got object at item ${i} of input list`);
      try {
        batchOf(inputs[0]!).add(element, i);
      } catch (error) {
        throw invalidArgument(`Failed to process element: ${i} of 'instances' list. Error: ${String(error)}`);
      }
      continue;
    }
    if (!isElementObject(element)) throw invalidArgument(`Expecting object but got list at item ${i} of input list`);
    const row = element as JsonObject;
    const keys = Object.keys(row);
    for (const key of keys) {
      try {
        const spec = inputs.find((input) => input.alias === key);
        if (!spec) throw invalidArgument(`JSON object: does not have named input: ${key}`);
        batchOf(spec).add(row[key]!, i);
      } catch (error) {
        throw invalidArgument(`Failed to process element: ${i} key: ${key} of 'instances' list. Error: ${String(error)}`);
      }
    }
    if (keys.length !== inputs.length) {
      throw invalidArgument(
        `Failed to process element: ${i} of 'instances' list. JSON object: ${debugString(row)} ` +
          `keys must be equal to: ${inputs.map((input) => input.alias).join(',')}`,
      );
    }
  }
  const tensors = new Map<string, HostTensor>();
  for (const [alias, batch] of batches) tensors.set(alias, batch.tensor());
  return tensors;
}

function tensorsFromColumns(value: JsonValue, inputs: readonly InputKind[], maxElements: number): Map<string, HostTensor> {
  if (!isJsonObject(value) || isBase64Object(value)) {
    if (inputs.length > 1) {
      throw invalidArgument(
        'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
      );
    }
    return new Map([[inputs[0]!.alias, denseTensor(value, inputs[0]!.dtype, maxElements)]]);
  }
  const tensors = new Map<string, HostTensor>();
  for (const input of inputs) {
    const item = member(value, input.alias);
    if (item === undefined) throw invalidArgument(`Missing named input: ${input.alias} in 'inputs' object.`);
    tensors.set(input.alias, denseTensor(item, input.dtype, maxElements));
  }
  return tensors;
}

function denseTensor(value: JsonValue, dtype: DataType, maxElements: number): HostTensor {
  const shape = denseShape(value);
  const count = numElements(shape);
  const data = count <= maxElements ? allocateData(dtype, count) : undefined;
  fillTensor(value, 0, shape, dtype, data, { next: 0 });
  if (!data) throw invalidArgument(`Tensor of shape ${shapeText(shape)} is larger than the request`);
  return { dtype, shape, data };
}

/** Rows of one input, batched as they come: row i fills elements [i * size, (i + 1) * size). */
class BatchBuilder {
  private shape: readonly number[] | undefined;
  private size = 0;
  private data: TensorData | undefined;

  constructor(
    private readonly dtype: DataType,
    private readonly rows: number,
    private readonly maxElements: number,
  ) {}

  add(value: JsonValue, row: number): void {
    const shape = denseShape(value);
    const size = numElements(shape);
    if (this.shape === undefined) {
      this.shape = shape;
      this.size = size;
      if (size * this.rows <= this.maxElements) this.data = allocateData(this.dtype, size * this.rows);
    }
    const fits = size === this.size && sameShape(shape, this.shape);
    // A row that does not fit is still converted first: TF Serving reports its value errors first.
    fillTensor(value, 0, shape, this.dtype, fits ? this.data : undefined, { next: row * size });
    if (size !== this.size) throw invalidArgument(`Expecting tensor size: ${this.size} but got: ${size}`);
    if (!fits) throw invalidArgument(`Expecting shape ${shapeText(this.shape)} but got: ${shapeText(shape)}`);
  }

  tensor(): HostTensor {
    if (!this.data) throw invalidArgument(`Tensor of shape ${shapeText([this.rows, ...this.shape!])} is larger than the request`);
    return { dtype: this.dtype, shape: [this.rows, ...this.shape!], data: this.data };
  }
}

/** The shape a nested list implies, following first elements (GetDenseTensorShape). */
function denseShape(value: JsonValue): readonly number[] {
  if (!Array.isArray(value)) return SCALAR;
  const shape: number[] = [];
  let current: JsonValue = value;
  while (Array.isArray(current)) {
    shape.push(current.length);
    if (shape.length > MAX_RANK) throw invalidArgument(`Tensor rank exceeds the maximum of ${MAX_RANK}`);
    if (current.length === 0) break;
    current = current[0]!;
  }
  return shape;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Checks `value` against `shape` and writes its leaves in order (FillTensorProto); no data: check only. */
function fillTensor(
  value: JsonValue,
  level: number,
  shape: readonly number[],
  dtype: DataType,
  data: TensorData | undefined,
  cursor: { next: number },
): void {
  if (!Array.isArray(value)) {
    if (level !== shape.length) {
      throw invalidArgument(
        `JSON Value: ${debugString(value)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${shape.length}`,
      );
    }
    writeValue(value, dtype, data, cursor.next++);
    return;
  }
  if (level >= shape.length) throw invalidArgument(`Encountered list at unexpected level: ${level} expected < ${shape.length}`);
  if (value.length !== shape[level]) {
    throw invalidArgument(`Encountered list at unexpected size: ${value.length} at level: ${level} expected size: ${shape[level]}`);
  }
  if (level === shape.length - 1) {
    // Innermost list: leaves only, no recursion.
    for (let i = 0; i < value.length; i++) {
      const leaf = value[i]!;
      if (Array.isArray(leaf)) throw invalidArgument(`Encountered list at unexpected level: ${level + 1} expected < ${shape.length}`);
      writeValue(leaf, dtype, data, cursor.next++);
    }
    return;
  }
  for (let i = 0; i < value.length; i++) fillTensor(value[i]!, level + 1, shape, dtype, data, cursor);
}

/** One leaf (AddValueToTensor): the dtype decides which JSON values are acceptable. */
function writeValue(value: JsonValue, dtype: DataType, data: TensorData | undefined, index: number): void {
  switch (dtype) {
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE: {
      const number = typeof value === 'number' ? value : value instanceof FloatToken ? value.value
        : typeof value === 'bigint' ? Number(value) : undefined;
      if (number === undefined) throw typeError(value, dtype);
      if (data) (data as Float32Array | Float64Array)[index] = number;
      return;
    }
    case DataType.DT_INT32:
    case DataType.DT_INT16:
    case DataType.DT_INT8:
    case DataType.DT_UINT8:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) throw typeError(value, dtype);
      if (data) (data as Int32Array)[index] = value;
      return;
    case DataType.DT_UINT32:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) throw typeError(value, dtype);
      if (data) (data as Uint32Array)[index] = value;
      return;
    case DataType.DT_INT64:
    case DataType.DT_UINT64: {
      const integer = typeof value === 'bigint' ? value
        : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
      const [min, max] = dtype === DataType.DT_INT64 ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      if (integer === undefined || integer < min || integer > max) throw typeError(value, dtype);
      if (data) (data as BigInt64Array)[index] = integer;
      return;
    }
    case DataType.DT_BOOL:
      if (typeof value !== 'boolean') throw typeError(value, dtype);
      if (data) (data as Uint8Array)[index] = value ? 1 : 0;
      return;
    case DataType.DT_STRING: {
      let bytes: Uint8Array;
      if (typeof value === 'string') {
        bytes = Buffer.from(value, 'utf8');
      } else if (value instanceof ByteString) {
        bytes = value.bytes;
      } else if (isJsonObject(value)) {
        if (!isBase64Object(value)) throw invalidArgument(`JSON Value: ${debugString(value)} not formatted correctly for base64 data`);
        const decoded = decodeBase64(value.b64);
        if (!decoded) throw invalidArgument('Unable to base64 decode');
        bytes = decoded;
      } else {
        throw typeError(value, dtype);
      }
      if (data) (data as Uint8Array[])[index] = bytes;
      return;
    }
    default:
      if (isJsonObject(value)) throw typeError(value, dtype);
      throw unimplemented(`Conversion of JSON Value: ${debugString(value)} to type: ${tfTypeName(dtype)}`);
  }
}

function typeError(value: JsonValue, dtype: DataType): Error {
  return invalidArgument(
    `JSON Value: ${debugString(value)} Type: ${jsonTypeName(value)} is not of expected type: ${tfTypeName(dtype)}`,
  );
}
