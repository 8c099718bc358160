/**
 * Checks a request against a signature the way TensorFlow Serving's predict path does: the input
 * aliases must be exactly the signature's, output filters must name its outputs, and dtypes must
 * match (TensorFlow's session does that check; its wording is kept).
 *
 * Shapes (validateShapes): TensorFlow's session lets the kernels decide, and a bad shape fails
 * there with INVALID_ARGUMENT (Conv2D: "input must be 4-dimensional[1,3]"). Our wasm kernels can
 * instead trap on a shape the graph was not built for, and TensorFlow's own oneDNN kernels abort
 * the process on some (native engine, native/feed-checks.ts), so every input that reaches a
 * shape-bound op is checked first: its rank and known dimensions against the signature (and, on
 * the native engine, its placeholder), its element count, and one batch size across the batched
 * inputs. Inputs that only flow through element-wise ops keep TensorFlow's freedom (half_plus_two
 * declares x as [-1,1] and serves [3]).
 */
import { invalidArgument } from '../errors.js';
import type { SignatureChecks } from './engine.js';
import type { SignatureInfo, TensorSpec } from './savedmodel/signatures.js';
import { type DataType, DataType as DT, tfDtypeString } from './tensor/dtypes.js';
import { type HostTensor, numElements } from './tensor/host-tensor.js';

export type TensorMap = ReadonlyMap<string, HostTensor>;

/**
 * `feedDtypes` (alias -> dtype) overrides the signature's dtypes with those of the graph's feed
 * points, which is what TensorFlow checks against.
 */
export function validateInputs(signature: SignatureInfo, inputs: TensorMap, feedDtypes?: ReadonlyMap<string, DataType>): void {
  const expected = signature.inputs.map((s) => s.alias);
  const sent = [...inputs.keys()].sort();
  if (sent.length !== expected.length) {
    const extra = sent.filter((a) => !expected.includes(a));
    const missing = expected.filter((a) => !inputs.has(a));
    throw invalidArgument(
      `input size does not match signature: ${sent.length}!=${expected.length} len({${sent.join(',')}}) != ` +
        `len({${expected.join(',')}}). Sent extra: {${extra.join(',')}}. Missing but required: {${missing.join(',')}}.`,
    );
  }
  signature.inputs.forEach((spec, index) => {
    const tensor = inputs.get(spec.alias);
    if (!tensor) {
      throw invalidArgument(
        `input tensor alias not found in signature: ${sent.find((a) => !expected.includes(a))}. ` +
          `Inputs expected to be in the set {${expected.join(',')}}.`,
      );
    }
    const expectedDtype = feedDtypes?.get(spec.alias) ?? spec.dtype;
    if (tensor.dtype !== expectedDtype) {
      throw invalidArgument(`Expects arg[${index}] to be ${tfDtypeString(expectedDtype)} but ${tfDtypeString(tensor.dtype)} is provided`);
    }
  });
}

/** A shape as TensorFlow's PartialTensorShape::DebugString prints it: "[?,96,96,3]". */
export function shapeString(shape: readonly number[] | undefined): string {
  return shape === undefined ? '<unknown>' : `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}

/** Storage elements per tensor element (complex numbers hold two). */
function valuesPerElement(dtype: DataType): number {
  return dtype === DT.DT_COMPLEX64 || dtype === DT.DT_COMPLEX128 ? 2 : 1;
}

const INT64_MAX = (1n << 63n) - 1n;

/**
 * TensorFlow's TensorShape refuses a shape whose running product of dimensions overflows int64,
 * even when a later dimension is 0 (so the tensor holds no values). Its session CHECK-fails on
 * such a shape and aborts the process (found by the gRPC fuzz campaign: [3,3,2^62,0]), so it is
 * refused here with TensorShape's message.
 */
function checkNoOverflow(shape: readonly number[]): void {
  let product = 1n;
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 0) return; // reported with the element count below
    const next = product * BigInt(size);
    if (next > INT64_MAX) throw invalidArgument(`Encountered overflow when multiplying ${product} with ${BigInt(size)}, result: -1`);
    product = next;
  }
}

/**
 * A shape as Python TensorFlow prints it in its feed error: a value's numpy shape "(1, 16, 16)",
 * "(3,)", "()"; a declared TensorShape "(None, 16, 16, 3)".
 */
function pythonShapeString(shape: readonly number[]): string {
  const dims = shape.map((d) => (d < 0 ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

/**
 * A fed tensor against one declared shape (partial: -1 is any size). A rank mismatch is worded as
 * TensorFlow's kernels word it (conv_ops.cc: "input must be 4-dimensional"), a known dimension
 * that differs as Python TensorFlow's Session.run refuses such a feed.
 */
function checkDeclared(tensor: HostTensor, declared: readonly number[], tensorName: string, context: string): void {
  if (tensor.shape.length !== declared.length) {
    throw invalidArgument(`input must be ${declared.length}-dimensional${shapeString(tensor.shape)} (${context} ${shapeString(declared)})`);
  }
  if (declared.some((size, axis) => size >= 0 && tensor.shape[axis] !== size)) {
    throw invalidArgument(
      `Cannot feed value of shape ${pythonShapeString(tensor.shape)} for Tensor ${tensorName}, which has shape ${pythonShapeString(declared)} (${context} ${shapeString(declared)})`,
    );
  }
}

/**
 * Checks each input's shape against the signature. `checks.shapeBound` names the aliases whose
 * declared shape binds (the others flow through element-wise ops only); no checks: none.
 * `checks.feedShapes` adds the shapes the graph's feed points declare (the native engine),
 * checked for the same aliases. Element counts are checked for every input. Call after
 * validateInputs.
 */
export function validateShapes(signature: SignatureInfo, inputs: TensorMap, checks: SignatureChecks | undefined): void {
  const checked = checks?.shapeBound;
  const feedShapes = checks?.feedShapes;
  let batch: { alias: string; size: number; shape: readonly number[] } | undefined;
  signature.inputs.forEach((spec, index) => {
    const tensor = inputs.get(spec.alias);
    if (!tensor) return;
    checkNoOverflow(tensor.shape);
    const expected = numElements(tensor.shape) * valuesPerElement(tensor.dtype);
    if (tensor.shape.some((d) => !Number.isInteger(d) || d < 0) || tensor.data.length !== expected) {
      throw invalidArgument(
        `tensor parsing error: ${spec.alias} (shape ${shapeString(tensor.shape)} needs ${expected} values, got ${tensor.data.length})`,
      );
    }
    if (!checked?.has(spec.alias)) return;
    const declared = spec.shape;
    if (declared !== undefined) checkDeclared(tensor, declared, spec.tensorName, `arg[${index}] ${spec.alias}: the signature declares`);
    const fed = feedShapes?.get(spec.alias);
    if (fed !== undefined) checkDeclared(tensor, fed, spec.tensorName, `arg[${index}] ${spec.alias}: its placeholder declares`);
    // Batched inputs (rank >= 2, leading dimension unknown) must agree on the batch size.
    if (checks?.sameBatch !== false && declared !== undefined && declared.length >= 2 && declared[0]! < 0) {
      const size = tensor.shape[0]!;
      if (!batch) batch = { alias: spec.alias, size, shape: tensor.shape };
      else if (batch.size !== size) {
        throw invalidArgument(
          `inputs must have the same batch size (dimension 0): ${batch.alias} has ${batch.size} ${shapeString(batch.shape)}, ` +
            `${spec.alias} has ${size} ${shapeString(tensor.shape)}`,
        );
      }
    }
  });
}

/** The outputs to compute: all of them, or the requested subset in request order. */
export function selectOutputs(signature: SignatureInfo, filter: readonly string[] | undefined): TensorSpec[] {
  if (!filter || filter.length === 0) return [...signature.outputs];
  const seen = new Set<string>();
  return filter.map((alias) => {
    if (seen.has(alias)) throw invalidArgument(`duplicate output tensor alias: ${alias}`);
    seen.add(alias);
    const spec = signature.outputs.find((o) => o.alias === alias);
    if (!spec) {
      throw invalidArgument(
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${signature.outputs.map((o) => o.alias).join(',')}}.`,
      );
    }
    return spec;
  });
}
