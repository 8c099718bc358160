/**
 * Big gRPC messages are decoded, converted and encoded in worker threads (issue 7 item 7). The
 * worker path must be the inline path moved, nothing else: on a table of Predict and ModelInfer
 * messages (good ones of every dtype, by typed fields and by tensor_content/raw contents, fills,
 * every conversion error, bytes that do not parse, hostile shapes) both give the same request and
 * tensors or the same error code and text; a Predict response encoded in a worker is byte for byte
 * the inline one; and a gRPC server converting everything in workers answers every call as one
 * that converts on the event loop.
 */
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ModelInferRequestSchema } from '../../../gen/inference/grpc_service_pb.js';
import { PredictRequestSchema, PredictResponseSchema } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import type { PredictResult } from '../../api/predict.js';
import { Code, ServingError } from '../../errors.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { JsonWorkers } from '../rest/json-workers.js';
import { type BigRequestMethod, convertRequest } from './big-requests.js';
import { EncodedMessage, MalformedRequest, type Received } from './codec.js';
import { GrpcOffload } from './offload.js';
import { predictResponse } from './responses.js';
import { inferenceServiceDefinition, predictionServiceDefinition } from './service-definitions.js';
import { MODEL, type Running, startFakeServer } from './test-support.js';

const dims = (...sizes: Array<number | bigint>): { dim: Array<{ size: bigint }> } => ({ dim: sizes.map((s) => ({ size: BigInt(s) })) });
const f32 = (...values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

function predict(inputs: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): Buffer {
  const request = create(PredictRequestSchema, { modelSpec: { name: MODEL }, inputs: inputs as never, ...extra });
  return Buffer.from(toBinary(PredictRequestSchema, request));
}

function infer(fields: Record<string, unknown>): Buffer {
  return Buffer.from(toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, { modelName: MODEL, ...fields } as never)));
}

const fp32Input = (name: string, shape: number[], values?: number[]): Record<string, unknown> =>
  ({ name, datatype: 'FP32', shape: shape.map(BigInt), ...(values ? { contents: { fp32Contents: values } } : {}) });

const GOOD = predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(3), floatVal: [1, 2.5, -3] } });

/** [what, method, bytes] */
const CASES: Array<[string, BigRequestMethod, Buffer]> = [
  ['float typed values', 'predict', GOOD],
  ['float tensor_content', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(2, 2), tensorContent: f32(1, 2, 3, 4) } })],
  ['double, int32, int64, uint64, bool', 'predict', predict({
    d: { dtype: DataType.DT_DOUBLE, tensorShape: dims(2), doubleVal: [1e300, -0] },
    i: { dtype: DataType.DT_INT32, tensorShape: dims(2), intVal: [-7, 2147483647] },
    l: { dtype: DataType.DT_INT64, tensorShape: dims(1), int64Val: [-9223372036854775808n] },
    u: { dtype: DataType.DT_UINT64, tensorShape: dims(1), uint64Val: [18446744073709551615n] },
    b: { dtype: DataType.DT_BOOL, tensorShape: dims(3), boolVal: [true, false, true] },
  })],
  ['strings with invalid UTF-8 and emoji', 'predict', predict({ s: { dtype: DataType.DT_STRING, tensorShape: dims(3), stringVal: [Buffer.from([0xff, 0xfe]), Buffer.from('😀'), Buffer.alloc(0)] } })],
  ['half and complex', 'predict', predict({
    h: { dtype: DataType.DT_HALF, tensorShape: dims(2), halfVal: [15360, 49152] },
    c: { dtype: DataType.DT_COMPLEX64, tensorShape: dims(1), scomplexVal: [1, -1] },
  })],
  ['filled from one value', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(2, 3), floatVal: [0.5] } })],
  ['scalar, no values', 'predict', predict({ x: { dtype: DataType.DT_INT32, tensorShape: dims() } })],
  ['no inputs, output filter, version label', 'predict', predict({}, { outputFilter: ['y', 'z'], modelSpec: { name: MODEL, signatureName: 'sig', versionChoice: { case: 'versionLabel', value: 'stable' } } })],
  ['no model spec', 'predict', Buffer.from(toBinary(PredictRequestSchema, create(PredictRequestSchema, { inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: dims(1), floatVal: [1] } } })))],
  ['100k strings', 'predict', predict({ s: { dtype: DataType.DT_STRING, tensorShape: dims(100_000, 1), stringVal: new Array<Uint8Array>(100_000).fill(Buffer.from('a dog')) } })],
  ['256k floats', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(262_144), floatVal: Array.from({ length: 262_144 }, (_, i) => i / 7) } })],
  // conversion errors
  ['tensor_content of the wrong length', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(3), tensorContent: f32(1, 2) } })],
  ['more values than elements', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(2), floatVal: [1, 2, 3] } })],
  ['unknown rank', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: { unknownRank: true }, floatVal: [1] } })],
  ['unknown dimension', 'predict', predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(-1), floatVal: [1] } })],
  ['unsupported dtype (DT_VARIANT)', 'predict', predict({ x: { dtype: 21, tensorShape: dims(1) } })],
  ['no dtype', 'predict', predict({ x: { tensorShape: dims(1), floatVal: [1] } })],
  ['a fill of 2^31 int64s', 'predict', predict({ x: { dtype: DataType.DT_INT64, tensorShape: dims(2 ** 31), int64Val: [1n] } })],
  ['the second input bad', 'predict', predict({ a: { dtype: DataType.DT_FLOAT, tensorShape: dims(1), floatVal: [1] }, b: { dtype: DataType.DT_FLOAT, tensorShape: dims(1), tensorContent: f32(1, 2) } })],
  // bytes that do not parse
  ['random bytes', 'predict', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])],
  ['truncated', 'predict', GOOD.subarray(0, GOOD.length - 3)],
  ['wrong wire type', 'predict', Buffer.from([0x0d, 1, 2, 3, 4, 0x0a, 0x05])],
  ['length past the end', 'predict', Buffer.from([0x12, 0x7f, 0x0a])],
  ['empty message', 'predict', Buffer.alloc(0)],
  // ModelInfer
  ['infer contents', 'modelInfer', infer({ id: 'r1', inputs: [fp32Input('x', [3], [1, 2, 3])], outputs: [{ name: 'y' }] })],
  ['infer raw contents', 'modelInfer', infer({ modelVersion: 'stable', inputs: [fp32Input('x', [2])], rawInputContents: [f32(4, 5)] })],
  ['infer BYTES and signature_name', 'modelInfer', infer({
    inputs: [{ name: 's', datatype: 'BYTES', shape: [2n], contents: { bytesContents: [Buffer.from('a'), Buffer.from([0xc0])] } }],
    parameters: { signature_name: { parameterChoice: { case: 'stringParam', value: 'sig' } } },
  })],
  ['infer raw count mismatch', 'modelInfer', infer({ inputs: [fp32Input('x', [1])], rawInputContents: [f32(1), f32(2)] })],
  ['infer contents count mismatch', 'modelInfer', infer({ inputs: [fp32Input('x', [4], [1, 2])] })],
  ['infer raw length mismatch', 'modelInfer', infer({ inputs: [fp32Input('x', [3])], rawInputContents: [f32(1)] })],
  ['infer unknown datatype', 'modelInfer', infer({ inputs: [{ name: 'x', datatype: 'FP8', shape: [1n] }] })],
  ['infer negative dimension', 'modelInfer', infer({ inputs: [fp32Input('x', [-2], [1])] })],
  ['infer FP16 contents', 'modelInfer', infer({ inputs: [{ name: 'h', datatype: 'FP16', shape: [1n], contents: { fp32Contents: [1] } }] })],
  ['infer the same input twice', 'modelInfer', infer({ inputs: [fp32Input('x', [1], [1]), fp32Input('x', [1], [2])] })],
  ['infer signature_name not a string', 'modelInfer', infer({ inputs: [fp32Input('x', [1], [1])], parameters: { signature_name: { parameterChoice: { case: 'int64Param', value: 3n } } } })],
  ['infer random bytes', 'modelInfer', Buffer.from([0x0a, 0xff, 0xff, 0xff])],
];

/** Tensors as plain data: typed arrays keep their type; strings as hex. */
function plainTensors(tensors: ReadonlyMap<string, HostTensor>): unknown {
  return [...tensors].map(([name, t]) => ({
    name, dtype: t.dtype, shape: [...t.shape],
    data: Array.isArray(t.data) ? t.data.map((s) => Buffer.from(s).toString('hex')) : { type: t.data.constructor.name, values: Array.from(t.data as ArrayLike<number | bigint>) },
  }));
}

const plainError = (error: ServingError): unknown => ({ error: Code[error.code], message: error.message });

function plain(received: Received<unknown>): unknown {
  if (received instanceof MalformedRequest) return { malformed: plainError(received.error) };
  const converted = received as { request: unknown; inputs?: ReadonlyMap<string, HostTensor> | ServingError; infer?: { inputs: ReadonlyMap<string, HostTensor> } | ServingError };
  if (converted.inputs !== undefined) {
    return { request: converted.request, inputs: converted.inputs instanceof ServingError ? plainError(converted.inputs) : plainTensors(converted.inputs) };
  }
  const inferred = converted.infer!;
  return { request: converted.request, infer: inferred instanceof ServingError ? plainError(inferred) : { ...inferred, inputs: plainTensors(inferred.inputs) } };
}

describe('gRPC big messages: inline and in a worker alike (issue 7 item 7)', function () {
  this.timeout(120_000);
  let workers: JsonWorkers;
  before(() => {
    workers = new JsonWorkers(1);
  });
  after(() => workers.close());

  it('converts every request of the table to the same request and tensors, or the same error', async () => {
    const outcomes: string[] = [];
    for (const [what, method, bytes] of CASES) {
      const inline = plain(convertRequest(method, Buffer.from(bytes)));
      const pooled = plain(await workers.grpcRequest(method, Buffer.from(bytes)));
      assert.deepEqual(pooled, inline, what);
      const outcome = inline as { malformed?: { error: string }; inputs?: { error?: string }; infer?: { error?: string } };
      outcomes.push(outcome.malformed ? `malformed ${outcome.malformed.error}` : (outcome.inputs ?? outcome.infer) && 'error' in (outcome.inputs ?? outcome.infer)! ? (outcome.inputs ?? outcome.infer)!.error! : 'ok');
    }
    // The table covers what it says: every kind of outcome, each where it is expected.
    assert.deepEqual(outcomes, [
      'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok',
      'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'UNIMPLEMENTED', 'UNIMPLEMENTED', 'RESOURCE_EXHAUSTED', 'INVALID_ARGUMENT',
      'malformed INVALID_ARGUMENT', 'malformed INVALID_ARGUMENT', 'malformed INVALID_ARGUMENT', 'malformed INVALID_ARGUMENT', 'ok',
      'ok', 'ok', 'ok', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT',
      'malformed INVALID_ARGUMENT',
    ]);
  });

  it('encodes a Predict response in a worker byte for byte as inline, typed fields or tensor_content', async () => {
    const results: PredictResult[] = [
      { modelSpec: { name: 'm', version: 7n, signatureName: 'serving_default' }, outputs: new Map([['y', { dtype: DataType.DT_FLOAT, shape: [2, 2], data: Float32Array.from([1, NaN, -0, 1e-45]) }]]) },
      {
        modelSpec: { name: 'm', version: 1n, signatureName: 'sig' },
        outputs: new Map<string, HostTensor>([
          ['s', { dtype: DataType.DT_STRING, shape: [3], data: [Buffer.from('a'), Buffer.from([0xff]), new Uint8Array(0)] }],
          ['l', { dtype: DataType.DT_INT64, shape: [1], data: BigInt64Array.from([-5n]) }],
          ['b', { dtype: DataType.DT_BOOL, shape: [2], data: Uint8Array.from([1, 0]) }],
        ]),
      },
      { modelSpec: { name: 'm', version: 2n, signatureName: '' }, outputs: new Map([['y', { dtype: DataType.DT_FLOAT, shape: [262_144], data: Float32Array.from({ length: 262_144 }, (_, i) => i / 3) }]]) },
    ];
    for (const result of results) {
      for (const asTensorContent of [false, true]) {
        const want = Buffer.from(toBinary(PredictResponseSchema, predictResponse(result, asTensorContent)));
        const got = Buffer.from(await workers.grpcPredictResponse(result, asTensorContent));
        assert.ok(got.equals(want), `${[...result.outputs.keys()].join(',')} tensor_content=${asTensorContent}`);
      }
    }
  });

  it('answers from a worker only at or above the threshold', async () => {
    const offload = new GrpcOffload({ workers, minBytes: 1000 });
    const small: PredictResult = { modelSpec: { name: 'm', version: 7n, signatureName: '' }, outputs: new Map([['y', { dtype: DataType.DT_FLOAT, shape: [2], data: Float32Array.from([1, 2]) }]]) };
    const big: PredictResult = { ...small, outputs: new Map([['y', { dtype: DataType.DT_FLOAT, shape: [250], data: new Float32Array(250) }]]) };
    assert.ok(!((await offload.predictResponse(small, false)) instanceof EncodedMessage));
    const encoded = await offload.predictResponse(big, false);
    assert.ok(encoded instanceof EncodedMessage);
    assert.ok(encoded.bytes.equals(Buffer.from(toBinary(PredictResponseSchema, predictResponse(big, false)))));
  });
});

describe('a gRPC server with big messages in workers answers as one without (issue 7 item 7)', function () {
  this.timeout(120_000);
  let inline: Running;
  let pooled: Running;
  let workers: JsonWorkers;

  before(async () => {
    workers = new JsonWorkers(1);
    inline = await startFakeServer();
    pooled = await startFakeServer({ offload: new GrpcOffload({ workers, minBytes: 0 }) });
  });
  after(async () => {
    await inline.stop();
    await pooled.stop();
    await workers.close();
  });

  const call = (running: Running, path: string, bytes: Buffer): Promise<{ code: number; details: string; response: string }> =>
    new Promise((resolve) => {
      const same = (b: Buffer): Buffer => b;
      running.client.makeUnaryRequest(path, same, same, bytes, new Metadata(), {}, (error: ServiceError | null, response?: Buffer) =>
        resolve({ code: error?.code ?? 0, details: error?.details ?? '', response: response ? response.toString('hex') : '' }));
    });

  it('answers the same code, message and response bytes to every call', async () => {
    const predictPath = predictionServiceDefinition.predict.path;
    const inferPath = inferenceServiceDefinition.modelInfer.path;
    const calls: Array<[string, Buffer]> = [
      ...CASES.map(([, method, bytes]): [string, Buffer] => [method === 'predict' ? predictPath : inferPath, bytes]),
      [predictPath, predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(200_000), floatVal: Array.from({ length: 200_000 }, (_, i) => i) } })],
      [predictPath, predict({ x: { dtype: DataType.DT_FLOAT, tensorShape: dims(2), floatVal: [1, 2] } }, { modelSpec: { name: 'missing' } })],
      [predictPath, predict({ x: { dtype: DataType.DT_STRING, tensorShape: dims(1), stringVal: [Buffer.from('a')] } })],
      [inferPath, infer({ inputs: [fp32Input('x', [100_000], Array.from({ length: 100_000 }, (_, i) => -i))] })],
    ];
    const codes: number[] = [];
    for (const [path, bytes] of calls) {
      const want = await call(inline, path, bytes);
      assert.deepEqual(await call(pooled, path, bytes), want, `${path} ${bytes.subarray(0, 24).toString('hex')}`);
      codes.push(want.code);
    }
    // Answered, not only alike: the big float Predict and the big ModelInfer succeed, unknown models are NOT_FOUND.
    assert.deepEqual(codes.slice(-4), [Code.OK, Code.NOT_FOUND, Code.INVALID_ARGUMENT, Code.OK]);
    assert.equal(codes[0], Code.OK);
    assert.ok(codes.includes(Code.RESOURCE_EXHAUSTED) && codes.includes(Code.UNIMPLEMENTED));
  });
});
