/**
 * Triton's model repository extension on our config reload: the "repository" is the served model
 * list (model.config). Unload removes a model from the list and load puts it back, each through
 * the same reload as HandleReloadConfigRequest (so versions unload after their requests finish,
 * and the rest of the config is untouched). Load of a model still in the list re-applies the list
 * (its base path is polled again). A later config push (file poll, HandleReloadConfigRequest,
 * the operator) replaces the list as a whole, as it always does.
 */
import { create } from '@bufbuild/protobuf';
import { type ModelConfig, type ModelConfigList, ModelConfigListSchema } from '../../../gen/tensorflow_serving/config/model_server_config_pb.js';
import type { ModelConfigReloader, ServingCore } from '../../core/types.js';
import { VersionState } from '../../core/types.js';
import { Code, ServingError, invalidArgument, notFound } from '../../errors.js';

/** What the repository needs beyond the serving core: the config now served, and reload. */
export interface RepositoryCore extends ModelConfigReloader {
  readonly core: ServingCore;
  configList(): ModelConfigList;
  /** Resolves when no load is in progress. */
  settled(): Promise<void>;
}

export interface ModelIndexEntry {
  readonly name: string;
  readonly version: string;
  /** Triton's states: READY, LOADING, UNLOADING, UNAVAILABLE. */
  readonly state: string;
  readonly reason: string;
}

const STATE_NAMES: Readonly<Record<VersionState, string>> = {
  [VersionState.UNKNOWN]: 'UNAVAILABLE',
  [VersionState.START]: 'LOADING',
  [VersionState.LOADING]: 'LOADING',
  [VersionState.AVAILABLE]: 'READY',
  [VersionState.UNLOADING]: 'UNLOADING',
  [VersionState.END]: 'UNAVAILABLE',
};

export class ModelRepository {
  /** Configs of models unloaded through the repository API, so that load can bring them back. */
  private readonly unloaded = new Map<string, ModelConfig>();

  constructor(private readonly target: RepositoryCore) {}

  /** Every version of every served model, and the models unloaded here; `readyOnly`: READY ones. */
  index(readyOnly: boolean): ModelIndexEntry[] {
    const entries: ModelIndexEntry[] = [];
    for (const model of this.target.core.listModels()) {
      if (model.versions.length === 0 && !readyOnly) entries.push({ name: model.name, version: '', state: 'UNAVAILABLE', reason: 'no version loaded' });
      for (const v of model.versions) {
        const state = STATE_NAMES[v.state];
        if (readyOnly && state !== 'READY') continue;
        entries.push({ name: model.name, version: String(v.version), state, reason: v.error?.message ?? '' });
      }
    }
    if (!readyOnly) {
      for (const name of this.unloaded.keys()) {
        if (!entries.some((e) => e.name === name)) entries.push({ name, version: '', state: 'UNAVAILABLE', reason: 'unloaded' });
      }
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async load(name: string): Promise<void> {
    if (!name) throw invalidArgument('model name is required');
    const list = this.target.configList();
    const configs = [...list.config];
    if (!configs.some((c) => c.name === name)) {
      const config = this.unloaded.get(name);
      if (!config) throw notFound(`failed to load '${name}': the model is not in the model config and was not unloaded through the repository API`);
      configs.push(config);
    }
    await this.target.reloadConfig(create(ModelConfigListSchema, { config: configs }));
    this.unloaded.delete(name);
    // Like Triton, answer once the model is loaded (or failed to).
    await this.target.settled();
    const status = this.target.core.listModels().find((m) => m.name === name);
    if (!status?.versions.some((v) => v.state === VersionState.AVAILABLE)) {
      const failure = status?.versions.find((v) => v.error)?.error?.message ?? 'no version could be loaded';
      throw new ServingError(Code.UNAVAILABLE, `failed to load '${name}': ${failure}`);
    }
  }

  async unload(name: string): Promise<void> {
    if (!name) throw invalidArgument('model name is required');
    const list = this.target.configList();
    const config = list.config.find((c) => c.name === name);
    if (!config) {
      if (this.unloaded.has(name)) return;
      throw notFound(`failed to unload '${name}': no model of that name is served`);
    }
    await this.target.reloadConfig(create(ModelConfigListSchema, { config: list.config.filter((c) => c !== config) }));
    this.unloaded.set(name, config);
  }
}
