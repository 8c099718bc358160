/**
 * Replays captured requests against a server (TF Serving's gRPC API: ours or any other) and
 * compares its answers with the logged ones: a regression check for a new version before it takes
 * traffic. Floats compare within rtol/atol, everything else exactly.
 */
import { credentials } from '@grpc/grpc-js';
import type { TensorProto } from '../../gen/tensorflow/core/framework/tensor_pb.js';
import type { ModelSpec } from '../../gen/tensorflow_serving/apis/model_pb.js';
import type { PredictionLog } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import { grpcClient, unaryCall } from '../transports/grpc/client.js';
import { predictionServiceDefinition } from '../transports/grpc/service-definitions.js';
import { elementsOf, tensorFromProto } from '../runtime/tensor/host-tensor.js';

export interface ReplayOptions {
  readonly address: string;
  /** Send to this model / version / label instead of the logged model (and the latest version). */
  readonly model?: string;
  readonly version?: bigint;
  readonly label?: string;
  readonly rtol: number;
  readonly atol: number;
}

export interface ReplayMismatch {
  readonly record: string;
  readonly reason: string;
}

export interface ReplayReport {
  replayed: number;
  matched: number;
  skipped: number;
  mismatches: ReplayMismatch[];
}

export async function replayLogs(logs: Iterable<{ file: string; index: number; log: PredictionLog }>, options: ReplayOptions): Promise<ReplayReport> {
  const client = grpcClient(options.address, credentials.createInsecure());
  const report: ReplayReport = { replayed: 0, matched: 0, skipped: 0, mismatches: [] };
  try {
    for (const { file, index, log } of logs) {
      const record = `${file}#${index}`;
      const reason = await replayOne(client, log, options);
      if (reason === 'skip') {
        report.skipped++;
        continue;
      }
      report.replayed++;
      if (reason === undefined) report.matched++;
      else report.mismatches.push({ record, reason });
    }
  } finally {
    client.close();
  }
  return report;
}

async function replayOne(client: ReturnType<typeof grpcClient>, log: PredictionLog, options: ReplayOptions): Promise<string | undefined | 'skip'> {
  const type = log.logType;
  try {
    if (type.case === 'predictLog' && type.value.request && type.value.response) {
      const request = { ...type.value.request, modelSpec: target(type.value.request.modelSpec, options) };
      const answer = await unaryCall(client, predictionServiceDefinition.predict, request);
      return compareTensors(type.value.response.outputs, answer.outputs, options);
    }
    if (type.case === 'regressLog' && type.value.request && type.value.response) {
      const request = { ...type.value.request, modelSpec: target(type.value.request.modelSpec, options) };
      const answer = await unaryCall(client, predictionServiceDefinition.regress, request);
      const want = type.value.response.result?.regressions.map((r) => r.value) ?? [];
      const got = answer.result?.regressions.map((r) => r.value) ?? [];
      return compareNumbers('regressions', want, got, options);
    }
    if (type.case === 'classifyLog' && type.value.request && type.value.response) {
      const request = { ...type.value.request, modelSpec: target(type.value.request.modelSpec, options) };
      const answer = await unaryCall(client, predictionServiceDefinition.classify, request);
      const flat = (r: typeof answer.result) => (r?.classifications ?? []).flatMap((c) => c.classes);
      const want = flat(type.value.response.result);
      const got = flat(answer.result);
      if (want.map((c) => c.label).join('\u0000') !== got.map((c) => c.label).join('\u0000')) return 'classification labels differ';
      return compareNumbers('scores', want.map((c) => c.score), got.map((c) => c.score), options);
    }
  } catch (error) {
    return `the server failed: ${(error as Error).message}`;
  }
  return 'skip';
}

function target(logged: ModelSpec | undefined, options: ReplayOptions): ModelSpec {
  const spec: ModelSpec = {
    $typeName: 'tensorflow.serving.ModelSpec',
    name: options.model ?? logged?.name ?? '',
    signatureName: logged?.signatureName ?? '',
    versionChoice: { case: undefined },
  };
  if (options.version !== undefined) spec.versionChoice = { case: 'version', value: { $typeName: 'google.protobuf.Int64Value', value: options.version } };
  else if (options.label !== undefined) spec.versionChoice = { case: 'versionLabel', value: options.label };
  return spec;
}

function compareTensors(want: Record<string, TensorProto>, got: Record<string, TensorProto>, options: ReplayOptions): string | undefined {
  const names = Object.keys(want).sort();
  if (names.join(',') !== Object.keys(got).sort().join(',')) return `outputs {${names}} != {${Object.keys(got).sort()}}`;
  for (const name of names) {
    const a = tensorFromProto(want[name]!);
    const b = tensorFromProto(got[name]!);
    if (a.dtype !== b.dtype) return `${name}: dtype ${a.dtype} != ${b.dtype}`;
    if (a.shape.join(',') !== b.shape.join(',')) return `${name}: shape [${a.shape}] != [${b.shape}]`;
    const x = elementsOf(a);
    const y = elementsOf(b);
    for (let i = 0; i < x.length; i++) {
      const u = x[i]!;
      const v = y[i]!;
      if (typeof u === 'number' && typeof v === 'number') {
        if (!close(u, v, options)) return `${name}[${i}]: ${v} != logged ${u}`;
      } else if (u instanceof Uint8Array && v instanceof Uint8Array) {
        if (Buffer.compare(u, v) !== 0) return `${name}[${i}]: bytes differ`;
      } else if (u !== v) return `${name}[${i}]: ${String(v)} != logged ${String(u)}`;
    }
  }
  return undefined;
}

function compareNumbers(what: string, want: readonly number[], got: readonly number[], options: ReplayOptions): string | undefined {
  if (want.length !== got.length) return `${what}: ${got.length} values, logged ${want.length}`;
  for (let i = 0; i < want.length; i++) if (!close(want[i]!, got[i]!, options)) return `${what}[${i}]: ${got[i]} != logged ${want[i]}`;
  return undefined;
}

function close(want: number, got: number, options: ReplayOptions): boolean {
  if (Number.isNaN(want) && Number.isNaN(got)) return true;
  return Math.abs(want - got) <= options.atol + options.rtol * Math.abs(want);
}
