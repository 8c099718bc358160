/**
 * A version's resident footprint, estimated before it is loaded (the memory budget and the load
 * pool's byte cap read it): per engine instance, a constant plus a factor of the graph's bytes
 * (saved_model.pb) and one of the variables' bytes, times the instances the engine keeps (one
 * session on the native engine, one copy per worker thread on the tfjs engines).
 *
 * How the figures were measured (`BENCH_SECTIONS=footprint npm run bench:memory`, bench/memory/):
 * one fresh process per (engine, model), RSS after loading the model and answering one request of
 * zeros minus RSS before (after GC), on the native engine after a first model loaded libtensorflow,
 * on wasm with one worker; then a least-squares fit of gain = constant + g x graph + w x variables
 * over half_plus_two (test/models), the corpus' keras_cnn, keras_lstm, keras_mobilenet_v3 and the
 * bench's ResNet50, MobileNetV2, EfficientNetB0 at 128x128 (2026-12-02, TF 2.21, x86-64):
 *
 *   engine      constant   graph   variables   worst residual
 *   tensorflow  14.5 MiB   68.6    1.17        14 MiB (keras_mobilenet_v3: 100 MiB)
 *   wasm        56.3 MiB   18.8    2.01        14 MiB (EfficientNetB0: 164 MiB)
 *
 * e.g. ResNet50 (1.9 MiB graph, 196 MiB variables, of which Keras 3 stores each variable twice):
 * 372 MiB on the native engine, 487 MiB per wasm worker. The figures below are those rounded up.
 * The graph's factor is large because a graph's functions, kernels and their first run's buffers
 * grow with its op count, not its weights. tfjs' cpu backend was not measured: wasm's figures.
 */
import type { BackendName } from '../runtime/backend.js';

export interface EngineFootprint {
  /** Bytes every loaded instance costs, whatever the model. */
  readonly constantBytes: number;
  /** Resident bytes per byte of saved_model.pb(txt). */
  readonly graphFactor: number;
  /** Resident bytes per byte of variables/ (data shards and index). */
  readonly variablesFactor: number;
}

const MIB = 2 ** 20;

export const ENGINE_FOOTPRINTS: Readonly<Record<BackendName, EngineFootprint>> = {
  tensorflow: { constantBytes: 16 * MIB, graphFactor: 70, variablesFactor: 1.2 },
  wasm: { constantBytes: 57 * MIB, graphFactor: 20, variablesFactor: 2.05 },
  cpu: { constantBytes: 57 * MIB, graphFactor: 20, variablesFactor: 2.05 },
};

/** A SavedModel's bytes on disk, as the estimate reads them. */
export interface SavedModelFiles {
  readonly graphBytes: number;
  readonly variablesBytes: number;
}

/** The estimated resident bytes of `instances` copies of a model on `engine`. */
export function estimateFootprint(files: SavedModelFiles, engine: BackendName, instances: number): number {
  const f = ENGINE_FOOTPRINTS[engine];
  const perInstance = f.constantBytes + f.graphFactor * files.graphBytes + f.variablesFactor * files.variablesBytes;
  return Math.ceil(perInstance * Math.max(1, instances));
}
