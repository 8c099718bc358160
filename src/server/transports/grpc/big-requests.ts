/**
 * The gRPC requests whose messages can be big (Predict, ModelInfer) reach the server as raw bytes
 * and are decoded and converted to tensors here, on the event loop or in a worker thread
 * (offload.ts): the same function on either side, so answers and errors are identical. What a
 * handler gets is the request without its tensor fields, for the model name and metrics labels,
 * and the converted tensors, or the error the conversion gave (thrown by the handler in the
 * order the inline code always threw: after the ModelSpec checks).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { type ModelInferRequest, ModelInferRequestSchema } from '../../../gen/inference/grpc_service_pb.js';
import { type PredictRequest, PredictRequestSchema } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import { type InferRequest } from '../../api/oip/infer.js';
import { hostTensorFromProto } from '../../api/tensor-proto.js';
import { type ServingError, invalidArgument, toServingError } from '../../errors.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { MalformedRequest, type Received } from './codec.js';
import { inferRequestOf } from './inference-requests.js';

/** A Predict request: `request.inputs` is emptied, `inputs` holds them converted. */
export interface ConvertedPredict {
  readonly request: PredictRequest;
  readonly inputs: ReadonlyMap<string, HostTensor> | ServingError;
}

/** A ModelInfer request: `inputs` and `rawInputContents` are emptied, `infer` holds them converted. */
export interface ConvertedInfer {
  readonly request: ModelInferRequest;
  readonly infer: InferRequest | ServingError;
}

export interface ConvertedRequests {
  readonly predict: ConvertedPredict;
  readonly modelInfer: ConvertedInfer;
}

export type BigRequestMethod = keyof ConvertedRequests;

export function convertRequest<M extends BigRequestMethod>(method: M, bytes: Uint8Array): Received<ConvertedRequests[M]> {
  return (method === 'predict' ? convertPredict(bytes) : convertInfer(bytes)) as Received<ConvertedRequests[M]>;
}

function convertPredict(bytes: Uint8Array): Received<ConvertedPredict> {
  let request: PredictRequest;
  try {
    request = fromBinary(PredictRequestSchema, bytes);
  } catch (error) {
    return malformed(PredictRequestSchema.typeName, error);
  }
  const protos = request.inputs;
  request.inputs = {};
  try {
    const inputs = new Map<string, HostTensor>();
    for (const alias in protos) inputs.set(alias, hostTensorFromProto(protos[alias]!, alias));
    return { request, inputs };
  } catch (error) {
    return { request, inputs: toServingError(error) };
  }
}

function convertInfer(bytes: Uint8Array): Received<ConvertedInfer> {
  let request: ModelInferRequest;
  try {
    request = fromBinary(ModelInferRequestSchema, bytes);
  } catch (error) {
    return malformed(ModelInferRequestSchema.typeName, error);
  }
  let infer: InferRequest | ServingError;
  try {
    infer = inferRequestOf(request);
  } catch (error) {
    infer = toServingError(error);
  }
  request.inputs = [];
  request.rawInputContents = [];
  return { request, infer };
}

/** codec.ts's text for a message that does not parse. */
function malformed(typeName: string, error: unknown): MalformedRequest {
  return new MalformedRequest(invalidArgument(`Could not parse the request as ${typeName}: ${(error as Error).message}`));
}
