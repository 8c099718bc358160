/** Predict: run a signature on named input tensors (PredictionService.Predict, REST :predict). */
import { internal } from '../errors.js';
import {
  CLASSIFY_METHOD_NAME,
  PREDICT_METHOD_NAME,
  REGRESS_METHOD_NAME,
} from '../runtime/savedmodel/signatures.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import type { ModelSpecRequest, ServableHandle, ServingCore } from '../core/types.js';
import { validateInputs, validateShapes } from '../runtime/signature-io.js';
import { type ResolvedModelSpec, findServingSignature, resolvedSpec, signatureNameOf, withServable } from './model-spec.js';
import { runShadowed } from './shadowed-run.js';

export interface PredictInput {
  readonly modelSpec: ModelSpecRequest;
  readonly inputs: ReadonlyMap<string, HostTensor>;
  readonly outputFilter?: readonly string[];
}

export interface PredictResult {
  readonly modelSpec: ResolvedModelSpec;
  /** In signature order (alias-sorted), or the filter's order. */
  readonly outputs: Map<string, HostTensor>;
}

const PREDICTABLE_METHODS = [PREDICT_METHOD_NAME, CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME];

export function predict(core: ServingCore, request: PredictInput): Promise<PredictResult> {
  return withServable(core, request.modelSpec, (handle) =>
    predictWith(handle, signatureNameOf(request.modelSpec), request.inputs, request.outputFilter, core.signatureMethodNameCheck ?? false));
}

/** Predict on an acquired servable (for callers that read its signature first, e.g. REST JSON). */
export async function predictWith(
  handle: ServableHandle,
  signatureName: string,
  inputs: ReadonlyMap<string, HostTensor>,
  outputFilter: readonly string[] | undefined,
  methodNameCheck: boolean,
): Promise<PredictResult> {
  const signature = findServingSignature(handle, signatureName);
  if (methodNameCheck && !PREDICTABLE_METHODS.includes(signature.methodName)) {
    throw internal(
      `Expected prediction signature method_name to be one of {${PREDICTABLE_METHODS.join(', ')}}. Was: ${signature.methodName}`,
    );
  }
  // Every transport's Predict (REST, gRPC, Open Inference Protocol) passes here: a request is
  // checked against the signature before any engine, worker or batch queue sees it.
  const checks = handle.engine.inputChecks?.get(signatureName);
  validateInputs(signature, inputs, checks?.feedDtypes);
  validateShapes(signature, inputs, checks);
  const outputs = await runShadowed(handle, signatureName, inputs, outputFilter);
  const log = handle.payloadLog;
  if (log?.sample()) log.writePredict({ model: handle.name, version: handle.version, signatureName }, inputs, outputFilter, outputs);
  return { modelSpec: resolvedSpec(handle, signatureName), outputs };
}
