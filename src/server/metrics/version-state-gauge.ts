/**
 * A gauge of every model version the server knows and its state, read from the core at scrape
 * time. TF Serving has no such metric (its status lives behind GetModelStatus), so it carries our
 * own prefix rather than a TensorFlow name.
 */
import { Gauge, type Registry } from 'prom-client';
import { type ServingCore, VersionState } from '../core/types.js';

export const VERSION_STATE_METRIC = 'tfmodel_model_version_state';
export const VERSION_MEMORY_METRIC = 'tfmodel_model_version_memory_bytes';

/** The engine label: wasm, cpu (tfjs) or native (libtensorflow through tfjs-node). */
export function engineLabel(backend: string | undefined): string {
  if (backend === undefined) return '';
  return backend === 'tensorflow' ? 'native' : backend;
}

/** Estimated memory of each AVAILABLE version's weights (every engine instance), with its engine. */
export function registerVersionMemoryGauge(registry: Registry, core: Pick<ServingCore, 'listModels'>): Gauge<'model_name' | 'version' | 'engine'> {
  return new Gauge({
    name: VERSION_MEMORY_METRIC,
    help: "Estimated resident bytes of each AVAILABLE model version: its SavedModel's graph and variables times the engine instances holding them.",
    labelNames: ['model_name', 'version', 'engine'],
    registers: [registry],
    collect() {
      this.reset();
      for (const model of core.listModels()) {
        for (const version of model.versions) {
          if (version.memoryBytes === undefined) continue;
          this.set({ model_name: model.name, version: String(version.version), engine: engineLabel(version.engine) }, version.memoryBytes);
        }
      }
    },
  });
}

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
