/**
 * A version's warmup data: <version dir>/assets.extra/tf_serving_warmup_requests, a TFRecord file
 * of serialized PredictionLogs (at most 1000), as TF Serving's saved_model_warmup_util reads it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { type PredictionLog, PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import { Code, ServingError, invalidArgument, toServingError } from '../errors.js';
import { readTfRecords } from './tfrecord.js';

export const ASSETS_EXTRA_DIRECTORY = 'assets.extra';
export const WARMUP_REQUESTS_FILE = 'tf_serving_warmup_requests';
/** WarmupConsts::kMaxNumRecords. */
export const MAX_WARMUP_RECORDS = 1000;

export interface WarmupData {
  readonly path: string;
  readonly logs: readonly PredictionLog[];
}

export const warmupFilePath = (versionDir: string): string => join(versionDir, ASSETS_EXTRA_DIRECTORY, WARMUP_REQUESTS_FILE);

/**
 * The version's warmup records, or undefined when it has no warmup file (warmup is optional).
 * Everything is read and checked before any request runs, so a bad file fails fast.
 */
export async function readWarmupData(versionDir: string): Promise<WarmupData | undefined> {
  const path = warmupFilePath(versionDir);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toServingError(error, `Could not read warmup data ${path}`);
  }
  return { path, logs: parseWarmupRecords(bytes, path) };
}

export function parseWarmupRecords(bytes: Uint8Array, path: string): PredictionLog[] {
  let records: Uint8Array[];
  try {
    records = readTfRecords(bytes);
  } catch (error) {
    const message = (error as Error).message;
    throw new ServingError(
      Code.DATA_LOSS,
      `Failed to read warmup data ${path}: ${message}. Please verify your warmup data is in TFRecord format.`,
    );
  }
  if (records.length > MAX_WARMUP_RECORDS) {
    throw invalidArgument(`Number of warmup records exceeds the maximum (${MAX_WARMUP_RECORDS}) at ${path}`);
  }
  return records.map((record, index) => {
    try {
      return fromBinary(PredictionLogSchema, record);
    } catch (error) {
      throw invalidArgument(`Failed to parse warmup record: record ${index} (${(error as Error).message}) from ${path}`);
    }
  });
}
