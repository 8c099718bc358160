/**
 * What tracing, payload logging and the OIP REST and gRPC codecs add to a request, in CPU microseconds
 * (process.cpuUsage: every thread of this process, so file writes and OTLP exports count), run
 * in-process on the serving stack's own functions. On a shared machine throughput ratios swing
 * with other load; CPU per call does not, and with the server's CPU per request measured in the
 * same run it says what the ratio is when the server is CPU-bound: base / (base + added).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { context } from '@opentelemetry/api';
import { ModelInferRequestSchema, ModelInferResponseSchema } from '../../src/gen/inference/grpc_service_pb.js';
import { PredictRequestSchema, PredictResponseSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { LoggingConfigSchema } from '../../src/gen/tensorflow_serving/config/logging_config_pb.js';
import { Code, ServingError } from '../../src/server/errors.js';
import { DEFAULT_PAYLOAD_LOG_LIMITS, PayloadLog } from '../../src/server/payload-log/payload-logger.js';
import type { TensorSpec } from '../../src/server/runtime/savedmodel/signatures.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';
import { startTracing } from '../../src/server/tracing/start-tracing.js';
import { endRequestSpan, startRequestSpan, withChildSpan } from '../../src/server/tracing/tracing.js';
import { convertRequest } from '../../src/server/transports/grpc/big-requests.js';
import { inferResponseOf } from '../../src/server/transports/grpc/inference-requests.js';
import { predictInputOf } from '../../src/server/transports/grpc/requests.js';
import { predictResponse } from '../../src/server/transports/grpc/responses.js';
import { parseBody } from '../../src/server/transports/rest/json-parse.js';
import { tensorsFromJson } from '../../src/server/transports/rest/json-tensor.js';
import { parseInferRequest } from '../../src/server/transports/rest/oip/infer-request.js';
import { inferResponse } from '../../src/server/transports/rest/oip/infer-response.js';
import { predictResponseJson } from '../../src/server/transports/rest/tensor-json.js';
import { median } from '../server/stats.js';

export interface CostWorkload {
  readonly key: string;
  readonly alias: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
  /** The model's output (half_plus_two: [1]; ResNet50: [1, 1000]). */
  readonly outputShape: readonly number[];
  readonly tfBody: string;
  readonly oipBody: string;
  /** Calls per measurement (fewer for large tensors). */
  readonly calls: number;
}

export interface CallCost {
  readonly what: string;
  /** Median CPU µs per request with the feature, without it, and the difference. */
  readonly withMicros: number;
  readonly withoutMicros: number;
  readonly addedMicros: number;
}

const REPEATS = 5;

/** CPU µs per call of `run(calls)`, median of REPEATS measurements after a warm-up. */
async function cpuPerCall(calls: number, run: (calls: number) => Promise<void> | void): Promise<number> {
  await run(Math.max(10, Math.ceil(calls / 5)));
  const samples: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const before = process.cpuUsage();
    await run(calls);
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / calls);
  }
  return median(samples);
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const HEADER_GETTER = { get: (h: Record<string, string>, k: string) => h[k], keys: (h: Record<string, string>) => Object.keys(h) };

/** A request's tracing calls as the REST transport and predict() make them; every 16th call yields (I/O turns). */
async function tracedRequests(calls: number): Promise<void> {
  const headers = { host: '127.0.0.1', 'content-type': 'application/json' };
  for (let i = 0; i < calls; i++) {
    const traced = startRequestSpan('REST predict', headers, HEADER_GETTER, () => ({ 'http.request.method': 'POST', 'url.path': '/v1/models/m:predict', 'tfmodel.model': 'm' }));
    const inference = (): Promise<number> => withChildSpan('inference', () => ({ 'tfmodel.model': 'm', 'tfmodel.version': '1', 'tfmodel.signature': 'serving_default' }), () => Promise.resolve(i));
    await (traced ? context.with(traced.context, inference) : inference());
    if (traced) endRequestSpan(traced, Code.OK, { 'http.response.status_code': '200', 'tfmodel.signature': 'serving_default' });
    if (i % 16 === 15) await yieldToLoop();
  }
}

/** Tracing at `rate` (OTLP/HTTP protobuf to a local sink, as the throughput bench) against tracing off. */
export async function tracingCost(rate: number, calls = 10_000): Promise<CallCost> {
  const without = await cpuPerCall(calls, tracedRequests);
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const tracing = startTracing({ endpoint: `http://127.0.0.1:${(sink.address() as { port: number }).port}`, protocol: 'http/protobuf', samplingRate: rate, serviceName: 'bench-costs' });
  try {
    const withTracing = await cpuPerCall(calls, async (n) => {
      await tracedRequests(n);
      await tracing.forceFlush();
    });
    return { what: `tracing at ${rate * 100}% (request + inference spans, OTLP/HTTP export)`, withMicros: withTracing, withoutMicros: without, addedMicros: withTracing - without };
  } finally {
    await tracing.shutdown();
    sink.close();
  }
}

/** Payload logging at `rate` of a predict call with the workload's input and output. */
export async function payloadLogCost(w: CostWorkload, rate: number): Promise<CallCost> {
  const dir = mkdtempSync(join(tmpdir(), 'tfmodel-bench-costs-'));
  const config = create(LoggingConfigSchema, { samplingConfig: { samplingRate: rate }, logCollectorConfig: { type: 'tfrecord', filenamePrefix: join(dir, 'requests') } });
  const log = new PayloadLog(w.key, config, DEFAULT_PAYLOAD_LOG_LIMITS, [], undefined);
  const inputs = new Map<string, HostTensor>([[w.alias, { dtype: DataType.DT_FLOAT, shape: w.shape, data: w.values }]]);
  const outputs = new Map<string, HostTensor>([['y', outputOf(w)]]);
  const call = { model: w.key, version: 1n, signatureName: 'serving_default' };
  const requests = async (calls: number, logged: boolean): Promise<void> => {
    for (let i = 0; i < calls; i++) {
      if (logged && log.sample()) log.writePredict(call, inputs, undefined, outputs);
      if (i % 16 === 15) await yieldToLoop();
    }
    await yieldToLoop();
    if (logged) await log.flush();
  };
  try {
    const without = await cpuPerCall(w.calls, (n) => requests(n, false));
    const withLog = await cpuPerCall(w.calls, (n) => requests(n, true));
    return { what: `${w.key} payload logging at ${rate * 100}% (TFRecord)`, withMicros: withLog, withoutMicros: without, addedMicros: withLog - without };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function outputOf(w: CostWorkload): HostTensor {
  const count = w.outputShape.reduce((a, b) => a * b, 1);
  return { dtype: DataType.DT_FLOAT, shape: w.outputShape, data: Float32Array.from({ length: count }, (_, i) => i / 3 + 0.5) };
}

/** The OIP REST codec (parse the body, write the answer) against TF Serving's REST codec. */
export async function restCodecCost(w: CostWorkload): Promise<CallCost> {
  const outputs = new Map<string, HostTensor>([['y', outputOf(w)]]);
  const result = { modelName: w.key, modelVersion: '1', signatureName: 'serving_default', outputs: [{ name: 'y', datatype: 'FP32' as const, tensor: outputs.get('y')! }] };
  const spec: TensorSpec[] = [{ alias: w.alias, tensorName: `${w.alias}:0`, dtype: DataType.DT_FLOAT, shape: [-1, ...w.shape.slice(1)] } as TensorSpec];
  const oipBody = Buffer.from(w.oipBody);
  const tf = await cpuPerCall(w.calls, (n) => {
    for (let i = 0; i < n; i++) predictResponseJson(outputs, tensorsFromJson(parseBody(w.tfBody, false).doc, spec, '', w.tfBody.length).format);
  });
  const oip = await cpuPerCall(w.calls, (n) => {
    for (let i = 0; i < n; i++) inferResponse(result, parseInferRequest(w.key, '', oipBody, undefined));
  });
  return { what: `${w.key} REST codec: OIP (/v2 infer JSON) vs TF Serving (:predict instances)`, withMicros: oip, withoutMicros: tf, addedMicros: oip - tf };
}

const bytesOf = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/**
 * The OIP gRPC codec (decode ModelInfer with raw_input_contents, convert, build and encode the
 * response with raw_output_contents) against TF Serving's Predict codec (decode with
 * tensor_content, convert, build and encode the response with float_val, TF Serving's default):
 * the functions the server runs (big-requests.ts; in a worker from --grpc_offload_bytes on, the
 * same work).
 */
export async function grpcCodecCost(w: CostWorkload): Promise<CallCost> {
  const output = outputOf(w);
  const predictBytes = toBinary(PredictRequestSchema, create(PredictRequestSchema, {
    modelSpec: { name: w.key },
    inputs: { [w.alias]: { dtype: DataType.DT_FLOAT, tensorShape: { dim: w.shape.map((size) => ({ size: BigInt(size), name: '' })) }, tensorContent: bytesOf(w.values) } },
  }));
  const inferBytes = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, {
    modelName: w.key,
    inputs: [{ name: w.alias, datatype: 'FP32', shape: w.shape.map(BigInt) }],
    rawInputContents: [bytesOf(w.values)],
  }));
  const spec = { name: w.key, version: 1n, signatureName: 'serving_default' };
  const tf = await cpuPerCall(w.calls, (n) => {
    for (let i = 0; i < n; i++) {
      const converted = convertRequest('predict', predictBytes);
      if (!('request' in converted)) throw converted.error;
      predictInputOf(converted);
      toBinary(PredictResponseSchema, predictResponse({ modelSpec: spec, outputs: new Map([['y', output]]) }));
    }
  });
  const oip = await cpuPerCall(w.calls, (n) => {
    for (let i = 0; i < n; i++) {
      const converted = convertRequest('modelInfer', inferBytes);
      if (!('request' in converted)) throw converted.error;
      if (converted.infer instanceof ServingError) throw converted.infer;
      const result = { modelName: w.key, modelVersion: '1', signatureName: 'serving_default', outputs: [{ name: 'y', datatype: 'FP32' as const, tensor: output }] };
      toBinary(ModelInferResponseSchema, inferResponseOf(result, converted.request.id));
    }
  });
  return { what: `${w.key} gRPC codec: OIP (ModelInfer, raw contents) vs TF Serving (Predict, tensor_content in, float_val out)`, withMicros: oip, withoutMicros: tf, addedMicros: oip - tf };
}
