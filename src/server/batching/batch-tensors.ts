/**
 * Merging the inputs of a batch's requests into one set of tensors and splitting the results
 * back, as TF Serving's BatchingSession (MergeInputTensors, SplitOutputTensors) does, with its
 * checks and messages.
 */
import { failedPrecondition, invalidArgument } from '../errors.js';
import type { TensorMap } from '../runtime/signature-io.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { concatRows, padTrailingDims, repeatFirstRow, splitRows } from './tensor-rows.js';

/** TF pads tensors of rank 1 to 6 only (like its Pad op). */
const MAX_PADDED_RANK = 6;

/** The rows a request contributes to a batch: the common dim 0 of its inputs. */
export function taskSize(inputs: TensorMap): number {
  if (inputs.size === 0) throw invalidArgument('Batching Run() must have at least one input tensor');
  let size: number | undefined;
  for (const tensor of inputs.values()) {
    if (tensor.shape.length === 0) throw invalidArgument('Batching Run() input tensors must have at least one dimension');
    const rows = tensor.shape[0]!;
    if (size !== undefined && rows !== size) throw invalidArgument('Batching Run() input tensors must have equal 0th-dimension size');
    size = rows;
  }
  return size!;
}

/** The smallest allowed size holding `size` rows (`size` itself when none does, as TF logs and does). */
export function roundToAllowedBatchSize(allowed: readonly number[], size: number): number {
  return allowed.find((a) => a >= size) ?? size;
}

/** A request's inputs and its rows. */
export interface BatchedRequest {
  readonly inputs: TensorMap;
  readonly size: number;
}

export interface MergeOptions {
  readonly allowedBatchSizes: readonly number[];
  readonly padVariableLengthInputs: boolean;
}

export interface MergedInputs {
  readonly inputs: Map<string, HostTensor>;
  /** Rows after padding up to an allowed batch size. */
  readonly paddedSize: number;
}

/**
 * Concatenates each input along dim 0, in `aliases` order. With padVariableLengthInputs, every
 * task's tensor is first padded to the largest dims of the batch; with allowed batch sizes, the
 * first row of the last task is repeated up to the next allowed size.
 */
export function mergeInputs(tasks: readonly BatchedRequest[], aliases: readonly string[], options: MergeOptions): MergedInputs {
  const size = tasks.reduce((sum, task) => sum + task.size, 0);
  const paddedSize = roundToAllowedBatchSize(options.allowedBatchSizes, size);
  const inputs = new Map<string, HostTensor>();
  for (const alias of aliases) {
    let parts = tasks.map((task) => task.inputs.get(alias)!);
    if (options.padVariableLengthInputs) parts = padToCommonDims(parts);
    if (paddedSize > size) parts.push(repeatFirstRow(parts[parts.length - 1]!, paddedSize - size));
    inputs.set(alias, concatRows(parts));
  }
  return { inputs, paddedSize };
}

function padToCommonDims(parts: readonly HostTensor[]): HostTensor[] {
  const rank = parts[0]!.shape.length;
  const maxDims = new Array<number>(rank).fill(0);
  for (const part of parts) part.shape.forEach((d, i) => (maxDims[i] = Math.max(maxDims[i]!, d)));
  return parts.map((part) => {
    const needsPadding = part.shape.some((d, i) => i > 0 && d !== maxDims[i]);
    if (needsPadding && (rank < 1 || rank > MAX_PADDED_RANK)) {
      throw invalidArgument('Only tensors with rank from 1 to 6 can be padded.');
    }
    return needsPadding ? padTrailingDims(part, maxDims) : part;
  });
}

/** Splits every output along dim 0 into the tasks' row counts, dropping the padding rows. */
export function splitOutputs(outputs: ReadonlyMap<string, HostTensor>, taskSizes: readonly number[], paddedSize: number): Map<string, HostTensor>[] {
  const perTask = taskSizes.map(() => new Map<string, HostTensor>());
  for (const [alias, tensor] of outputs) {
    if (tensor.shape.length === 0) throw failedPrecondition('Batched output tensor has 0 dimensions');
    if (tensor.shape[0] !== paddedSize) {
      throw failedPrecondition(
        "Batched output tensor's 0th dimension does not equal the sum of the 0th dimension sizes of the input tensors",
      );
    }
    splitRows(tensor, taskSizes).forEach((piece, i) => perTask[i]!.set(alias, piece));
  }
  return perTask;
}
