/** Results of the api/ functions -> gRPC response messages, shaped as TF Serving fills them. */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { Code as TfCode } from '../../../gen/tensorflow/core/protobuf/error_codes_pb.js';
import type { TensorProto } from '../../../gen/tensorflow/core/framework/tensor_pb.js';
import {
  type ClassificationResponse,
  ClassificationResponseSchema,
  type ClassificationResult,
  ClassificationResultSchema,
} from '../../../gen/tensorflow_serving/apis/classification_pb.js';
import {
  type GetModelMetadataResponse,
  GetModelMetadataResponseSchema,
  SignatureDefMapSchema,
} from '../../../gen/tensorflow_serving/apis/get_model_metadata_pb.js';
import {
  type GetModelStatusResponse,
  GetModelStatusResponseSchema,
  type ModelVersionStatus_State,
} from '../../../gen/tensorflow_serving/apis/get_model_status_pb.js';
import { type MultiInferenceResponse, MultiInferenceResponseSchema } from '../../../gen/tensorflow_serving/apis/inference_pb.js';
import type { ModelSpec } from '../../../gen/tensorflow_serving/apis/model_pb.js';
import type { PredictResponse } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import {
  type RegressionResponse,
  RegressionResponseSchema,
  type RegressionResult,
  RegressionResultSchema,
} from '../../../gen/tensorflow_serving/apis/regression_pb.js';
import { type StatusProto, StatusProtoSchema } from '../../../gen/tensorflow_serving/apis/status_pb.js';
import type { ClassEntry, ClassifyResult, RegressResult } from '../../api/classify.js';
import type { ModelMetadata } from '../../api/metadata.js';
import { SIGNATURE_DEF_FIELD } from '../../api/metadata.js';
import type { ResolvedModelSpec } from '../../api/model-spec.js';
import type { InferenceTaskResult } from '../../api/multi-inference.js';
import type { PredictResult } from '../../api/predict.js';
import { hostTensorToContentProto, hostTensorToProto } from '../../api/tensor-proto.js';
import type { ModelStatus } from '../../core/types.js';
import { Code, type ServingError } from '../../errors.js';

/**
 * name, version (Int64Value) and, for inference APIs, the signature actually run. The Predict path
 * builds complete messages as literals: protobuf-es's create() walks the schema on every call.
 */
export function modelSpecProto(name: string, version: bigint, signatureName = ''): ModelSpec {
  return {
    $typeName: 'tensorflow.serving.ModelSpec',
    name,
    versionChoice: { case: 'version', value: { $typeName: 'google.protobuf.Int64Value', value: version } },
    signatureName,
  };
}

const resolvedSpecProto = (spec: ResolvedModelSpec): ModelSpec => modelSpecProto(spec.name, spec.version, spec.signatureName);

/** Outputs as typed fields (Tensor::AsProtoField), or all in tensor_content (AsProtoTensorContent). */
export function predictResponse(result: PredictResult, asTensorContent = false): PredictResponse {
  const outputs: Record<string, TensorProto> = {};
  const encode = asTensorContent ? hostTensorToContentProto : hostTensorToProto;
  for (const [alias, tensor] of result.outputs) outputs[alias] = encode(tensor);
  return { $typeName: 'tensorflow.serving.PredictResponse', modelSpec: resolvedSpecProto(result.modelSpec), outputs };
}

export function classificationResponse(result: ClassifyResult): ClassificationResponse {
  return create(ClassificationResponseSchema, {
    modelSpec: resolvedSpecProto(result.modelSpec),
    result: classificationResult(result.classifications),
  });
}

export function regressionResponse(result: RegressResult): RegressionResponse {
  return create(RegressionResponseSchema, { modelSpec: resolvedSpecProto(result.modelSpec), result: regressionResult(result.regressions) });
}

export function multiInferenceResponse(results: readonly InferenceTaskResult[]): MultiInferenceResponse {
  return create(MultiInferenceResponseSchema, {
    results: results.map((r) => ({
      modelSpec: resolvedSpecProto(r.modelSpec),
      result: r.kind === 'classification'
        ? { case: 'classificationResult' as const, value: classificationResult(r.classifications) }
        : { case: 'regressionResult' as const, value: regressionResult(r.regressions) },
    })),
  });
}

/** GetModelMetadata: model_spec without a signature name, metadata["signature_def"] = Any(SignatureDefMap). */
export function metadataResponse(metadata: ModelMetadata): GetModelMetadataResponse {
  const map = create(SignatureDefMapSchema, { signatureDef: { ...metadata.signatureDefs } });
  return create(GetModelMetadataResponseSchema, {
    modelSpec: modelSpecProto(metadata.name, metadata.version),
    metadata: { [SIGNATURE_DEF_FIELD]: anyPack(SignatureDefMapSchema, map) },
  });
}

/** Newest version first, like TF Serving's ServableStateMonitor. */
export function modelStatusResponse(status: ModelStatus): GetModelStatusResponse {
  return create(GetModelStatusResponseSchema, {
    modelVersionStatus: status.versions.map((v) => ({
      version: v.version,
      state: v.state as number as ModelVersionStatus_State,
      // A load waiting for memory: OK, with the reason as the message.
      status: v.waiting && !v.error ? create(StatusProtoSchema, { errorCode: Code.OK as number as TfCode, errorMessage: v.waiting }) : statusProto(v.error),
    })),
  });
}

/** TF Serving's ToStatusProto: OK with an empty message, or the error's code and message. */
export function statusProto(error?: ServingError): StatusProto {
  return create(StatusProtoSchema, error
    ? { errorCode: error.code as number as TfCode, errorMessage: error.message }
    : { errorCode: Code.OK as number as TfCode, errorMessage: '' });
}

function classificationResult(classifications: readonly (readonly ClassEntry[])[]): ClassificationResult {
  return create(ClassificationResultSchema, {
    classifications: classifications.map((row) => ({ classes: row.map((c) => ({ label: c.label, score: c.score })) })),
  });
}

function regressionResult(values: readonly number[]): RegressionResult {
  return create(RegressionResultSchema, { regressions: values.map((value) => ({ value })) });
}
