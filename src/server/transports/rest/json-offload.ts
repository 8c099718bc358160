/**
 * Where a REST call's JSON work runs: on the event loop for small bodies and responses (a worker
 * round trip costs more than it saves), in the JSON worker threads (json-workers.ts) from
 * `minBytes` on, so that a big body never holds the loop that answers probes and small calls.
 * The same functions run on either side: answers and errors are identical.
 */
import { availableParallelism } from 'node:os';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { JsonWorkers } from './json-workers.js';
import type { PredictFormat } from './json-tensor.js';
import { jsonWeight } from './json-wire.js';
import { type DecodedPredict, type SignatureInputs, decodePredictBody } from './predict-body.js';
import { predictResponseJson } from './tensor-json.js';

export interface JsonOffloadOptions {
  /** Worker threads (--rest_json_threads); 0: all JSON work on the event loop. */
  readonly threads: number;
  /** Bodies (and responses of about) this many bytes and more go to a worker (--rest_json_offload_bytes). */
  readonly minBytes: number;
  /** A pool shared with the gRPC server (model-server.ts): used instead of starting one, and not closed here. */
  readonly workers?: JsonWorkers | undefined;
}

export const DEFAULT_JSON_OFFLOAD_BYTES = 16 * 1024;

/** One thread per core but one, at most 4 (JSON is a share of a request's work, not all of it). */
export function defaultJsonThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export class JsonOffload {
  private readonly workers: JsonWorkers | undefined;
  private readonly ownsWorkers: boolean;

  constructor(private readonly options: JsonOffloadOptions) {
    this.ownsWorkers = options.workers === undefined;
    this.workers = options.workers ?? (options.threads > 0 ? new JsonWorkers(options.threads) : undefined);
  }

  /**
   * decodePredictBody; a big `body` is moved to a worker (the caller must not use it again).
   * `abandoned`: true once the request needs no answer any more (work still queued is dropped).
   */
  async decodePredict(body: Buffer, signatures: SignatureInputs | undefined, abandoned?: () => boolean): Promise<DecodedPredict> {
    if (this.workers && body.byteLength >= this.options.minBytes) return this.workers.decodePredict(body, signatures, abandoned);
    return decodePredictBody(body, signatures);
  }

  async predictResponse(outputs: ReadonlyMap<string, HostTensor>, format: PredictFormat, abandoned?: () => boolean): Promise<string> {
    if (this.workers && jsonWeight(outputs) >= this.options.minBytes) return this.workers.predictResponse(outputs, format, abandoned);
    return predictResponseJson(outputs, format);
  }

  close(): Promise<void> {
    return (this.ownsWorkers ? this.workers?.close() : undefined) ?? Promise.resolve();
  }
}
