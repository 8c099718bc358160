/**
 * gRPC fuzz cases: PredictRequests with wrong dtypes, shapes, tensor_content lengths, huge dims,
 * missing or odd model specs, and raw message bytes (random, or a good request with bytes flipped
 * or cut), for the methods of PredictionService and ModelService.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { GetModelMetadataRequestSchema } from '../../src/gen/tensorflow_serving/apis/get_model_metadata_pb.js';
import { GetModelStatusRequestSchema } from '../../src/gen/tensorflow_serving/apis/get_model_status_pb.js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { RegressionRequestSchema } from '../../src/gen/tensorflow_serving/apis/regression_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { modelServiceDefinition, predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { mediaGrpcCase } from './media-grpc-cases.js';
import type { MediaSeeds } from './media-rest-cases.js';
import type { Rng } from './rng.js';

export interface GrpcCase {
  readonly kind: string;
  readonly path: string;
  readonly bytes: Buffer;
}

const DTYPES = [DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32, DataType.DT_INT64, DataType.DT_STRING, DataType.DT_BOOL, DataType.DT_UINT8,
  DataType.DT_HALF, DataType.DT_COMPLEX64, DataType.DT_INVALID, 999 as DataType, DataType.DT_RESOURCE, DataType.DT_VARIANT, DataType.DT_BFLOAT16];
const DIMS = [0n, 1n, 2n, 3n, -1n, -2n, 1n << 31n, 1n << 40n, (1n << 62n), -(1n << 63n)];

function tensor(rng: Rng): Record<string, unknown> {
  const rank = rng.int(5);
  const dim = Array.from({ length: rank }, () => ({ size: rng.chance(0.8) ? BigInt(rng.int(4)) : rng.pick(DIMS) }));
  const dtype = rng.pick(DTYPES);
  const count = rng.pick([0, 1, 2, 3, 6, 1000]);
  const values: Record<string, unknown> = {};
  switch (rng.int(8)) {
    case 0: values['floatVal'] = Array.from({ length: count }, () => rng.pick([1.5, Number.NaN, Infinity, -0, 3.4e38])); break;
    case 1: values['int64Val'] = Array.from({ length: count }, () => rng.pick([1n, -1n, (1n << 63n) - 1n])); break;
    case 2: values['stringVal'] = Array.from({ length: count }, () => rng.bytes(rng.int(10))); break;
    case 3: values['tensorContent'] = rng.bytes(rng.pick([0, 1, 3, 4, 12, 13, 24, 4096])); break;
    case 4: values['intVal'] = Array.from({ length: count }, () => rng.int(1 << 30) - (1 << 29)); break;
    case 5: values['boolVal'] = Array.from({ length: count }, () => rng.chance(0.5)); break;
    case 6: values['doubleVal'] = Array.from({ length: count }, () => rng.next()); values['halfVal'] = [1, 2]; break;
    default: break;
  }
  return { dtype, tensorShape: rng.chance(0.1) ? { unknownRank: true } : { dim }, ...values };
}

function predictBytes(rng: Rng): Buffer {
  const name = rng.pick(['half', 'tf2', 'int64', 'missing', '', 'half\u0000']);
  const inputName = rng.pick(['x', 'x', 'x', 'y', '', 'inputs']);
  const inputs: Record<string, unknown> = { [inputName]: tensor(rng) };
  if (rng.chance(0.15)) inputs['extra'] = tensor(rng);
  const versionChoice = rng.chance(0.8) ? undefined
    : rng.chance(0.5) ? { case: 'version' as const, value: { value: rng.pick([123n, 1n, -1n, (1n << 62n)]) } }
      : { case: 'versionLabel' as const, value: rng.pick(['stable', '', 'x'.repeat(300)]) };
  const request = create(PredictRequestSchema, {
    ...(rng.chance(0.95) ? { modelSpec: { name, signatureName: rng.pick(['', '', 'serving_default', 'regress_x_to_y', 'nope']), ...(versionChoice ? { versionChoice } : {}) } } : {}),
    inputs: inputs as never,
    outputFilter: rng.chance(0.1) ? [rng.pick(['y', 'nope', ''])] : [],
  });
  return Buffer.from(toBinary(PredictRequestSchema, request));
}

function corrupt(rng: Rng, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  if (rng.chance(0.3)) return out.subarray(0, rng.int(out.length + 1));
  for (let i = 0; i < 1 + rng.int(4); i++) if (out.length > 0) out[rng.int(out.length)] = rng.int(256);
  return out;
}

/** One case; with `media` (the string and image models are served) one in four is for them. */
export function grpcCase(rng: Rng, index: number, media?: MediaSeeds): GrpcCase {
  const predict = predictionServiceDefinition.predict.path;
  switch (index % (media ? 8 : 6)) {
    case 6:
    case 7:
      return mediaGrpcCase(rng, media!);
    case 0:
    case 1:
    case 2:
      return { kind: 'predict', path: predict, bytes: predictBytes(rng) };
    case 3:
      return { kind: 'corrupt', path: predict, bytes: corrupt(rng, predictBytes(rng)) };
    case 4: {
      const method = rng.pick([predictionServiceDefinition.regress.path, predictionServiceDefinition.classify.path, predictionServiceDefinition.getModelMetadata.path,
        modelServiceDefinition.getModelStatus.path, predictionServiceDefinition.multiInference.path]);
      const good = method.endsWith('Regress') || method.endsWith('Classify')
        ? toBinary(RegressionRequestSchema, create(RegressionRequestSchema, { modelSpec: { name: 'half', signatureName: rng.pick(['regress_x_to_y', '', 'classify_x_to_y']) } }))
        : method.endsWith('GetModelMetadata')
          ? toBinary(GetModelMetadataRequestSchema, create(GetModelMetadataRequestSchema, { modelSpec: { name: rng.pick(['half', 'missing']) }, metadataField: [rng.pick(['signature_def', 'x', ''])] }))
          : toBinary(GetModelStatusRequestSchema, create(GetModelStatusRequestSchema, { modelSpec: { name: rng.pick(['half', 'missing', '']) } }));
      return { kind: 'other-methods', path: method, bytes: rng.chance(0.5) ? corrupt(rng, Buffer.from(good)) : Buffer.from(good) };
    }
    default:
      return { kind: 'random-bytes', path: rng.pick([predict, predictionServiceDefinition.regress.path, modelServiceDefinition.getModelStatus.path]), bytes: rng.bytes(rng.int(200)) };
  }
}
