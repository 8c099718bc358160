/**
 * PredictionService/Predict as a grpc-js method definition with protobuf-es codecs (the same
 * generated schemas as tfmodel-server), shared by the bare gRPC baseline and the load generator.
 * The load generator sends one pre-encoded request (a Buffer) and decodes answers only to check
 * them, so that it spends as little of the machine's two cores as it can.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { MethodDefinition } from '@grpc/grpc-js';
import { DataType } from '../../src/gen/tensorflow/core/framework/types_pb.js';
import { type PredictRequest, PredictRequestSchema, type PredictResponse, PredictResponseSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';

export const PREDICT_PATH = '/tensorflow.serving.PredictionService/Predict';

/** Both directions as raw bytes: the client pre-encodes, and decodes only when it checks. */
export const rawPredictMethod: MethodDefinition<Buffer, Buffer> = {
  path: PREDICT_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (bytes: Buffer) => bytes,
};

/** Decoded requests, encoded responses: what a minimal protobuf gRPC server does per call. */
export const decodedPredictMethod: MethodDefinition<PredictRequest, PredictResponse> = {
  path: PREDICT_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: PredictRequest) => Buffer.from(toBinary(PredictRequestSchema, value)),
  requestDeserialize: (bytes: Buffer) => fromBinary(PredictRequestSchema, bytes),
  responseSerialize: (value: PredictResponse) => Buffer.from(toBinary(PredictResponseSchema, value)),
  responseDeserialize: (bytes: Buffer) => fromBinary(PredictResponseSchema, bytes),
};

/** half_plus_two's serving_default: x float32 [1, 1]. */
export function encodePredictRequest(modelName: string, value: number): Buffer {
  const request = create(PredictRequestSchema, {
    modelSpec: { name: modelName, signatureName: 'serving_default' },
    inputs: {
      x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [value] },
    },
  });
  return Buffer.from(toBinary(PredictRequestSchema, request));
}

/** The first float of the first output of an encoded PredictResponse (undefined if none). */
export function firstOutputValue(bytes: Uint8Array): number | undefined {
  const response = fromBinary(PredictResponseSchema, bytes);
  const first = Object.values(response.outputs)[0];
  if (!first) return undefined;
  if (first.floatVal.length > 0) return first.floatVal[0];
  if (first.tensorContent.byteLength >= 4) {
    return new DataView(first.tensorContent.buffer, first.tensorContent.byteOffset, first.tensorContent.byteLength).getFloat32(0, true);
  }
  return undefined;
}
