/**
 * Each REST call converts its request to the transport-neutral API's input, calls the one
 * implementation in src/server/api, and converts the result to JSON (as TF Serving's
 * http_rest_api_handler.cc does around its Predictor/Classifier/Regressor).
 */
import { context as otelContext } from '@opentelemetry/api';
import { classify, regress } from '../../api/classify.js';
import { modelMetadata, SIGNATURE_DEF_FIELD } from '../../api/metadata.js';
import { predictWith } from '../../api/predict.js';
import { modelStatus } from '../../api/status.js';
import { DEFAULT_SIGNATURE, type ModelSpecRequest, type RequestKeys, type ServableHandle, type ServingCore } from '../../core/types.js';
import { invalidArgument } from '../../errors.js';
import { captureTraceContext } from '../../tracing/tracing.js';
import { exampleInputFromJson } from './json-example.js';
import type { JsonOffload } from './json-offload.js';
import { parseBody } from './json-parse.js';
import { bodyText, signatureInputsOf, signatureNameOf } from './predict-body.js';
import { classifyJson, metadataJson, regressJson, statusJson } from './responses.js';
import type { Route } from './router.js';

/**
 * Predict. One acquire: the version whose signature converts the inputs is the one that runs them.
 * It is acquired before the body is read, so that parsing and conversion are one step (in a JSON
 * worker for big bodies); a body that does not parse still fails with its parse error first, and
 * the version is reported only once the body has named its signature, as before.
 */
export async function restPredict(core: ServingCore, route: Route, body: Buffer, facts: RequestFacts | undefined, json: JsonOffload): Promise<string> {
  let handle: ServableHandle | undefined;
  let unavailable: unknown;
  try {
    handle = core.acquire(specOf(route, '', facts));
  } catch (error) {
    unavailable = error;
  }
  // The trace context is synchronous (tracing/sync-context-manager.ts): taken before the body's
  // decode (a JSON worker call) and entered again for the run, so its spans keep their request.
  const traceContext = captureTraceContext();
  try {
    const abandoned = facts ? () => facts.answered === true : undefined;
    const decoded = await json.decodePredict(body, handle ? signatureInputsOf(handle) : undefined, abandoned);
    const signatureName = decoded.signatureName || DEFAULT_SIGNATURE;
    if (facts) facts.signature = signatureName;
    if (!handle) throw unavailable;
    facts?.onVersion?.(handle.version);
    if (decoded.error) throw decoded.error;
    const { inputs, format } = decoded.tensors!;
    const run = () => predictWith(handle, signatureName, inputs, undefined, core.signatureMethodNameCheck ?? false);
    const result = await (traceContext ? otelContext.with(traceContext, run) : run());
    return await json.predictResponse(result.outputs, format, abandoned);
  } finally {
    handle?.release();
  }
}

/**
 * What a call learns that the transport reports (metrics, traces, the version header), and the
 * request's headers for routing.
 */
export interface RequestFacts extends RequestKeys {
  signature: string | undefined;
  /** Input: the request was answered already (timed out, or its client went away). */
  readonly answered?: boolean;
}

export async function restClassify(core: ServingCore, route: Route, body: Buffer, facts?: RequestFacts): Promise<string> {
  const { text, latin1 } = bodyText(body);
  const { doc } = parseBody(text, true, latin1);
  const modelSpec = specOf(route, signatureNameOf(doc), facts);
  if (facts) facts.signature = modelSpec.signatureName || DEFAULT_SIGNATURE;
  const result = await classify(core, { modelSpec, input: exampleInputFromJson(doc) });
  return classifyJson(result.classifications);
}

export async function restRegress(core: ServingCore, route: Route, body: Buffer, facts?: RequestFacts): Promise<string> {
  const { text, latin1 } = bodyText(body);
  const { doc } = parseBody(text, true, latin1);
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
