/**
 * model.config (a ModelServerConfig in protobuf text format): parsing and the checks
 * tensorflow_model_server makes before it accepts a config.
 */
import { type ModelConfig, type ModelConfigList, type ModelServerConfig, ModelServerConfigSchema } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { parseProtoText } from './text-proto.js';
import { invalidArgument } from '../errors.js';

export const TENSORFLOW_PLATFORM = 'tensorflow';

export function parseModelServerConfig(text: string, source = 'model config'): ModelServerConfig {
  return parseProtoText(ModelServerConfigSchema, text, source);
}

/** The config list a server (or a reload) runs with, checked. */
export function modelConfigListOf(config: ModelServerConfig): ModelConfigList {
  if (config.config.case !== 'modelConfigList') {
    throw invalidArgument('ServerCore is configured with model config list, only model config list is accepted');
  }
  validateModelConfigList(config.config.value);
  return config.config.value;
}

export function validateModelConfigList(list: ModelConfigList): void {
  const names = new Set<string>();
  for (const model of list.config) {
    if (!model.name) throw invalidArgument('Model config is missing a name');
    if (names.has(model.name)) throw invalidArgument(`Illegal to list model ${model.name} multiple times in config list`);
    names.add(model.name);
    if (isRelativePath(model.basePath)) {
      throw invalidArgument(`Expected model ${model.name} to have an absolute path or URI; got base_path()=${model.basePath}`);
    }
    if (!model.modelPlatform) {
      throw invalidArgument(
        `Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is ${model.name}`,
      );
    }
    if (model.modelPlatform !== TENSORFLOW_PLATFORM) {
      throw invalidArgument(`Model ${model.name} requests unsupported platform ${model.modelPlatform}`);
    }
    const policy = model.modelVersionPolicy?.policyChoice;
    if (policy?.case === 'specific' && policy.value.versions.length === 0) {
      throw invalidArgument(`Model ${model.name}: a specific version policy needs at least one version`);
    }
    for (const [label, version] of Object.entries(model.versionLabels)) {
      if (!label) throw invalidArgument(`Model ${model.name}: empty version label`);
      if (version < 0n) throw invalidArgument(`Model ${model.name}: label ${label} points to negative version ${version}`);
    }
  }
}

/** TF Serving's UriIsRelativePath: no scheme and not absolute ('' is relative). */
function isRelativePath(uri: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uri) && !uri.startsWith('/');
}

/** Serves one model from --model_name/--model_base_path, like the flags do without a config file. */
export function singleModelConfig(name: string, basePath: string): ModelConfig {
  const config = parseModelServerConfig(
    `model_config_list { config { name: ${JSON.stringify(name)} base_path: ${JSON.stringify(basePath)} model_platform: "${TENSORFLOW_PLATFORM}" } }`,
  );
  return modelConfigListOf(config).config[0]!;
}
