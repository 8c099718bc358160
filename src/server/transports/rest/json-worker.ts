/**
 * A JSON worker thread's entry (json-workers.ts starts it): runs the REST server's big JSON work
 * and the gRPC server's big Predict and ModelInfer messages off its event loop, one message at a
 * time, and answers each with its result or its error as plain data.
 */
import { parentPort } from 'node:worker_threads';
import { toServingError } from '../../errors.js';
import type { FromJsonWorker, PlainError, ToJsonWorker } from './json-messages.js';
import { fromWire, toWire } from './json-wire.js';
import { decodePredictBody } from './predict-body.js';
import { predictResponseJson } from './tensor-json.js';
import { toWireConverted } from '../grpc/big-request-wire.js';
import { convertRequest } from '../grpc/big-requests.js';
import { encodeWirePredictResult } from '../grpc/big-responses.js';

const port = parentPort!;

port.on('message', (message: ToJsonWorker) => {
  const transfer: ArrayBuffer[] = [];
  let reply: FromJsonWorker;
  try {
    reply = replyTo(message, transfer);
  } catch (error) {
    transfer.length = 0;
    reply = { id: message.id, error: plainError(error) };
  }
  port.postMessage(reply, transfer);
});

function replyTo(message: ToJsonWorker, transfer: ArrayBuffer[]): FromJsonWorker {
  switch (message.kind) {
    case 'predict-body': return decodeReply(message.id, message.body, message.signatures, transfer);
    case 'predict-response': return { id: message.id, json: predictResponseJson(fromWire(message.outputs), message.format) };
    case 'grpc-request': return { id: message.id, converted: toWireConverted(convertRequest(message.method, message.bytes), transfer) };
    case 'grpc-predict-response': {
      const built = encodeWirePredictResult(message.result);
      const encoded = built.byteOffset === 0 && built.byteLength === built.buffer.byteLength ? built : built.slice();
      transfer.push(encoded.buffer as ArrayBuffer);
      return { id: message.id, encoded };
    }
  }
}

function decodeReply(id: number, body: Uint8Array, signatures: Parameters<typeof decodePredictBody>[1], transfer: ArrayBuffer[]): FromJsonWorker {
  const decoded = decodePredictBody(body, signatures);
  const { signatureName, tensors, error } = decoded;
  return {
    id,
    decoded: {
      signatureName,
      ...(tensors ? { format: tensors.format, inputs: toWire(tensors.inputs, transfer) } : {}),
      ...(error ? { error: plainError(error) } : {}),
    },
  };
}

function plainError(error: unknown): PlainError {
  const serving = toServingError(error);
  return { code: serving.code, message: serving.message };
}
