/**
 * A JSON worker thread's entry (json-workers.ts starts it): runs the REST server's big JSON work
 * off its event loop, one message at a time, and answers each with its result or its error as
 * plain data.
 */
import { parentPort } from 'node:worker_threads';
import { toServingError } from '../../errors.js';
import type { FromJsonWorker, PlainError, ToJsonWorker } from './json-messages.js';
import { fromWire, toWire } from './json-wire.js';
import { decodePredictBody } from './predict-body.js';
import { predictResponseJson } from './tensor-json.js';

const port = parentPort!;

port.on('message', (message: ToJsonWorker) => {
  const transfer: ArrayBuffer[] = [];
  let reply: FromJsonWorker;
  try {
    reply = message.kind === 'predict-body' ? decodeReply(message.id, message.body, message.signatures, transfer)
      : { id: message.id, json: predictResponseJson(fromWire(message.outputs), message.format) };
  } catch (error) {
    transfer.length = 0;
    reply = { id: message.id, error: plainError(error) };
  }
  port.postMessage(reply, transfer);
});

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
