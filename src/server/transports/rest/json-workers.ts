/**
 * A small pool of worker threads for the REST server's big JSON work (predict bodies parsed and
 * converted to tensors, predict responses written), so that the event loop, which answers
 * health probes and small requests, is never held by one big body for long. Started on first use;
 * each worker has one job in hand at a time; waiting jobs queue here, responses before bodies (so
 * that requests already converted finish first), and a job whose request was answered meanwhile
 * (--rest_api_timeout_in_ms, the client gone) is dropped unrun. A worker that stops (a crash, an
 * out-of-memory kill) fails the requests it held with INTERNAL and is replaced on next use.
 */
import { Worker } from 'node:worker_threads';
import { Code, ServingError } from '../../errors.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import type { FromJsonWorker, PlainError, ToJsonWorker } from './json-messages.js';
import type { PredictFormat } from './json-tensor.js';
import { fromWire, toWire } from './json-wire.js';
import type { DecodedPredict, SignatureInputs } from './predict-body.js';
import type { PredictResult } from '../../api/predict.js';
import { fromWireConverted } from '../grpc/big-request-wire.js';
import type { BigRequestMethod, ConvertedRequests } from '../grpc/big-requests.js';
import { toWirePredictResult } from '../grpc/big-responses.js';
import type { Received } from '../grpc/codec.js';

type Reply = FromJsonWorker;

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

class JsonWorker {
  readonly pending = new Map<number, Pending>();
  readonly thread: Worker;

  constructor(onStopped: (worker: JsonWorker, why: string) => void, onIdle: () => void) {
    this.thread = new Worker(new URL('./json-worker.js', import.meta.url));
    this.thread.unref();
    this.thread.on('message', (reply: Reply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      pending?.resolve(reply);
      onIdle();
    });
    this.thread.on('error', (error) => onStopped(this, error.message));
    this.thread.on('exit', (code) => onStopped(this, `exit code ${code}`));
  }
}

/** Work waiting for a worker; `abandoned` says the request was answered meanwhile (a timeout). */
interface Job {
  readonly message: (id: number) => ToJsonWorker;
  readonly transfer: ArrayBuffer[];
  readonly abandoned: (() => boolean) | undefined;
  readonly pending: Pending;
}

export class JsonWorkers {
  private readonly workers: JsonWorker[] = [];
  /** Responses to write go first: they finish requests already started (FIFO would hold them behind every body). */
  private readonly responses: Job[] = [];
  private readonly bodies: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly threads: number) {}

  /** decodePredictBody in a worker; `body` is moved there (the caller must not use it again). */
  async decodePredict(body: Buffer, signatures: SignatureInputs | undefined, abandoned?: () => boolean): Promise<DecodedPredict> {
    const bytes = movable(body);
    const reply = await this.call(this.bodies, (id) => ({ id, kind: 'predict-body', body: bytes, signatures }), [bytes.buffer as ArrayBuffer], abandoned);
    if (!('decoded' in reply)) throw unexpected(reply);
    const { signatureName, format, inputs, error } = reply.decoded;
    return {
      signatureName,
      ...(format !== undefined && inputs !== undefined ? { tensors: { format, inputs: fromWire(inputs) } } : {}),
      ...(error ? { error: new ServingError(error.code, error.message) } : {}),
    };
  }

  /** predictResponseJson in a worker (the outputs are copied: shadow copies and payload logs keep them). */
  async predictResponse(outputs: ReadonlyMap<string, HostTensor>, format: PredictFormat, abandoned?: () => boolean): Promise<string> {
    const wire = toWire(outputs);
    const reply = await this.call(this.responses, (id) => ({ id, kind: 'predict-response', outputs: wire, format }), [], abandoned);
    if (!('json' in reply)) throw unexpected(reply);
    return reply.json;
  }

  /** grpc/big-requests.ts's convertRequest in a worker; `bytes` is moved there (the caller must not use it again). */
  async grpcRequest<M extends BigRequestMethod>(method: M, bytes: Buffer, abandoned?: () => boolean): Promise<Received<ConvertedRequests[M]>> {
    const moved = movable(bytes, MOVABLE_SLACK);
    const reply = await this.call(this.bodies, (id) => ({ id, kind: 'grpc-request', method, bytes: moved }), [moved.buffer as ArrayBuffer], abandoned);
    if (!('converted' in reply)) throw unexpected(reply);
    return fromWireConverted<M>(reply.converted);
  }

  /** A PredictResponse built and encoded in a worker (the outputs are copied). */
  async grpcPredictResponse(result: PredictResult, asTensorContent: boolean, abandoned?: () => boolean): Promise<Uint8Array> {
    const wire = toWirePredictResult(result, asTensorContent);
    const reply = await this.call(this.responses, (id) => ({ id, kind: 'grpc-predict-response', result: wire }), [], abandoned);
    if (!('encoded' in reply)) throw unexpected(reply);
    return reply.encoded;
  }

  /** Stops the threads; calls in hand fail INTERNAL, calls waiting UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.responses.splice(0).concat(this.bodies.splice(0))) job.pending.reject(shuttingDown());
    await Promise.all(this.workers.splice(0).map((w) => w.thread.terminate()));
  }

  private call(queue: Job[], message: (id: number) => ToJsonWorker, transfer: ArrayBuffer[], abandoned: (() => boolean) | undefined): Promise<Reply> {
    if (this.closed) return Promise.reject(shuttingDown());
    return new Promise<Reply>((resolve, reject) => {
      queue.push({ message, transfer, abandoned, pending: { resolve, reject } });
      this.pump();
    });
  }

  /** Gives each idle worker (starting workers up to `threads`) the next job: one at a time each. */
  private pump(): void {
    while (this.responses.length + this.bodies.length > 0) {
      const worker = this.idleWorker();
      if (!worker) return;
      const job = (this.responses.shift() ?? this.bodies.shift())!;
      if (job.abandoned?.()) {
        job.pending.reject(new ServingError(Code.CANCELLED, 'The request was answered before its JSON was handled'));
        continue;
      }
      const id = this.nextId++;
      worker.pending.set(id, job.pending);
      worker.thread.postMessage(job.message(id), job.transfer);
    }
  }

  private idleWorker(): JsonWorker | undefined {
    const idle = this.workers.find((w) => w.pending.size === 0);
    if (idle || this.workers.length >= this.threads) return idle;
    const started = new JsonWorker((worker, why) => this.stopped(worker, why), () => this.pump());
    this.workers.push(started);
    return started;
  }

  private stopped(worker: JsonWorker, why: string): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) this.workers.splice(index, 1);
    const error = new ServingError(Code.INTERNAL, `A REST JSON worker thread stopped (${why})`);
    for (const pending of worker.pending.values()) pending.reject(error);
    worker.pending.clear();
    if (!this.closed) this.pump();
  }
}

/**
 * Bytes a gRPC message's view may leave of its buffer and still have the buffer moved with it:
 * grpc-js hands the message as a view past its 5-byte frame header, in a buffer that holds
 * nothing else. Node's pooled Buffers are at most 4 KiB of an 8 KiB pool, so never pass. (REST
 * bodies move only when they own their whole buffer: a socket read may hold other requests.)
 */
const MOVABLE_SLACK = 64;

/**
 * The bytes themselves when they hold all of their buffer but `slack` bytes, which is then moved
 * with them (a view keeps its offset); else a copy that owns its buffer. Copying 1 MB cost the event loop
 * ~5 ms per gRPC call under a flood (fresh pages), so grpc-js's messages are moved, not copied.
 */
function movable(bytes: Uint8Array, slack = 0): Uint8Array {
  const whole = bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength - bytes.byteLength <= slack;
  return whole ? bytes : new Uint8Array(bytes);
}

const shuttingDown = (): ServingError => new ServingError(Code.UNAVAILABLE, 'The REST server is shutting down');

function unexpected(reply: Reply): ServingError {
  if ('error' in reply) return new ServingError((reply.error as PlainError).code, (reply.error as PlainError).message);
  return new ServingError(Code.INTERNAL, 'A REST JSON worker thread answered out of turn');
}
