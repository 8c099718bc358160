/**
 * A gauge of every model version the server knows and its state, read from the core at scrape
 * time. TF Serving has no such metric (its status lives behind GetModelStatus), so it carries our
 * own prefix rather than a TensorFlow name.
 */
import { Gauge, type Registry } from 'prom-client';
import { type ServingCore, VersionState } from '../core/types.js';

export const VERSION_STATE_METRIC = 'tfmodel_model_version_state';

export function registerVersionStateGauge(registry: Registry, core: Pick<ServingCore, 'listModels'>): Gauge<'model_name' | 'version' | 'state'> {
  return new Gauge({
    name: VERSION_STATE_METRIC,
    help: 'Model versions known to the server: 1 for each version in its current state (START, LOADING, AVAILABLE, UNLOADING, END).',
    labelNames: ['model_name', 'version', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const model of core.listModels()) {
        for (const version of model.versions) {
          this.set({ model_name: model.name, version: String(version.version), state: VersionState[version.state] }, 1);
        }
      }
    },
  });
}
