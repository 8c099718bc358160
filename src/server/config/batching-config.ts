/**
 * --batching_parameters_file: a BatchingParameters message in protobuf text format, resolved
 * with TF Serving's defaults (SharedBatchScheduler::Options and ::QueueOptions) and checked the
 * way WrapSessionForBatching and SharedBatchScheduler::AddQueue check it. TF discovers a bad
 * config only when the first model loads; we refuse it at startup.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseProtoText } from './text-proto.js';
import { type BatchingParameters, BatchingParametersSchema } from '../../gen/tensorflow_serving/config/batching_parameters_pb.js';
import { invalidArgument } from '../errors.js';

/** SharedBatchScheduler::Options::thread_pool_name. */
export const DEFAULT_THREAD_POOL_NAME = 'batch_threads';
/** What tensorflow_model_server names the pool when --enable_batching comes without a file. */
export const FLAG_ONLY_THREAD_POOL_NAME = 'model_server_batch_threads';

/** Every batching setting, defaults applied. */
export interface BatchingConfig {
  /** Largest batch (and largest single request: bigger ones are refused). Default 1000. */
  readonly maxBatchSize: number;
  /** How long an open batch waits for more requests once it holds one. Default 0. */
  readonly batchTimeoutMicros: number;
  /** Batches a queue may hold (the open one included) before it refuses requests. Default 10. */
  readonly maxEnqueuedBatches: number;
  /** Batches run at once, across all models. Default: the number of cores. */
  readonly numBatchThreads: number;
  /** The thread_pool_name label of :tensorflow:serving:batching_session:queuing_latency. */
  readonly threadPoolName: string;
  /** Batches are padded up to the next of these sizes; empty = no padding. */
  readonly allowedBatchSizes: readonly number[];
  /** Pads inputs of differing shapes (beyond dim 0) to a common shape instead of queueing them apart. */
  readonly padVariableLengthInputs: boolean;
}

export function parseBatchingParameters(text: string, source = 'batching parameters'): BatchingParameters {
  return parseProtoText(BatchingParametersSchema, text, source);
}

export async function readBatchingParameters(path: string): Promise<BatchingParameters> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalidArgument(`Could not read batching parameters file ${path}: ${(error as Error).message}`);
  }
  return parseBatchingParameters(text, path);
}

/**
 * Applies the defaults and validates. `params` undefined means --enable_batching without a
 * parameters file (TF Serving then only names the thread pool).
 */
export function batchingConfigFrom(params: BatchingParameters | undefined, cores = availableParallelism()): BatchingConfig {
  const config: BatchingConfig = {
    maxBatchSize: toNumber(params?.maxBatchSize, 1000),
    batchTimeoutMicros: toNumber(params?.batchTimeoutMicros, 0),
    maxEnqueuedBatches: toNumber(params?.maxEnqueuedBatches, 10),
    numBatchThreads: toNumber(params?.numBatchThreads, cores),
    threadPoolName: params ? (params.threadPoolName ?? DEFAULT_THREAD_POOL_NAME) : FLAG_ONLY_THREAD_POOL_NAME,
    allowedBatchSizes: (params?.allowedBatchSizes ?? []).map((size) => toNumber(size, 0)),
    padVariableLengthInputs: params?.padVariableLengthInputs ?? false,
  };
  validateBatchingConfig(config);
  return config;
}

/** Reads, defaults and validates --batching_parameters_file (absent path: defaults only). */
export async function loadBatchingConfig(path: string | undefined, cores = availableParallelism()): Promise<BatchingConfig> {
  return batchingConfigFrom(path ? await readBatchingParameters(path) : undefined, cores);
}

/** TensorFlow's checks, with its messages. */
export function validateBatchingConfig(config: BatchingConfig): void {
  if (config.numBatchThreads < 1) throw invalidArgument(`num_batch_threads must be positive; was ${config.numBatchThreads}`);
  if (config.maxBatchSize < 1) throw invalidArgument(`input_batch_size_limit must be positive; was ${config.maxBatchSize}`);
  if (config.batchTimeoutMicros < 0) {
    throw invalidArgument(`batch_timeout_micros must be non-negative; was ${config.batchTimeoutMicros}`);
  }
  if (config.maxEnqueuedBatches < 1) {
    throw invalidArgument(`max_enqueued_batches must be positive; was ${config.maxEnqueuedBatches}`);
  }
  const sizes = config.allowedBatchSizes;
  if (sizes.length === 0) return;
  if (sizes.some((size, i) => size < 1 || (i > 0 && size <= sizes[i - 1]!))) {
    throw invalidArgument('allowed_batch_sizes entries must be monotonically increasing');
  }
  const last = sizes[sizes.length - 1]!;
  if (last !== config.maxBatchSize) {
    throw invalidArgument(
      `Last entry in allowed_batch_sizes must match max_batch_size; last entry was ${last}; expected ${config.maxBatchSize}`,
    );
  }
}

/** int64 settings as JS numbers: anything beyond 2^53 is far past any sensible value. */
function toNumber(value: bigint | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(value);
}
