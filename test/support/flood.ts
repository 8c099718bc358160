/**
 * Concurrent big predicts against a running tfmodel-server (REST and gRPC) while probing it: the
 * load that stalled /healthz in issue 7 item 7. Shared by the load-shedding test and the
 * healthz-under-load benchmark.
 */
import { create } from '@bufbuild/protobuf';
import { type Client, Metadata, type ServiceError, credentials } from '@grpc/grpc-js';
import { request } from 'node:http';
import { GetModelStatusRequestSchema } from '../../src/gen/tensorflow_serving/apis/get_model_status_pb.js';
import { type PredictRequest, PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { grpcClient } from '../../src/server/transports/grpc/client.js';
import { modelServiceDefinition, predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';

export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

/** One request on a connection of its own (as a kubelet probe makes them). */
export function httpCall(port: number, method: string, path: string, body?: Buffer | string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A half_plus_two predict body of about `bytes` bytes: rows [x] with x = 1.5 (answer 2.75). */
export function bigPredictBody(bytes: number): { body: Buffer; rows: number } {
  const rows = Math.floor(bytes / 6);
  return { body: Buffer.from(`{"instances":[${Array(rows).fill('[1.5]').join(',')}]}`), rows };
}

/** The same load over gRPC: a [rows, 1] float tensor of about `bytes` bytes. */
export function bigPredictRequest(model: string, bytes: number): PredictRequest {
  const rows = Math.floor(bytes / 4);
  return create(PredictRequestSchema, {
    modelSpec: { name: model },
    inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: BigInt(rows) }, { size: 1n }] }, floatVal: new Array<number>(rows).fill(1.5) } },
  });
}

export interface GrpcReply {
  readonly code: number;
  readonly details: string;
}

export function grpcChannel(port: number): Client {
  return grpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** A Predict whose request is serialised once (`bytes`), answered with its status code only. */
export function grpcPredictRaw(client: Client, bytes: Buffer): Promise<GrpcReply> {
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(predictionServiceDefinition.predict.path, same, same, bytes, new Metadata(), {}, (error: ServiceError | null) =>
      resolve({ code: error ? error.code : 0, details: error ? error.details : '' }));
  });
}

export function grpcStatusCall(client: Client, model: string): Promise<GrpcReply> {
  const method = modelServiceDefinition.getModelStatus;
  return new Promise((resolve) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, create(GetModelStatusRequestSchema, { modelSpec: { name: model } }),
      new Metadata(), {}, (error: ServiceError | null) => resolve({ code: error ? error.code : 0, details: error ? error.details : '' }));
  });
}

export interface ProbeResult {
  readonly answered: number;
  readonly failed: number;
  /** Why probes failed (the first few). */
  readonly failures: string[];
  /** Latencies in ms, in order. */
  readonly latencies: number[];
}

/** Probes one at a time until `until` settles; a probe resolves true, or why it failed. */
export async function probeWhile(until: Promise<unknown>, probe: () => Promise<true | string>): Promise<ProbeResult> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  const failures: string[] = [];
  let answered = 0;
  let failed = 0;
  while (!done) {
    const started = performance.now();
    const ok = await probe().catch((error: unknown) => String(error));
    latencies.push(performance.now() - started);
    if (ok === true) answered++;
    else {
      failed++;
      if (failures.length < 5) failures.push(ok);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { answered, failed, failures, latencies };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
