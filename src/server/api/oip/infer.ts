/**
 * ModelInfer (REST POST .../infer, gRPC GRPCInferenceService.ModelInfer): the protocol's request
 * in transport-neutral form, run through the same predict() as TF Serving's Predict (one acquire,
 * labels resolved by the manager), answered with each output's datatype.
 */
import { invalidArgument } from '../../errors.js';
import type { RequestKeys } from '../../core/types.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { predict } from '../predict.js';
import { type OipDatatype, datatypeOfDtype } from './datatypes.js';
import { modelSpecOf } from './model-version.js';

/** The request parameter that picks the SavedModel signature (the protocol has no field for it). */
export const SIGNATURE_NAME_PARAMETER = 'signature_name';

export interface InferRequest {
  readonly modelName: string;
  /** '' (latest), a version number, or a TF Serving version label. */
  readonly modelVersion: string;
  /** '' for serving_default. */
  readonly signatureName: string;
  readonly inputs: ReadonlyMap<string, HostTensor>;
  /** Output names to return, in this order; empty: every output of the signature. */
  readonly outputs: readonly string[];
}

export interface InferOutput {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly tensor: HostTensor;
}

export interface InferResult {
  readonly modelName: string;
  /** The version that answered, as a string. */
  readonly modelVersion: string;
  readonly signatureName: string;
  readonly outputs: readonly InferOutput[];
}

/**
 * `keys`: the call's headers (REST) or metadata (gRPC), so that a weighted label routes an OIP
 * caller by its request key as it does on TF Serving's API.
 */
export async function infer(core: Parameters<typeof predict>[0], request: InferRequest, keys?: RequestKeys): Promise<InferResult> {
  if (request.inputs.size === 0) throw invalidArgument('inference request has no inputs');
  const spec = modelSpecOf(request.modelName, request.modelVersion, request.signatureName);
  const result = await predict(core, {
    modelSpec: keys ? { ...spec, requestKeys: keys } : spec,
    inputs: request.inputs,
    ...(request.outputs.length > 0 ? { outputFilter: request.outputs } : {}),
  });
  const outputs: InferOutput[] = [];
  for (const [name, tensor] of result.outputs) outputs.push({ name, datatype: datatypeOfDtype(tensor.dtype), tensor });
  return {
    modelName: result.modelSpec.name,
    modelVersion: String(result.modelSpec.version),
    signatureName: result.modelSpec.signatureName,
    outputs,
  };
}

/** Input names must be unique (a map cannot hold two tensors of one name). */
export function addInput(inputs: Map<string, HostTensor>, name: string, tensor: HostTensor): void {
  if (inputs.has(name)) throw invalidArgument(`input '${name}' is given more than once`);
  inputs.set(name, tensor);
}
