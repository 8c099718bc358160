/**
 * Each REST call converts its request to the transport-neutral API's input, calls the one
 * implementation in src/server/api, and converts the result to JSON (as TF Serving's
 * http_rest_api_handler.cc does around its Predictor/Classifier/Regressor).
 */
import { setImmediate } from 'node:timers/promises';
import { classify, regress } from '../../api/classify.js';
import { modelMetadata, SIGNATURE_DEF_FIELD } from '../../api/metadata.js';
import { withServable } from '../../api/model-spec.js';
import { predictWith } from '../../api/predict.js';
import { modelStatus } from '../../api/status.js';
import { DEFAULT_SIGNATURE, type ModelSpecRequest, type RequestKeys, type ServableHandle, type ServingCore } from '../../core/types.js';
import { invalidArgument } from '../../errors.js';
import type { TensorSpec } from '../../runtime/savedmodel/signatures.js';
import { exampleInputFromJson } from './json-example.js';
import { jsonValueError } from './json-debug.js';
import { ByteString, type JsonObject, member, parseBody } from './json-parse.js';
import { type PredictTensors, needsPreciseNumbers, tensorsFromJson } from './json-tensor.js';
import { classifyJson, metadataJson, regressJson, statusJson } from './responses.js';
import type { Route } from './router.js';
import { predictResponseJson } from './tensor-json.js';

/**
 * Bodies this large are parsed, converted and run in separate turns of the event loop, so that
 * probes and small requests waiting for the loop are served between the steps of big ones.
 */
const YIELD_AFTER_CHARS = 64 * 1024;

export async function restPredict(core: ServingCore, route: Route, text: string, facts?: RequestFacts): Promise<string> {
  const latin1 = facts?.latin1Body ?? false;
  let parsed = parseBody(text, false, latin1);
  const signatureName = signatureNameOf(parsed.doc);
  if (facts) facts.signature = signatureName || DEFAULT_SIGNATURE;
  // One acquire: the version whose signature converts the inputs is the one that runs them.
  return withServable(core, specOf(route, signatureName, facts), async (handle) => {
    const inputs = signatureInputs(handle, signatureName || DEFAULT_SIGNATURE);
    if (!parsed.precise && needsPreciseNumbers(inputs)) parsed = parseBody(text, true, latin1);
    if (text.length >= YIELD_AFTER_CHARS) await setImmediate();
    let tensors: PredictTensors;
    try {
      tensors = tensorsFromJson(parsed.doc, inputs, signatureName, text.length);
    } catch (error) {
      if (parsed.precise) throw error;
      // JSON.parse forgot how numbers were written: redo with the precise parser so that the error
      // quotes the request as TF Serving would.
      tensors = tensorsFromJson(parseBody(text, true, latin1).doc, inputs, signatureName, text.length);
    }
    if (text.length >= YIELD_AFTER_CHARS) await setImmediate();
    const result = await predictWith(handle, signatureName || DEFAULT_SIGNATURE, tensors.inputs, undefined, core.signatureMethodNameCheck ?? false);
    return predictResponseJson(result.outputs, tensors.format);
  });
}

/**
 * What a call learns that the transport reports (metrics, traces, the version header), and the
 * request's headers for routing.
 */
export interface RequestFacts extends RequestKeys {
  signature: string | undefined;
  /** Input: the body was not valid UTF-8 and `text` holds its bytes (see parseBody). */
  readonly latin1Body?: boolean;
}

export async function restClassify(core: ServingCore, route: Route, text: string, facts?: RequestFacts): Promise<string> {
  const { doc } = parseBody(text, true, facts?.latin1Body);
  const modelSpec = specOf(route, signatureNameOf(doc), facts);
  if (facts) facts.signature = modelSpec.signatureName || DEFAULT_SIGNATURE;
  const result = await classify(core, { modelSpec, input: exampleInputFromJson(doc) });
  return classifyJson(result.classifications);
}

export async function restRegress(core: ServingCore, route: Route, text: string, facts?: RequestFacts): Promise<string> {
  const { doc } = parseBody(text, true, facts?.latin1Body);
  const modelSpec = specOf(route, signatureNameOf(doc), facts);
  if (facts) facts.signature = modelSpec.signatureName || DEFAULT_SIGNATURE;
  const result = await regress(core, { modelSpec, input: exampleInputFromJson(doc) });
  return regressJson(result.regressions);
}

/**
 * GET status. With a label, only the labelled version (TF Serving ignores the label and lists
 * every version).
 */
export function restStatus(core: ServingCore, route: Route): string {
  let version = route.version;
  if (route.label !== undefined) {
    version = modelStatus(core, route.model).labels.get(route.label);
    if (version === undefined) throw invalidArgument(`Unrecognized servable version label: ${route.label}`);
  }
  return statusJson(modelStatus(core, route.model, version).versions);
}

export async function restMetadata(core: ServingCore, route: Route, facts?: RequestFacts): Promise<string> {
  return metadataJson(await modelMetadata(core, specOf(route, '', facts), [SIGNATURE_DEF_FIELD]));
}

function specOf(route: Route, signatureName: string, keys: RequestKeys | undefined): ModelSpecRequest {
  return { name: route.model, version: route.version, label: route.label, signatureName, ...(keys ? { requestKeys: keys } : {}) };
}

/** The optional "signature_name" (FillSignature); '' when absent. */
function signatureNameOf(doc: JsonObject): string {
  const name = member(doc, 'signature_name');
  if (name === undefined) return '';
  if (name instanceof ByteString) return name.text;
  if (typeof name !== 'string') {
    throw jsonValueError(doc, "not formatted correctly. 'signature_name' key must be a string value.");
  }
  return name;
}

/** The inputs of the signature a predict request names (TF Serving's GetInfoMap). */
function signatureInputs(handle: ServableHandle, key: string): readonly TensorSpec[] {
  const signature = handle.signatures.find((s) => s.key === key);
  if (!signature) throw invalidArgument(`Serving signature name: "${key}" not found in signature def`);
  return signature.inputs;
}
