/** An inference worker: loads one model on tfjs and runs the requests the pool sends it. */
import { parentPort, workerData } from 'node:worker_threads';
import { toServingError } from '../../errors.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { TfjsEngine } from '../tfjs/tfjs-engine.js';
import type { FromWorker, ToWorker, WorkerConfig } from './messages.js';

const port = parentPort!;
const config = workerData as WorkerConfig;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** Output buffers go back by transfer: the worker does not need them any more. */
function transferables(outputs: Array<[string, HostTensor]>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const [, tensor] of outputs) {
    const data = tensor.data;
    if (!Array.isArray(data) && data.buffer instanceof ArrayBuffer) buffers.add(data.buffer);
  }
  return [...buffers];
}

async function main(): Promise<void> {
  let engine: TfjsEngine;
  try {
    engine = await TfjsEngine.load(config.exportDir, { tags: config.tags, backend: config.backend });
  } catch (error) {
    send({ type: 'load-failed', error: toServingError(error).toJSON() });
    return;
  }
  port.on('message', (message: ToWorker) => {
    if (message.type === 'dispose') {
      void engine.dispose().finally(() => port.close());
      return;
    }
    engine.run({ signature: message.signature, inputs: new Map(message.inputs), outputFilter: message.outputFilter }).then(
      (outputs) => {
        const entries = [...outputs];
        send({ type: 'result', id: message.id, outputs: entries }, transferables(entries));
      },
      (error: unknown) => send({ type: 'failed', id: message.id, error: toServingError(error).toJSON() }),
    );
  });
  send({ type: 'ready', signatures: [...engine.signatures], stateful: engine.stateful });
}

void main();
