/**
 * Fakes for the gRPC tests: a serving core with one model "m" (version 7, label "stable") whose
 * engine doubles `x`, answers classify/regress signatures from the batch size, and fails on
 * demand; plus a server/client pair on 127.0.0.1.
 */
import { create } from '@bufbuild/protobuf';
import { type ChannelCredentials, type Client, credentials as channelCredentials } from '@grpc/grpc-js';
import { type SignatureDef, SignatureDefSchema } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { ModelConfigList } from '../../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { type ModelConfigReloader, type ModelStatus, type ServableHandle, type ServingCore, VersionState } from '../../core/types.js';
import { dataLoss, failedPrecondition, invalidArgument, notFound } from '../../errors.js';
import { NO_OBSERVER, type RequestEvent } from '../../observability.js';
import type { ModelEngine } from '../../runtime/engine.js';
import type { SignatureInfo, TensorSpec } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { grpcClient } from './client.js';
import { type GrpcServer, type GrpcServerOptions, createGrpcServer } from './server.js';

export const MODEL = 'm';
export const VERSION = 7n;

const spec = (alias: string, dtype: DataType): TensorSpec => ({ alias, tensorName: `${alias}:0`, dtype, shape: [-1] });

const SIGNATURES: SignatureInfo[] = [
  { key: 'boom', methodName: 'tensorflow/serving/predict', inputs: [spec('x', DataType.DT_FLOAT)], outputs: [spec('y', DataType.DT_FLOAT)] },
  {
    key: 'classify',
    methodName: 'tensorflow/serving/classify',
    inputs: [spec('inputs', DataType.DT_STRING)],
    outputs: [spec('classes', DataType.DT_STRING), spec('scores', DataType.DT_FLOAT)],
  },
  { key: 'regress', methodName: 'tensorflow/serving/regress', inputs: [spec('inputs', DataType.DT_STRING)], outputs: [spec('outputs', DataType.DT_FLOAT)] },
  { key: 'slow', methodName: 'tensorflow/serving/predict', inputs: [spec('x', DataType.DT_FLOAT)], outputs: [spec('y', DataType.DT_FLOAT)] },
  { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: [spec('x', DataType.DT_FLOAT)], outputs: [spec('y', DataType.DT_FLOAT)] },
];

export const SIGNATURE_DEFS: Record<string, SignatureDef> = {
  serving_default: create(SignatureDefSchema, {
    methodName: 'tensorflow/serving/predict',
    inputs: { x: { dtype: DataType.DT_FLOAT, encoding: { case: 'name', value: 'x:0' } } },
    outputs: { y: { dtype: DataType.DT_FLOAT, encoding: { case: 'name', value: 'y:0' } } },
  }),
};

/** What the fake servable's SavedModel holds: one SignatureDef per signature above. */
const SERVABLE_SIGNATURE_DEFS: Record<string, SignatureDef> = Object.fromEntries(
  SIGNATURES.map((s) => {
    const infos = (specs: readonly TensorSpec[]) =>
      Object.fromEntries(specs.map((t) => [t.alias, { dtype: t.dtype, encoding: { case: 'name' as const, value: t.tensorName } }]));
    return [s.key, create(SignatureDefSchema, { methodName: s.methodName, inputs: infos(s.inputs), outputs: infos(s.outputs) })];
  }),
);

const enc = new TextEncoder();

/**
 * y = 2x ("slow": after `gates.slow` resolves); classify: per example classes ["a","b"], scores
 * [i, i + 0.5]; regress: outputs[i] = i; "boom": throws a plain Error.
 */
function fakeEngine(gates: { slow?: Promise<void> }): ModelEngine {
  return {
    backend: 'cpu',
    signatures: SIGNATURES,
    stateful: false,
    async run({ signature, inputs }) {
      const input = inputs.values().next().value as HostTensor;
      const n = input.shape[0] ?? 1;
      if (signature === 'slow') await gates.slow;
      switch (signature) {
        case 'slow':
        case 'serving_default':
          return new Map([['y', { dtype: DataType.DT_FLOAT, shape: input.shape, data: (input.data as Float32Array).map((v) => 2 * v) }]]);
        case 'classify':
          return new Map<string, HostTensor>([
            ['classes', { dtype: DataType.DT_STRING, shape: [n, 2], data: Array.from({ length: 2 * n }, (_, k) => enc.encode(k % 2 ? 'b' : 'a')) }],
            ['scores', { dtype: DataType.DT_FLOAT, shape: [n, 2], data: Float32Array.from({ length: 2 * n }, (_, k) => Math.floor(k / 2) + (k % 2) / 2) }],
          ]);
        case 'regress':
          return new Map([['outputs', { dtype: DataType.DT_FLOAT, shape: [n], data: Float32Array.from({ length: n }, (_, i) => i) }]]);
        default:
          throw new Error('engine exploded');
      }
    },
    dispose: async () => undefined,
  };
}

export interface FakeCore extends ServingCore, ModelConfigReloader {
  ready: boolean;
  /** While set, runs of signature "slow" wait for it. */
  slow?: Promise<void>;
  readonly reloads: ModelConfigList[];
}

export function fakeCore(): FakeCore {
  const engine = fakeEngine({
    get slow() {
      return core.slow;
    },
  });
  const core: FakeCore = {
    ready: true,
    reloads: [],
    acquire(request): ServableHandle {
      if (request.name !== MODEL) throw notFound(`Servable not found for request: Latest(${request.name})`);
      if (request.label !== undefined && request.label !== 'stable') throw invalidArgument(`Unrecognized servable version label: ${request.label}`);
      if (request.version !== undefined && request.version !== VERSION) throw notFound(`Servable not found for request: Specific(${MODEL}, ${request.version})`);
      return { name: MODEL, version: VERSION, engine, signatureDefs: SERVABLE_SIGNATURE_DEFS, signatures: SIGNATURES, release: () => undefined };
    },
    modelStatus(name, version): ModelStatus {
      if (name !== MODEL) throw notFound(`Could not find any versions of model ${name}`);
      const versions = [
        { version: VERSION, state: VersionState.AVAILABLE },
        { version: 6n, state: VersionState.END, error: dataLoss('corrupt checkpoint') },
      ].filter((v) => version === undefined || v.version === version);
      if (versions.length === 0) throw notFound(`Could not find version ${version} of model ${name}`);
      return { name, basePath: '/models/m', versions, labels: new Map([['stable', VERSION]]) };
    },
    listModels: () => [core.modelStatus(MODEL)],
    isReady: () => core.ready,
    async reloadConfig(list) {
      if (list.config.some((c) => c.name === 'bad')) {
        throw failedPrecondition('Request to assign label to version 9 of model bad, which is not currently available for inference');
      }
      core.reloads.push(list);
    },
  };
  return core;
}

export interface Running {
  readonly core: FakeCore;
  readonly server: GrpcServer;
  readonly client: Client;
  readonly events: RequestEvent[];
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts our server on 127.0.0.1:0 with a fake core and connects a client to it. */
export async function startFakeServer(
  options: Partial<GrpcServerOptions> = {},
  clientCredentials: ChannelCredentials = channelCredentials.createInsecure(),
): Promise<Running> {
  const core = fakeCore();
  const events: RequestEvent[] = [];
  const server = createGrpcServer({
    core,
    reloader: core,
    observer: { ...NO_OBSERVER, request: (event) => void events.push(event) },
    healthCheck: false,
    ...options,
  });
  const port = await server.listen(0, '127.0.0.1');
  const client = grpcClient(`127.0.0.1:${port}`, clientCredentials, { 'grpc.ssl_target_name_override': 'localhost' });
  return {
    core,
    server,
    client,
    events,
    port,
    async stop() {
      client.close();
      await server.close();
    },
  };
}
