/**
 * Dim-0 ("row") operations on host tensors: what batching needs to merge requests into one
 * tensor, pad it, and split the results back.
 */
import { invalidArgument } from '../errors.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import { type HostTensor, type TensorData, allocateData, numElements } from '../runtime/tensor/host-tensor.js';

/**
 * The typed-array operations used here, common to every numeric storage type. The dtype of the
 * tensors involved is always the same, so mixing number and bigint arrays cannot happen.
 */
interface TypedStorage {
  readonly length: number;
  set(source: ArrayLike<number | bigint>, offset?: number): void;
  subarray(begin?: number, end?: number): TypedStorage;
  slice(begin?: number, end?: number): TypedStorage;
  fill(value: number | bigint, start?: number, end?: number): TypedStorage;
}

const typed = (data: TensorData): TypedStorage => data as unknown as TypedStorage;
const asTensorData = (storage: TypedStorage): TensorData => storage as unknown as TensorData;
const isStrings = (data: TensorData): data is Uint8Array[] => Array.isArray(data);

/** Storage slots per element: complex values interleave re and im. */
function slotsPerElement(dtype: DataType): number {
  return dtype === DataType.DT_COMPLEX64 || dtype === DataType.DT_COMPLEX128 ? 2 : 1;
}

/** Stacks tensors of equal dtype and equal dims beyond 0 along dim 0. */
export function concatRows(tensors: readonly HostTensor[]): HostTensor {
  const first = tensors[0]!;
  if (tensors.length === 1) return first;
  const rows = tensors.reduce((sum, t) => sum + t.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (isStrings(first.data)) {
    return { dtype: first.dtype, shape, data: tensors.flatMap((t) => t.data as Uint8Array[]) };
  }
  const data = typed(allocateData(first.dtype, numElements(shape)));
  let offset = 0;
  for (const tensor of tensors) {
    const source = typed(tensor.data);
    data.set(source as unknown as ArrayLike<number>, offset);
    offset += source.length;
  }
  return { dtype: first.dtype, shape, data: asTensorData(data) };
}

/** Cuts a tensor along dim 0 into pieces of `sizes` rows (which must add up to at most its rows). */
export function splitRows(tensor: HostTensor, sizes: readonly number[]): HostTensor[] {
  const rowSlots = numElements(tensor.shape.slice(1)) * slotsPerElement(tensor.dtype);
  const rest = tensor.shape.slice(1);
  let begin = 0;
  return sizes.map((rows) => {
    const end = begin + rows * rowSlots;
    const data = isStrings(tensor.data) ? tensor.data.slice(begin, end) : asTensorData(typed(tensor.data).slice(begin, end));
    begin = end;
    return { dtype: tensor.dtype, shape: [rows, ...rest], data };
  });
}

/** `times` copies of the tensor's first row: TF's batch padding (a row known to be valid input). */
export function repeatFirstRow(tensor: HostTensor, times: number): HostTensor {
  const rowSlots = numElements(tensor.shape.slice(1)) * slotsPerElement(tensor.dtype);
  const shape = [times, ...tensor.shape.slice(1)];
  if (isStrings(tensor.data)) {
    const row = tensor.data.slice(0, rowSlots);
    return { dtype: tensor.dtype, shape, data: Array.from({ length: times }, () => row).flat() };
  }
  const row = typed(tensor.data).subarray(0, rowSlots);
  const data = typed(allocateData(tensor.dtype, numElements(shape)));
  for (let i = 0; i < times; i++) data.set(row as unknown as ArrayLike<number>, i * rowSlots);
  return { dtype: tensor.dtype, shape, data: asTensorData(data) };
}

/**
 * Grows dims 1.. of a tensor to `dims` (dim 0 is kept), filling with the tensor's first element
 * as TF Serving's batching_util AddPadding does.
 */
export function padTrailingDims(tensor: HostTensor, dims: readonly number[]): HostTensor {
  const inShape = tensor.shape;
  const outShape = [inShape[0]!, ...dims.slice(1)];
  if (outShape.every((d, i) => d === inShape[i])) return tensor;
  if (numElements(outShape) === numElements(inShape)) return { ...tensor, shape: outShape };
  if (numElements(inShape) < 1) throw invalidArgument('Got empty tensor in batch of non-empty tensors.');
  const slots = slotsPerElement(tensor.dtype);
  const out = filledWithFirstElement(tensor, numElements(outShape));
  const inStrides = stridesOf(inShape);
  const outStrides = stridesOf(outShape);
  const last = inShape.length - 1;
  // Copies the innermost runs of the input into their place in the (larger) output.
  const copy = (dim: number, inOffset: number, outOffset: number): void => {
    if (dim === last) {
      copyRun(tensor.data, inOffset * slots, out, outOffset * slots, inShape[last]! * slots);
      return;
    }
    for (let i = 0; i < inShape[dim]!; i++) copy(dim + 1, inOffset + i * inStrides[dim]!, outOffset + i * outStrides[dim]!);
  };
  copy(0, 0, 0);
  return { dtype: tensor.dtype, shape: outShape, data: out };
}

function filledWithFirstElement(tensor: HostTensor, count: number): TensorData {
  if (isStrings(tensor.data)) return Array.from({ length: count }, () => (tensor.data as Uint8Array[])[0]!);
  const data = allocateData(tensor.dtype, count);
  const source = tensor.data as ArrayLike<number | bigint>;
  const slots = slotsPerElement(tensor.dtype);
  const storage = typed(data);
  if (slots === 1) storage.fill(source[0]!);
  else for (let i = 0; i < storage.length; i += slots) storage.set([source[0]!, source[1]!], i);
  return data;
}

function copyRun(source: TensorData, from: number, target: TensorData, to: number, length: number): void {
  if (isStrings(source)) {
    for (let i = 0; i < length; i++) (target as Uint8Array[])[to + i] = source[from + i]!;
    return;
  }
  typed(target).set(typed(source).subarray(from, from + length) as unknown as ArrayLike<number>, to);
}

/** Row-major strides, in elements. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  return strides;
}
