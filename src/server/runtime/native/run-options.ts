/**
 * The RunOptions (tensorflow/core/protobuf/config.proto) handed to one TF_SessionRun, encoded by
 * hand like session-config.ts: one field. RunOptions.inter_op_thread_pool = 3 (int32): -1 runs
 * the step in the calling thread (DirectSession executes a single-partition graph synchronously,
 * without handing its ops to the session's inter-op pool), so a small run wakes no pool thread and
 * leaves none spinning for work afterwards. TensorFlow's own note: only for simple graphs, where a
 * context switch costs about as much as the run. A graph of several partitions (several devices)
 * still uses the pool. The test reads the bytes back through TensorFlow.
 */
export interface RunConfig {
  /** Run the step in the calling thread (RunOptions.inter_op_thread_pool = -1). */
  readonly inCallerThread?: boolean;
  /** An inter-op pool index (session_inter_op_thread_pool); for tests of TensorFlow's check. */
  readonly interOpThreadPool?: number;
}

/** A protobuf varint of a (sign-extended, as int32 fields are) integer. */
function varint(value: number): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const INTER_OP_THREAD_POOL_KEY = (3 << 3) | 0;

/** The serialized RunOptions, or undefined when every option is TensorFlow's default. */
export function encodeRunOptions(config: RunConfig): Uint8Array | undefined {
  const pool = config.interOpThreadPool ?? (config.inCallerThread ? -1 : 0);
  if (pool === 0) return undefined;
  return Uint8Array.from([INTER_OP_THREAD_POOL_KEY, ...varint(pool)]);
}

/** Encoded once: every run in the caller's thread sends the same bytes. */
export const IN_CALLER_THREAD = encodeRunOptions({ inCallerThread: true })!;
