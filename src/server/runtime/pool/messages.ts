/** Messages between the pool (main thread) and its inference workers. */
import type { Code } from '../../errors.js';
import type { SignatureChecks } from '../engine.js';
import type { SignatureInfo } from '../savedmodel/signatures.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import type { TfjsBackendName } from '../tfjs/setup.js';

export interface WorkerConfig {
  readonly exportDir: string;
  readonly tags: readonly string[] | undefined;
  readonly backend: TfjsBackendName;
}

export interface PlainError {
  readonly code: Code;
  readonly message: string;
}

export interface RunMessage {
  readonly id: number;
  readonly signature: string;
  readonly inputs: Array<[string, HostTensor]>;
  readonly outputFilter: readonly string[] | undefined;
}

export type RunResult =
  | { readonly id: number; readonly outputs: Array<[string, HostTensor]> }
  | { readonly id: number; readonly error: PlainError }
  /** Not run: the worker's engine trapped before it; the pool sends it to another worker. */
  | { readonly id: number; readonly retry: true };

/**
 * Requests (and results) issued in the same event-loop iteration travel as one message: on two
 * cores, waking the other thread once per request costs as much as running a small model.
 */
export type ToWorker = { readonly type: 'runs'; readonly runs: RunMessage[] } | { readonly type: 'dispose' };

export type FromWorker =
  | { readonly type: 'ready'; readonly signatures: SignatureInfo[]; readonly stateful: boolean; readonly inputChecks: ReadonlyMap<string, SignatureChecks> }
  | { readonly type: 'load-failed'; readonly error: PlainError }
  | { readonly type: 'results'; readonly results: RunResult[] }
  /** The engine trapped: the worker takes no more runs and is replaced once its results are in. */
  | { readonly type: 'fault'; readonly trap: string };
