/**
 * inference.GRPCInferenceService (the Open Inference Protocol, KServe v2 / Triton) on TF
 * Serving's gRPC port: each method converts, calls its api/oip function, converts back, through
 * the same unary wrapper (errors, metrics) as PredictionService.
 */
import { create } from '@bufbuild/protobuf';
import {
  ModelMetadataResponseSchema,
  ModelReadyResponseSchema,
  RepositoryIndexResponseSchema,
  RepositoryModelLoadResponseSchema,
  RepositoryModelUnloadResponseSchema,
  ServerLiveResponseSchema,
  ServerMetadataResponseSchema,
  ServerReadyResponseSchema,
} from '../../../gen/inference/grpc_service_pb.js';
import { infer } from '../../api/oip/infer.js';
import { modelMetadata, modelReady, serverLive, serverMetadata, serverReady } from '../../api/oip/metadata.js';
import type { ModelRepository } from '../../api/oip/repository.js';
import { unimplemented } from '../../errors.js';
import { inferResponseOf, signatureNameOf } from './inference-requests.js';
import type { UnaryHandlers, inferenceServiceServerDefinition } from './service-definitions.js';
import { type ServiceContext, bigRequestHandler, unaryHandler } from './unary.js';
import { ServingError } from '../../errors.js';

export type InferenceServiceHandlers = UnaryHandlers<typeof inferenceServiceServerDefinition>;

export function inferenceServiceHandlers(context: ServiceContext, repository: ModelRepository | undefined): InferenceServiceHandlers {
  const { core } = context;
  const noModel = (): string => '';
  const needRepository = (): ModelRepository => {
    if (!repository) throw unimplemented('the model repository extension is not enabled on this server');
    return repository;
  };
  return {
    serverLive: unaryHandler(context, { modelOf: noModel, handle: async () => create(ServerLiveResponseSchema, { live: serverLive() }) }),
    serverReady: unaryHandler(context, { modelOf: noModel, handle: async () => create(ServerReadyResponseSchema, { ready: serverReady(core) }) }),
    modelReady: unaryHandler(context, {
      modelOf: (request) => request.name,
      handle: async (request) => create(ModelReadyResponseSchema, { ready: modelReady(core, request.name, request.version) }),
    }),
    serverMetadata: unaryHandler(context, { modelOf: noModel, handle: async () => {
      const metadata = serverMetadata();
      return create(ServerMetadataResponseSchema, { ...metadata, extensions: [...metadata.extensions] });
    } }),
    modelMetadata: unaryHandler(context, {
      api: 'model_metadata',
      modelOf: (request) => request.name,
      handle: async (request) => {
        const metadata = await modelMetadata(core, request.name, request.version);
        return create(ModelMetadataResponseSchema, {
          ...metadata,
          versions: [...metadata.versions],
          inputs: metadata.inputs.map((t) => ({ ...t, shape: t.shape.map(BigInt) })),
          outputs: metadata.outputs.map((t) => ({ ...t, shape: t.shape.map(BigInt) })),
        });
      },
    }),
    modelInfer: bigRequestHandler(context, 'modelInfer', {
      api: 'model_infer',
      modelOf: ({ request }) => request.modelName,
      factsOf: ({ request }) => ({
        label: /^\d*$/.test(request.modelVersion) ? undefined : request.modelVersion,
        signature: signatureNameOf(request.parameters) || 'serving_default',
      }),
      handle: async ({ request, infer: converted }, keys) => {
        if (converted instanceof ServingError) throw converted;
        return inferResponseOf(await infer(core, converted, keys), request.id);
      },
    }),
    repositoryIndex: unaryHandler(context, {
      api: 'repository_index',
      modelOf: noModel,
      handle: async (request) => create(RepositoryIndexResponseSchema, { models: needRepository().index(request.ready) }),
    }),
    repositoryModelLoad: unaryHandler(context, {
      api: 'repository_load',
      admin: 'RepositoryModelLoad',
      modelOf: (request) => request.modelName,
      handle: async (request) => {
        await needRepository().load(request.modelName);
        return create(RepositoryModelLoadResponseSchema);
      },
    }),
    repositoryModelUnload: unaryHandler(context, {
      api: 'repository_unload',
      admin: 'RepositoryModelUnload',
      modelOf: (request) => request.modelName,
      handle: async (request) => {
        await needRepository().unload(request.modelName);
        return create(RepositoryModelUnloadResponseSchema);
      },
    }),
  };
}
