/**
 * Response bodies other than predict's: model status and metadata as TF Serving prints them
 * (protobuf JSON with the proto field names, int64 as strings, fields with default values
 * included), classify/regress results, and the endpoints beyond TF Serving (/v1/models, /readyz).
 */
import { type JsonObject, create, toJson } from '@bufbuild/protobuf';
import type { SignatureDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { SignatureDefMapSchema } from '../../../gen/tensorflow_serving/apis/get_model_metadata_pb.js';
import {
  GetModelStatusResponseSchema,
  type ModelVersionStatus_State,
} from '../../../gen/tensorflow_serving/apis/get_model_status_pb.js';
import { ModelSpecSchema } from '../../../gen/tensorflow_serving/apis/model_pb.js';
import type { ClassEntry } from '../../api/classify.js';
import type { ModelMetadata } from '../../api/metadata.js';
import { Code, invalidArgument } from '../../errors.js';
import { type ModelStatus, VersionState, type VersionStatus } from '../../core/types.js';
import { formatFloat32 } from './number-format.js';

/** TF Serving's JsonPrintOptions: preserve_proto_field_names, always_print_fields_with_no_presence. */
const PROTO_JSON = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

/** GetModelStatusResponse as JSON: `{"model_version_status": [{version, state, status}]}`. */
export function statusObject(versions: readonly VersionStatus[]): JsonObject {
  const response = create(GetModelStatusResponseSchema, {
    modelVersionStatus: versions.map((v) => ({
      version: v.version,
      state: v.state as number as ModelVersionStatus_State,
      status: { errorCode: v.error?.code ?? Code.OK, errorMessage: v.error?.message ?? v.waiting ?? '' },
    })),
  });
  return toJson(GetModelStatusResponseSchema, response, PROTO_JSON) as JsonObject;
}

export function statusJson(versions: readonly VersionStatus[]): string {
  return JSON.stringify(statusObject(versions));
}

/** The serialized SignatureDefMap of each loaded version (its signatureDefs object never changes). */
const signatureMapJson = new WeakMap<Readonly<Record<string, SignatureDef>>, string>();

/**
 * GetModelMetadataResponse as TF Serving's REST API writes it: the model spec, and the
 * SignatureDefMap under metadata.signature_def (so `signature_def` appears twice).
 */
export function metadataJson(metadata: ModelMetadata): string {
  const spec = create(ModelSpecSchema, {
    name: metadata.name,
    versionChoice: { case: 'version', value: { value: metadata.version } },
  });
  let signatures = signatureMapJson.get(metadata.signatureDefs);
  if (signatures === undefined) {
    const map = create(SignatureDefMapSchema, { signatureDef: { ...metadata.signatureDefs } });
    signatures = JSON.stringify(toJson(SignatureDefMapSchema, map, PROTO_JSON));
    signatureMapJson.set(metadata.signatureDefs, signatures);
  }
  return `{"model_spec":${JSON.stringify(toJson(ModelSpecSchema, spec, PROTO_JSON))},"metadata":{"signature_def":${signatures}}}`;
}

/** `{"results": [[[label, score], ...], ...]}` (MakeJsonFromClassificationResult). */
export function classifyJson(classifications: readonly (readonly ClassEntry[])[]): string {
  if (classifications.length === 0) throw invalidArgument('Cannot convert empty ClassificationResults to JSON');
  let out = '{"results":[';
  for (let i = 0; i < classifications.length; i++) {
    out += i > 0 ? ',[' : '[';
    const classes = classifications[i]!;
    for (let c = 0; c < classes.length; c++) {
      out += `${c > 0 ? ',' : ''}[${JSON.stringify(classes[c]!.label)},${formatFloat32(classes[c]!.score)}]`;
    }
    out += ']';
  }
  return `${out}]}`;
}

/** `{"results": [value, ...]}` (MakeJsonFromRegressionResult). */
export function regressJson(regressions: readonly number[]): string {
  if (regressions.length === 0) throw invalidArgument('Cannot convert empty RegressionResults to JSON');
  let out = '{"results":[';
  for (let i = 0; i < regressions.length; i++) out += (i > 0 ? ',' : '') + formatFloat32(regressions[i]!);
  return `${out}]}`;
}

/**
 * GET /v1/models (beyond TF Serving):
 * `{"models": [{"name": "m", "model_version_status": [...as GET /v1/models/m...],
 *   "version_labels": {"stable": "123"}, "routing"?: {...}}]}`, models sorted by name, version labels
 *   as int64 strings; `routing` (a model's part of the routing config) when it has one.
 */
export function modelsJson(models: readonly ModelStatus[]): string {
  const list = [...models]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((model) => ({
      name: model.name,
      model_version_status: statusObject(model.versions).model_version_status ?? [],
      version_labels: Object.fromEntries([...model.labels].map(([label, version]) => [label, String(version)])),
      ...(model.routing ? { routing: model.routing } : {}),
    }));
  return JSON.stringify({ models: list });
}

/** Models without an AVAILABLE version, for /readyz. */
export function unavailableModels(models: readonly ModelStatus[]): string[] {
  return models.filter((m) => !m.versions.some((v) => v.state === VersionState.AVAILABLE)).map((m) => m.name).sort();
}

/**
 * /readyz: `{"ready": true}`, or `{"ready": false, "error": "...", "unavailable_models": [...]}`.
 */
export function readinessJson(ready: boolean, models: readonly ModelStatus[]): string {
  if (ready) return '{"ready":true}';
  const unavailable = unavailableModels(models);
  const error = models.length === 0
    ? 'No models are configured'
    : unavailable.length > 0 ? `No AVAILABLE version of: ${unavailable.join(', ')}` : 'Not ready';
  return JSON.stringify({ ready: false, error, unavailable_models: unavailable });
}
