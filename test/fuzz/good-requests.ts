/**
 * The known-good requests the campaigns interleave with hostile ones: half_plus_two's exact
 * answer, and each string and image model's TensorFlow case, whose answer must match
 * TensorFlow's values (the corpus' tolerance) and be byte-identical on every call (the first
 * answer of a case is the reference of the later ones). A failure is a lost request.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { type RestClient, grpcRaw } from './clients.js';
import type { FuzzServer } from './fuzz-server.js';
import { grpcBytes, grpcMismatch, restBody, restMismatch } from './media-models.js';

export const GOOD_BODY = '{"instances": [1.0, 2.0, 5.0]}';
export const GOOD_ANSWER = '{"predictions":[2.5,3.0,4.5]}';

export interface GoodCheck {
  readonly name: string;
  /** Undefined when the answer is right, else what was wrong. */
  run(): Promise<string | undefined>;
}

/** Checks that a case answers the same bytes as its first answer. */
class SameAsFirst {
  private readonly first = new Map<string, string>();

  check(key: string, answer: string): string | undefined {
    const seen = this.first.get(key);
    if (seen === undefined) this.first.set(key, answer);
    else if (seen !== answer) return `answer changed between calls: first ${seen.slice(0, 120)}..., now ${answer.slice(0, 120)}...`;
    return undefined;
  }
}

/** half's version 123 over REST (at `path`), exact. */
export function halfRestCheck(client: RestClient, path = '/v1/models/half/versions/123:predict'): GoodCheck {
  return {
    name: `REST ${path}`,
    run: async () => {
      const reply = await client.post(path, GOOD_BODY);
      return reply.status === 200 && reply.body === GOOD_ANSWER ? undefined : `${reply.status} ${reply.body.slice(0, 200)}`;
    },
  };
}

/** Every good REST request: half, then each media model's TensorFlow cases. */
export function restChecks(server: FuzzServer, client: RestClient): GoodCheck[] {
  const same = new SameAsFirst();
  const media = server.media.flatMap((model) => model.goodCases.map((kase, i): GoodCheck => {
    const body = restBody(kase);
    const key = `${model.name} case ${i}`;
    return {
      name: `REST ${model.name} ${kase.signature} [${Object.values(kase.inputs)[0]!.shape}]`,
      run: async () => {
        const reply = await client.post(`/v1/models/${model.name}:predict`, body);
        return restMismatch(model, kase, reply.status, reply.body) ?? same.check(key, reply.body);
      },
    };
  }));
  return [halfRestCheck(client), ...media];
}

/** Every good gRPC Predict: half's [3,1] request, then each media model's TensorFlow cases. */
export function grpcChecks(server: FuzzServer): GoodCheck[] {
  const same = new SameAsFirst();
  const predict = predictionServiceDefinition.predict.path;
  const halfBytes = Buffer.from(toBinary(PredictRequestSchema, create(PredictRequestSchema, {
    modelSpec: { name: 'half' },
    inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 3n }, { size: 1n }] }, floatVal: [1, 2, 5] } },
  })));
  const half: GoodCheck = {
    name: 'gRPC half Predict',
    run: async () => {
      const reply = await grpcRaw(server.channel, predict, halfBytes);
      return reply.code !== 0 ? `${GrpcStatus[reply.code]} ${reply.details}` : same.check('half', reply.bytes!.toString('base64'));
    },
  };
  const media = server.media.flatMap((model) => model.goodCases.map((kase, i): GoodCheck => {
    const bytes = grpcBytes(model.name, kase);
    return {
      name: `gRPC ${model.name} ${kase.signature} [${Object.values(kase.inputs)[0]!.shape}]`,
      run: async () => {
        const reply = await grpcRaw(server.channel, predict, bytes);
        if (reply.code !== 0) return `${GrpcStatus[reply.code]} ${reply.details}`;
        return grpcMismatch(model, kase, reply.bytes!) ?? same.check(`${model.name} case ${i}`, reply.bytes!.toString('base64'));
      },
    };
  }));
  return [half, ...media];
}
