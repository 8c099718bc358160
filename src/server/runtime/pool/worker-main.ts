/** An inference worker: loads one model on tfjs and runs the requests the pool sends it. */
import { parentPort, workerData } from 'node:worker_threads';
import { toServingError } from '../../errors.js';
import { TfjsEngine } from '../tfjs/tfjs-engine.js';
import type { FromWorker, RunResult, ToWorker, WorkerConfig } from './messages.js';

const port = parentPort!;
const config = workerData as WorkerConfig;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** Output buffers go back by transfer: the worker does not need them any more. */
function transferables(results: readonly RunResult[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const result of results) {
    if (!('outputs' in result)) continue;
    for (const [, tensor] of result.outputs) {
      const data = tensor.data;
      if (!Array.isArray(data) && data.buffer instanceof ArrayBuffer) buffers.add(data.buffer);
    }
  }
  return [...buffers];
}

/** Results of one event-loop iteration go back in one message. */
let outbox: RunResult[] = [];
function reply(result: RunResult): void {
  if (outbox.length === 0) {
    setImmediate(() => {
      const results = outbox;
      outbox = [];
      send({ type: 'results', results }, transferables(results));
    });
  }
  outbox.push(result);
}

let faultReported = false;

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
    for (const run of message.runs) {
      // A trap leaves the wasm heap untrusted: nothing more runs here (synchronous runs of this
      // batch would otherwise start on it); the pool sends the rest elsewhere.
      if (engine.fault) {
        reply({ id: run.id, retry: true });
        continue;
      }
      engine.run({ signature: run.signature, inputs: new Map(run.inputs), outputFilter: run.outputFilter }).then(
        (outputs) => reply({ id: run.id, outputs: [...outputs] }),
        (error: unknown) => {
          const fault = engine.fault;
          if (fault && error !== fault) reply({ id: run.id, retry: true });
          else reply({ id: run.id, error: toServingError(error).toJSON() });
          if (fault && !faultReported) {
            faultReported = true;
            send({ type: 'fault', trap: fault.trap });
          }
        },
      );
    }
  });
  send({ type: 'ready', signatures: [...engine.signatures], stateful: engine.stateful, inputChecks: engine.inputChecks });
}

void main();
