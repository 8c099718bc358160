/**
 * Converted gRPC requests (big-requests.ts) across the worker boundary: the request without its
 * tensor fields travels as a structured copy (small: names, specs, parameters), the tensors as
 * their typed arrays, moved (json-wire.ts), and errors as plain data. Never the decoded message
 * itself: copying a decoded message's object graph costs the event loop as much as decoding it.
 */
import type { ModelInferRequest } from '../../../gen/inference/grpc_service_pb.js';
import type { PredictRequest } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import type { InferRequest } from '../../api/oip/infer.js';
import { ServingError, fromPlainError } from '../../errors.js';
import type { PlainError } from '../rest/json-messages.js';
import { type WireTensor, fromWire, toWire } from '../rest/json-wire.js';
import type { BigRequestMethod, ConvertedInfer, ConvertedPredict, ConvertedRequests } from './big-requests.js';
import { MalformedRequest, type Received } from './codec.js';

type WireInfer = Omit<InferRequest, 'inputs'> & { readonly inputs: readonly WireTensor[] };

export type WireConverted =
  | { readonly malformed: PlainError }
  | { readonly request: PredictRequest; readonly inputs: readonly WireTensor[] | PlainError }
  | { readonly request: ModelInferRequest; readonly infer: WireInfer | PlainError };

/** `transfer` collects the buffers to move (the converted tensors must not be used afterwards). */
export function toWireConverted(received: Received<ConvertedRequests[BigRequestMethod]>, transfer: ArrayBuffer[]): WireConverted {
  if (received instanceof MalformedRequest) return { malformed: received.error.toJSON() };
  if ('inputs' in received) {
    const { request, inputs } = received;
    return { request, inputs: inputs instanceof ServingError ? inputs.toJSON() : toWire(inputs, transfer) };
  }
  const { request, infer } = received;
  return { request, infer: infer instanceof ServingError ? infer.toJSON() : { ...infer, inputs: toWire(infer.inputs, transfer) } };
}

export function fromWireConverted<M extends BigRequestMethod>(wire: WireConverted): Received<ConvertedRequests[M]> {
  if ('malformed' in wire) return new MalformedRequest(fromPlainError(wire.malformed));
  if ('inputs' in wire) {
    const converted: ConvertedPredict = { request: wire.request, inputs: isPlainError(wire.inputs) ? fromPlainError(wire.inputs) : fromWire(wire.inputs) };
    return converted as ConvertedRequests[M];
  }
  const { infer } = wire;
  const converted: ConvertedInfer = { request: wire.request, infer: isPlainError(infer) ? fromPlainError(infer) : { ...infer, inputs: fromWire(infer.inputs) } };
  return converted as ConvertedRequests[M];
}

function isPlainError(value: object): value is PlainError {
  return !Array.isArray(value) && 'code' in value && 'message' in value && !('modelName' in value);
}
