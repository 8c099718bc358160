/** The messages between the REST server and its JSON worker threads (json-workers.ts, json-worker.ts). */
import type { Code } from '../../errors.js';
import type { PredictFormat } from './json-tensor.js';
import type { WireTensor } from './json-wire.js';
import type { SignatureInputs } from './predict-body.js';

export type ToJsonWorker =
  /** Parse and convert a predict body (predict-body.ts); no signatures: parse only. */
  | { readonly id: number; readonly kind: 'predict-body'; readonly body: Uint8Array; readonly signatures: SignatureInputs | undefined }
  /** Write a predict response (tensor-json.ts). */
  | { readonly id: number; readonly kind: 'predict-response'; readonly outputs: readonly WireTensor[]; readonly format: PredictFormat };

export interface PlainError {
  readonly code: Code;
  readonly message: string;
}

export type FromJsonWorker =
  | {
    readonly id: number;
    readonly decoded: {
      readonly signatureName: string;
      readonly format?: PredictFormat;
      readonly inputs?: readonly WireTensor[];
      readonly error?: PlainError;
    };
  }
  | { readonly id: number; readonly json: string }
  | { readonly id: number; readonly error: PlainError };
