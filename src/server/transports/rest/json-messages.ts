/** The messages between the REST server and its JSON worker threads (json-workers.ts, json-worker.ts). */
import type { Code } from '../../errors.js';
import type { PredictFormat } from './json-tensor.js';
import type { WireTensor } from './json-wire.js';
import type { SignatureInputs } from './predict-body.js';
import type { WireConverted } from '../grpc/big-request-wire.js';
import type { BigRequestMethod } from '../grpc/big-requests.js';
import type { WirePredictResult } from '../grpc/big-responses.js';

export type ToJsonWorker =
  /** Parse and convert a predict body (predict-body.ts); no signatures: parse only. */
  | { readonly id: number; readonly kind: 'predict-body'; readonly body: Uint8Array; readonly signatures: SignatureInputs | undefined }
  /** Write a predict response (tensor-json.ts). */
  | { readonly id: number; readonly kind: 'predict-response'; readonly outputs: readonly WireTensor[]; readonly format: PredictFormat }
  /** Decode and convert a big gRPC request (grpc/big-requests.ts). */
  | { readonly id: number; readonly kind: 'grpc-request'; readonly method: BigRequestMethod; readonly bytes: Uint8Array }
  /** Build and encode a big gRPC PredictResponse (grpc/big-responses.ts). */
  | { readonly id: number; readonly kind: 'grpc-predict-response'; readonly result: WirePredictResult };

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
  | { readonly id: number; readonly converted: WireConverted }
  | { readonly id: number; readonly encoded: Uint8Array }
  | { readonly id: number; readonly error: PlainError };
