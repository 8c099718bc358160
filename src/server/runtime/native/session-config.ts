/**
 * The session's ConfigProto (tensorflow/core/protobuf/config.proto), encoded by hand: we need four
 * fields, and a generated ConfigProto would pull in its whole proto tree. Field numbers:
 * ConfigProto.intra_op_parallelism_threads = 2, inter_op_parallelism_threads = 5, gpu_options = 6;
 * GPUOptions.per_process_gpu_memory_fraction = 1 (double), allow_growth = 4 (bool). The test
 * reads the bytes back through TensorFlow (C API session options, then Python's ConfigProto).
 */
export interface SessionConfig {
  /** --per_process_gpu_memory_fraction: 0 lets TensorFlow choose. */
  readonly gpuMemoryFraction?: number;
  /** Allocate GPU memory as needed instead of the fraction up front. */
  readonly allowGrowth?: boolean;
  /** 0 or absent: TensorFlow's default (one per core). */
  readonly intraOpThreads?: number;
  readonly interOpThreads?: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const key = (field: number, wire: number): number[] => varint((field << 3) | wire);

function double(value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return [...bytes];
}

/** The serialized ConfigProto, or undefined when every option is TensorFlow's default. */
export function encodeSessionConfig(config: SessionConfig): Uint8Array | undefined {
  const gpu: number[] = [];
  if (config.gpuMemoryFraction) gpu.push(...key(1, WIRE_FIXED64), ...double(config.gpuMemoryFraction));
  if (config.allowGrowth) gpu.push(...key(4, WIRE_VARINT), 1);
  const out: number[] = [];
  if (config.intraOpThreads) out.push(...key(2, WIRE_VARINT), ...varint(config.intraOpThreads));
  if (config.interOpThreads) out.push(...key(5, WIRE_VARINT), ...varint(config.interOpThreads));
  if (gpu.length > 0) out.push(...key(6, WIRE_LENGTH), ...varint(gpu.length), ...gpu);
  return out.length > 0 ? Uint8Array.from(out) : undefined;
}
