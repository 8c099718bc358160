/**
 * PredictionLog records of served calls, as TF Serving's request logger writes them: the
 * request (model_spec naming the version that answered and the signature), the response, and
 * LogMetadata. Tensors go in tensor_content (raw bytes) where the dtype allows: compact, fast to
 * encode, and read back by warmup and every TensorFlow client.
 */
import { create } from '@bufbuild/protobuf';
import type { TensorProto } from '../../gen/tensorflow/core/framework/tensor_pb.js';
import { type PredictionLog, PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import type { LoggingConfig } from '../../gen/tensorflow_serving/config/logging_config_pb.js';
import type { ClassifyResult, RegressResult } from '../api/classify.js';
import type { ExampleInput } from '../api/examples.js';
import { hostTensorToProto } from '../api/tensor-proto.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';

export interface LoggedCall {
  readonly model: string;
  readonly version: bigint;
  readonly signatureName: string;
}

export function predictLog(call: LoggedCall, config: LoggingConfig, inputs: ReadonlyMap<string, HostTensor>, outputFilter: readonly string[] | undefined, outputs: ReadonlyMap<string, HostTensor>): PredictionLog {
  return create(PredictionLogSchema, {
    logMetadata: logMetadata(call, config),
    logType: {
      case: 'predictLog',
      value: {
        request: { modelSpec: modelSpec(call), inputs: tensorRecord(inputs), outputFilter: outputFilter ? [...outputFilter] : [] },
        response: { modelSpec: modelSpec(call), outputs: tensorRecord(outputs) },
      },
    },
  });
}

export function classifyLog(call: LoggedCall, config: LoggingConfig, input: ExampleInput, result: ClassifyResult): PredictionLog {
  return create(PredictionLogSchema, {
    logMetadata: logMetadata(call, config),
    logType: {
      case: 'classifyLog',
      value: {
        request: { modelSpec: modelSpec(call), input: inputProto(input) },
        response: {
          modelSpec: modelSpec(call),
          result: { classifications: result.classifications.map((classes) => ({ classes: classes.map((c) => ({ label: c.label, score: c.score })) })) },
        },
      },
    },
  });
}

export function regressLog(call: LoggedCall, config: LoggingConfig, input: ExampleInput, result: RegressResult): PredictionLog {
  return create(PredictionLogSchema, {
    logMetadata: logMetadata(call, config),
    logType: {
      case: 'regressLog',
      value: {
        request: { modelSpec: modelSpec(call), input: inputProto(input) },
        response: { modelSpec: modelSpec(call), result: { regressions: result.regressions.map((value) => ({ value })) } },
      },
    },
  });
}

export function logMetadata(call: LoggedCall, config: LoggingConfig) {
  return { modelSpec: modelSpec(call), samplingConfig: { samplingRate: config.samplingConfig?.samplingRate ?? 0 }, savedModelTags: ['serve'] };
}

export function modelSpec(call: LoggedCall) {
  return { name: call.model, versionChoice: { case: 'version' as const, value: { value: call.version } }, signatureName: call.signatureName };
}

function inputProto(input: ExampleInput) {
  return input.context
    ? { kind: { case: 'exampleListWithContext' as const, value: { examples: [...input.examples], context: input.context } } }
    : { kind: { case: 'exampleList' as const, value: { examples: [...input.examples] } } };
}

function tensorRecord(tensors: ReadonlyMap<string, HostTensor>): Record<string, TensorProto> {
  const record: Record<string, TensorProto> = {};
  for (const [alias, tensor] of tensors) record[alias] = tensorProtoOf(tensor);
  return record;
}

/** tensor_content for fixed-size dtypes, the typed field for strings. */
function tensorProtoOf(tensor: HostTensor): TensorProto {
  if (tensor.dtype === DataType.DT_STRING) return hostTensorToProto(tensor);
  const proto = hostTensorToProto({ dtype: tensor.dtype, shape: tensor.shape, data: emptyLike(tensor) });
  const data = tensor.data as Exclude<HostTensor['data'], Uint8Array[]>;
  proto.tensorContent = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return proto;
}

function emptyLike(tensor: HostTensor): HostTensor['data'] {
  const data = tensor.data as Exclude<HostTensor['data'], Uint8Array[]>;
  return new (data.constructor as new (n: number) => typeof data)(0);
}
