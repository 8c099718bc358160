/**
 * tensorflow.serving.ModelService. GetModelStatus ignores a version label (as TF Serving does: only
 * a version narrows the answer). HandleReloadConfigRequest answers OK with status OK; a failed
 * reload fails the call with the error's code and message, which is all a client sees then (gRPC
 * sends no response message with a non-OK status, in TF Serving's C++ server too).
 */
import { create } from '@bufbuild/protobuf';
import { ReloadConfigResponseSchema } from '../../../gen/tensorflow_serving/apis/model_management_pb.js';
import { ModelServerConfigSchema } from '../../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { reloadConfig } from '../../api/reload.js';
import { modelStatus } from '../../api/status.js';
import { toServingError } from '../../errors.js';
import { requiredModelSpec } from './requests.js';
import { modelStatusResponse, statusProto } from './responses.js';
import { type UnaryHandlers, type modelServiceDefinition } from './service-definitions.js';
import { type ServiceContext, unaryHandler } from './unary.js';

export type ModelServiceHandlers = UnaryHandlers<typeof modelServiceDefinition>;

export function modelServiceHandlers(context: ServiceContext): ModelServiceHandlers {
  const { core, reloader, logger } = context;
  return {
    getModelStatus: unaryHandler(context, {
      api: 'get_model_status',
      modelOf: (request) => request.modelSpec?.name ?? '',
      handle: async (request) => {
        const spec = requiredModelSpec(request.modelSpec);
        return modelStatusResponse(modelStatus(core, spec.name, spec.version));
      },
    }),
    handleReloadConfigRequest: unaryHandler(context, {
      api: 'reload_config',
      admin: 'HandleReloadConfigRequest',
      modelOf: () => '',
      handle: async (request) => {
        try {
          await reloadConfig(reloader, request.config ?? create(ModelServerConfigSchema));
        } catch (error) {
          logger?.error('reload_config_failed', { error: toServingError(error).toString() });
          throw error;
        }
        return create(ReloadConfigResponseSchema, { status: statusProto() });
      },
    }),
  };
}
