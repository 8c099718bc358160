/**
 * gRPC fuzz cases for the string and image models (media-models.ts): Predict with string_val
 * holding invalid UTF-8, huge strings and 1e5 to 1e6 entries (issue 7 item 2), string tensors of
 * wrong rank; float images of wrong rank ([3] into the rank-4 input), sizes down to 1x1 and 0x0,
 * tensor_content of the wrong length, other dtypes; PNG bytes corrupted or as a batch; uint8
 * pixels from out-of-range int_val.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';
import type { GrpcCase } from './grpc-cases.js';
import type { MediaSeeds } from './media-rest-cases.js';
import type { Rng } from './rng.js';

const dims = (sizes: readonly number[]): { dim: Array<{ size: bigint }> } => ({ dim: sizes.map((s) => ({ size: BigInt(s) })) });

function predict(model: string, signature: string, alias: string, tensor: Record<string, unknown>): GrpcCase {
  const request = create(PredictRequestSchema, { modelSpec: { name: model, signatureName: signature }, inputs: { [alias]: tensor as never } });
  return { kind: `media ${model}`, path: predictionServiceDefinition.predict.path, bytes: Buffer.from(toBinary(PredictRequestSchema, request)) };
}

function textTensor(rng: Rng): Record<string, unknown> {
  const count = rng.pick([0, 1, 2, 3, 100, 100_000, 1_000_000]);
  const value = (): Uint8Array => rng.pick([Buffer.from('The cat!'), Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('\u{1f600}')]);
  const stringVal = count > 1000 ? new Array<Uint8Array>(count).fill(Buffer.from('a dog')) : Array.from({ length: count }, value);
  switch (rng.int(6)) {
    case 0: return { dtype: DataType.DT_STRING, tensorShape: dims([count, 1]), stringVal };
    case 1: return { dtype: DataType.DT_STRING, tensorShape: dims([count]), stringVal };
    case 2: return { dtype: DataType.DT_STRING, tensorShape: dims([1, 1]), stringVal: [Buffer.alloc(rng.pick([1 << 10, 1 << 20, 8 << 20]), 0x61)] };
    case 3: return { dtype: DataType.DT_STRING, tensorShape: dims(rng.pick([[], [1, 2], [2, 1, 1], [1, 0]])), stringVal: stringVal.slice(0, 4) };
    case 4: return { dtype: rng.pick([DataType.DT_FLOAT, DataType.DT_INT32, DataType.DT_VARIANT]), tensorShape: dims([1, 1]), floatVal: [1.5] };
    default: return { dtype: DataType.DT_STRING, tensorShape: dims([2, 1]), tensorContent: rng.bytes(rng.int(16)) };
  }
}

function imageTensor(rng: Rng, uint8: boolean): Record<string, unknown> {
  const shape = rng.pick([[3], [1, 1, 1, 3], [1, 0, 0, 3], [1, 2, 2, 3], [1, 1, 5, 3], [1, 3, 3, 1], [1, 3, 3, 4], [1, 16, 16, 3], [2, 16, 16, 3], [1, 1, 1, 1, 3], [0, 16, 16, 3]]);
  const count = shape.reduce((a, b) => a * b, 1);
  const dtype = uint8 ? DataType.DT_UINT8 : DataType.DT_FLOAT;
  switch (rng.int(5)) {
    case 0: return { dtype, tensorShape: dims(shape), ...(uint8 ? { intVal: Array.from({ length: count }, () => rng.pick([0, 255, 256, -1, 1 << 30])) } : { floatVal: Array.from({ length: count }, () => rng.next() * 255) }) };
    case 1: return { dtype, tensorShape: dims(shape), tensorContent: rng.bytes(Math.max(0, count * (uint8 ? 1 : 4) + rng.pick([-4, -1, 0, 0, 1, 4]))) };
    case 2: return { dtype: rng.pick([DataType.DT_DOUBLE, DataType.DT_HALF, DataType.DT_INT32, DataType.DT_STRING, DataType.DT_UINT8, DataType.DT_FLOAT]), tensorShape: dims(shape), floatVal: [0.5] };
    case 3: return { dtype, tensorShape: dims(shape), ...(uint8 ? { intVal: [7] } : { floatVal: [0.25] }) };
    default: return { dtype, tensorShape: { unknownRank: true }, floatVal: [1, 2, 3] };
  }
}

function pngTensor(rng: Rng, seeds: MediaSeeds): Record<string, unknown> {
  const bytes = Buffer.from(seeds.png);
  if (rng.chance(0.5)) for (let i = 0; i < 1 + rng.int(6); i++) bytes[8 + rng.int(bytes.length - 8)] = rng.int(256);
  const data = rng.chance(0.3) ? bytes.subarray(0, rng.int(bytes.length)) : bytes;
  return rng.chance(0.7) ? { dtype: DataType.DT_STRING, tensorShape: dims([]), stringVal: [data] } : { dtype: DataType.DT_STRING, tensorShape: dims([2]), stringVal: [data, data] };
}

export function mediaGrpcCase(rng: Rng, seeds: MediaSeeds): GrpcCase {
  switch (rng.int(4)) {
    case 0: return predict('text', rng.pick(['serving_default', 'serve', '']), rng.pick(['text', 'text', 'x']), textTensor(rng));
    case 1: return predict('img', rng.pick(['serving_default', 'serve']), 'image', imageTensor(rng, false));
    case 2: return predict('u8img', 'serving_default', 'pixels', imageTensor(rng, true));
    default: return predict('png', rng.pick(['serving_default', 'own', 'rgba']), 'image_bytes', pngTensor(rng, seeds));
  }
}
