/** ModelService.HandleReloadConfigRequest: replace the served model list. */
import type { ModelServerConfig } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { modelConfigListOf } from '../config/model-config.js';
import { invalidArgument } from '../errors.js';
import type { ModelConfigReloader } from '../core/types.js';

export async function reloadConfig(core: ModelConfigReloader, config: ModelServerConfig): Promise<void> {
  if (config.config.case !== 'modelConfigList') {
    throw invalidArgument('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
  }
  await core.reloadConfig(modelConfigListOf(config));
}
