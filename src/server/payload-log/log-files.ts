/**
 * Reading captured payload logs: TFRecord files of PredictionLogs (a file, or a directory's
 * *.tfrecord files, in name order = capture order), and the warmup file made from them.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type PredictionLog, PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import { MAX_WARMUP_RECORDS, warmupFilePath } from '../warmup/warmup-file.js';
import { encodeTfRecords, readTfRecords } from '../warmup/tfrecord.js';

export function logFilesOf(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path).filter((n) => n.endsWith('.tfrecord')).sort().map((n) => join(path, n));
  });
}

export function* readPredictionLogs(files: readonly string[]): Generator<{ file: string; index: number; log: PredictionLog }> {
  for (const file of files) {
    const records = readTfRecords(readFileSync(file));
    for (let index = 0; index < records.length; index++) yield { file, index, log: fromBinary(PredictionLogSchema, records[index]!) };
  }
}

export interface WarmupBuild {
  readonly path: string;
  readonly read: number;
  readonly written: number;
  readonly duplicates: number;
  readonly skipped: number;
}

/**
 * The requests of `logs` (responses and log metadata dropped: warmup ignores them), each distinct
 * request once, at most `maxRecords` (TF Serving reads at most 1000), written atomically as the
 * version's assets.extra/tf_serving_warmup_requests. `model` keeps only that model's records.
 */
export async function writeWarmupFile(files: readonly string[], versionDir: string, options: { maxRecords?: number; model?: string } = {}): Promise<WarmupBuild> {
  const max = Math.min(options.maxRecords ?? MAX_WARMUP_RECORDS, MAX_WARMUP_RECORDS);
  const seen = new Set<string>();
  const records: Uint8Array[] = [];
  let read = 0;
  let duplicates = 0;
  let skipped = 0;
  for (const { log } of readPredictionLogs(files)) {
    read++;
    const request = requestOnly(log);
    if (!request || (options.model !== undefined && log.logMetadata?.modelSpec?.name !== options.model)) {
      skipped++;
      continue;
    }
    const bytes = toBinary(PredictionLogSchema, request);
    const key = Buffer.from(bytes).toString('base64');
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    if (records.length >= max) continue;
    seen.add(key);
    records.push(bytes);
  }
  const path = warmupFilePath(versionDir);
  await mkdir(dirname(path), { recursive: true });
  const staging = `${path}.tmp-${process.pid}`;
  await writeFile(staging, encodeTfRecords(records));
  await rename(staging, path);
  return { path, read, written: records.length, duplicates, skipped };
}

/** The log with its request only; undefined for log types warmup cannot replay. */
function requestOnly(log: PredictionLog): PredictionLog | undefined {
  const type = log.logType;
  switch (type.case) {
    case 'predictLog':
    case 'classifyLog':
    case 'regressLog':
    case 'multiInferenceLog':
      return create(PredictionLogSchema, { logType: { case: type.case, value: { request: type.value.request } } as PredictionLog['logType'] });
    default:
      return undefined;
  }
}
