/** ModelService.HandleReloadConfigRequest: replace the served model list. */
import type { ModelServerConfig } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { modelConfigListOf } from '../config/model-config.js';
import type { ModelConfigReloader } from '../core/types.js';

export async function reloadConfig(core: ModelConfigReloader, config: ModelServerConfig): Promise<void> {
  await core.reloadConfig(modelConfigListOf(config));
}
