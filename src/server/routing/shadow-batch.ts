/**
 * Shadow copies run together. One engine run per copy costs a whole inference per copy (on the
 * native engine a thread hand-off and a TF_SessionRun: 40-90 µs of CPU on half_plus_two, about
 * what a run of 8 rows costs), and that CPU is what the callers lose in throughput. So the copies
 * waiting for one shadow are stacked along dim 0 and run once, the outputs cut back into each
 * copy's rows, as TF Serving's batching does for callers (batching/batch-tensors.ts).
 *
 * Copies go together only when they ask the same thing of the same version: model, shadow
 * version, signature, output filter, and inputs of the same aliases, dtypes and dims beyond 0.
 * A signature declaring a fixed dim 0 on an input or output is never batched. A batch whose run
 * fails, or whose outputs do not have the batch's rows in dim 0, runs again copy by copy, so each
 * copy gets its own answer or error. Models whose rows are not independent (the answer for one
 * row depends on the others) need --shadow_max_batch_rows=1: one run per copy.
 *
 * Every shadow run asks to run in the calling thread (RunRequest.inCallerThread: on the native
 * engine RunOptions.inter_op_thread_pool = -1): it then wakes no thread of the inter-op pool that
 * the callers' runs share, and leaves none spinning for work after it (docs/routing.md).
 */
import type { ShadowCall } from '../core/types.js';
import { mergeInputs, splitOutputs, taskSize } from '../batching/batch-tensors.js';
import type { ModelEngine } from '../runtime/engine.js';
import type { SignatureInfo } from '../runtime/savedmodel/signatures.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';

/** What a queued copy is run for: its model, its shadow version and the call. */
export interface QueuedCopy {
  readonly model: string;
  readonly shadow: bigint;
  readonly call: ShadowCall;
}

/** One copy's answer from the shadow. */
export type CopyResult = { readonly outputs: Map<string, HostTensor> } | { readonly error: unknown };

const NO_MERGE = { allowedBatchSizes: [], padVariableLengthInputs: false } as const;

/**
 * Takes the first copy off the queue and, after it, every queued copy that can run in the same
 * engine call, up to `maxRows` rows in all; the others stay queued in their order.
 */
export function takeBatch<J extends QueuedCopy>(queue: J[], maxRows: number): J[] {
  const first = queue.shift()!;
  let rows = rowsOf(first.call);
  if (rows === undefined || rows >= maxRows) return [first];
  const batch = [first];
  for (let i = 0; i < queue.length && rows < maxRows; ) {
    const next = queue[i]!;
    const more = rowsOf(next.call);
    if (more !== undefined && rows + more <= maxRows && sameRun(first, next)) {
      batch.push(next);
      queue.splice(i, 1);
      rows += more;
    } else {
      i++;
    }
  }
  return batch;
}

/** Runs the copies on the shadow's engine: together when they can, each alone otherwise. */
export async function runCopies(engine: ModelEngine, signature: SignatureInfo | undefined, calls: readonly ShadowCall[]): Promise<CopyResult[]> {
  const first = calls[0]!;
  if (calls.length > 1 && signature !== undefined && batchableSignature(signature)) {
    const aliases = [...first.inputs.keys()];
    const sizes = calls.map((call) => rowsOf(call)!);
    try {
      const merged = mergeInputs(calls.map((call, i) => ({ inputs: call.inputs, size: sizes[i]! })), aliases, NO_MERGE);
      const outputs = await engine.run({ signature: first.signatureName, inputs: merged.inputs, outputFilter: first.outputFilter, inCallerThread: true });
      return splitOutputs(outputs, sizes, merged.paddedSize).map((part) => ({ outputs: part }));
    } catch {
      // Run again one by one: each copy's own answer or error.
    }
  }
  // In turn, as they would have run without batching (--shadow_concurrency bounds the runs).
  const results: CopyResult[] = [];
  for (const call of calls) results.push(await runOne(engine, call));
  return results;
}

async function runOne(engine: ModelEngine, call: ShadowCall): Promise<CopyResult> {
  try {
    return { outputs: await engine.run({ signature: call.signatureName, inputs: call.inputs, outputFilter: call.outputFilter, inCallerThread: true }) };
  } catch (error) {
    return { error };
  }
}

/** The rows of a call's inputs (their common dim 0), undefined when it has none to batch on. */
function rowsOf(call: ShadowCall): number | undefined {
  try {
    const rows = taskSize(call.inputs);
    return rows > 0 ? rows : undefined;
  } catch {
    return undefined;
  }
}

/** Same model, version, signature and output filter; inputs of the same aliases, dtypes and dims beyond 0. */
function sameRun(a: QueuedCopy, b: QueuedCopy): boolean {
  if (a.model !== b.model || a.shadow !== b.shadow || a.call.signatureName !== b.call.signatureName) return false;
  if (!sameList(a.call.outputFilter ?? [], b.call.outputFilter ?? [])) return false;
  if (a.call.inputs.size !== b.call.inputs.size) return false;
  for (const [alias, x] of a.call.inputs) {
    const y = b.call.inputs.get(alias);
    if (y === undefined || x.dtype !== y.dtype || !sameList(x.shape.slice(1), y.shape.slice(1))) return false;
  }
  return true;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** No input or output declares a fixed dim 0 (unknown rank, or dim 0 unknown: -1). */
function batchableSignature(signature: SignatureInfo): boolean {
  return [...signature.inputs, ...signature.outputs].every((spec) => spec.shape === undefined || (spec.shape.length > 0 && spec.shape[0] === -1));
}
