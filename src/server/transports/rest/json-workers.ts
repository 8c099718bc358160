/**
 * A small pool of worker threads for the REST server's big JSON work (predict bodies parsed and
 * converted to tensors, predict responses written), so that the event loop, which answers
 * health probes and small requests, is never held by one big body for long. Started on first use;
 * each request goes to the worker with the fewest in hand. A worker that stops (a crash, an
 * out-of-memory kill) fails the requests it held with INTERNAL and is replaced on next use.
 */
import { Worker } from 'node:worker_threads';
import { Code, ServingError } from '../../errors.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import type { FromJsonWorker, PlainError, ToJsonWorker } from './json-messages.js';
import type { PredictFormat } from './json-tensor.js';
import { fromWire, toWire } from './json-wire.js';
import type { DecodedPredict, SignatureInputs } from './predict-body.js';

type Reply = FromJsonWorker;

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

class JsonWorker {
  readonly pending = new Map<number, Pending>();
  readonly thread: Worker;

  constructor(onStopped: (worker: JsonWorker, why: string) => void) {
    this.thread = new Worker(new URL('./json-worker.js', import.meta.url));
    this.thread.unref();
    this.thread.on('message', (reply: Reply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      pending?.resolve(reply);
    });
    this.thread.on('error', (error) => onStopped(this, error.message));
    this.thread.on('exit', (code) => onStopped(this, `exit code ${code}`));
  }
}

export class JsonWorkers {
  private readonly workers: JsonWorker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly threads: number) {}

  /** decodePredictBody in a worker; `body` is moved there (the caller must not use it again). */
  async decodePredict(body: Buffer, signatures: SignatureInputs | undefined): Promise<DecodedPredict> {
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    const bytes = owned ? body : new Uint8Array(body);
    const reply = await this.call((id) => ({ id, kind: 'predict-body', body: bytes, signatures }), [bytes.buffer as ArrayBuffer]);
    if (!('decoded' in reply)) throw unexpected(reply);
    const { signatureName, format, inputs, error } = reply.decoded;
    return {
      signatureName,
      ...(format !== undefined && inputs !== undefined ? { tensors: { format, inputs: fromWire(inputs) } } : {}),
      ...(error ? { error: new ServingError(error.code, error.message) } : {}),
    };
  }

  /** predictResponseJson in a worker (the outputs are copied: shadow copies and payload logs keep them). */
  async predictResponse(outputs: ReadonlyMap<string, HostTensor>, format: PredictFormat): Promise<string> {
    const reply = await this.call((id) => ({ id, kind: 'predict-response', outputs: toWire(outputs), format }), []);
    if (!('json' in reply)) throw unexpected(reply);
    return reply.json;
  }

  /** Stops the threads; calls in hand fail INTERNAL. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.splice(0).map((w) => w.thread.terminate()));
  }

  private call(message: (id: number) => ToJsonWorker, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new ServingError(Code.UNAVAILABLE, 'The REST server is shutting down'));
    const worker = this.pick();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      worker.pending.set(id, { resolve, reject });
      worker.thread.postMessage(message(id), transfer);
    });
  }

  private pick(): JsonWorker {
    let best: JsonWorker | undefined;
    for (const worker of this.workers) if (!best || worker.pending.size < best.pending.size) best = worker;
    if (best && (best.pending.size === 0 || this.workers.length >= this.threads)) return best;
    const started = new JsonWorker((worker, why) => this.stopped(worker, why));
    this.workers.push(started);
    return started;
  }

  private stopped(worker: JsonWorker, why: string): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) this.workers.splice(index, 1);
    const error = new ServingError(Code.INTERNAL, `A REST JSON worker thread stopped (${why})`);
    for (const pending of worker.pending.values()) pending.reject(error);
    worker.pending.clear();
  }
}

function unexpected(reply: Reply): ServingError {
  if ('error' in reply) return new ServingError((reply.error as PlainError).code, (reply.error as PlainError).message);
  return new ServingError(Code.INTERNAL, 'A REST JSON worker thread answered out of turn');
}
