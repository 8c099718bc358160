/**
 * What the transports and the core report, for Prometheus (metrics.ts implements it with TF
 * Serving's metric names). Kept as an interface so API code does not depend on prom-client.
 */
import type { Code } from './errors.js';
import type { OutputComparison } from './routing/output-compare.js';

/** TF Serving's API label values, and the Open Inference Protocol's model calls. */
export type ApiName =
  | 'predict' | 'classify' | 'regress' | 'multi_inference' | 'get_model_metadata' | 'get_model_status' | 'reload_config'
  | 'model_infer' | 'model_metadata' | 'repository_index' | 'repository_load' | 'repository_unload';
export type Entrypoint = 'REST' | 'GRPC';

export interface RequestEvent {
  readonly model: string;
  readonly api: ApiName;
  readonly entrypoint: Entrypoint;
  readonly status: Code;
  readonly latencyMicros: number;
  /** The version label the request named, if any. */
  readonly label?: string;
  /** The signature an inference call ran (or asked for), if known. */
  readonly signature?: string;
  /** The version that answered (after routing), if the call reached one. */
  readonly version?: bigint;
}

/** One shadow copy's fate (routing/shadow-runner.ts). */
export interface ShadowEvent {
  readonly model: string;
  /** The version that answered the caller. */
  readonly primary: bigint;
  readonly shadow: bigint;
  /** dropped: the queue was full; run: the shadow ran (or failed). */
  readonly outcome: 'dropped' | 'run';
  readonly primaryFailed?: boolean;
  readonly shadowFailed?: boolean;
  /** Both succeeded: per output. */
  readonly comparisons?: readonly OutputComparison[];
}

export interface ShadowObserver {
  shadow(event: ShadowEvent): void;
}

export interface ServingObserver {
  /** A served request (:tensorflow:serving:request_count, :tensorflow:serving:request_latency). */
  request(event: RequestEvent): void;
  /** Time spent running the model (:tensorflow:serving:runtime_latency). */
  runtime(model: string, api: ApiName, micros: number): void;
  /** A load attempt (:tensorflow:cc:saved_model:load_attempt_count, load latency). */
  loadAttempt(modelPath: string, ok: boolean, micros: number): void;
  /** Warmup of a version (:tensorflow:serving:model_warmup_latency). */
  warmup(modelPath: string, ok: boolean, micros: number): void;
  /** Time a request waited in a batching queue (:tensorflow:serving:batching_session:queuing_latency{thread_pool_name}). */
  batchQueuing(threadPoolName: string, micros: number): void;
}

export const NO_OBSERVER: ServingObserver = {
  request: () => undefined,
  runtime: () => undefined,
  loadAttempt: () => undefined,
  warmup: () => undefined,
  batchQueuing: () => undefined,
};
