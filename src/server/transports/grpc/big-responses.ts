/**
 * Big Predict responses encoded off the event loop: the outputs travel to a worker as typed
 * arrays (json-wire.ts), the worker builds the same PredictResponse the inline path builds
 * (responses.ts) and encodes it, and grpc-js sends the bytes as they are (EncodedMessage).
 */
import { toBinary } from '@bufbuild/protobuf';
import { PredictResponseSchema } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import type { ResolvedModelSpec } from '../../api/model-spec.js';
import type { PredictResult } from '../../api/predict.js';
import { type WireTensor, fromWire, toWire } from '../rest/json-wire.js';
import { predictResponse } from './responses.js';

export interface WirePredictResult {
  readonly modelSpec: ResolvedModelSpec;
  readonly outputs: readonly WireTensor[];
  readonly asTensorContent: boolean;
}

/** The outputs are copied, not moved: shadow copies and payload logs may still read them. */
export function toWirePredictResult(result: PredictResult, asTensorContent: boolean): WirePredictResult {
  return { modelSpec: result.modelSpec, outputs: toWire(result.outputs), asTensorContent };
}

export function encodeWirePredictResult(wire: WirePredictResult): Uint8Array {
  const response = predictResponse({ modelSpec: wire.modelSpec, outputs: fromWire(wire.outputs) }, wire.asTensorContent);
  return toBinary(PredictResponseSchema, response);
}
