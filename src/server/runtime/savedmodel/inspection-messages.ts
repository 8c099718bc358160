/** Messages between the event loop and the SavedModel inspection thread (plain data). */
import type { SignatureDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { Code } from '../../errors.js';
import type { SessionInspection } from '../native/session-inspection.js';

/** `session`: all the native engine needs; `signatures`: only the SignatureDefs (other engines). */
export type InspectionDepth = 'session' | 'signatures';

export interface ToInspectionWorker {
  readonly id: number;
  readonly exportDir: string;
  readonly tags: readonly string[];
  readonly depth: InspectionDepth;
}

export type Inspection = SessionInspection | { readonly signatureDefs: Readonly<Record<string, SignatureDef>> };

export type FromInspectionWorker =
  | { readonly id: number; readonly inspection: Inspection }
  | { readonly id: number; readonly error: { readonly code: Code; readonly message: string } };
