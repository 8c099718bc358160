/** Loading one model version: the SavedModel's signatures for metadata, and an engine to run it. */
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetaGraphDef, SignatureDef } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { unimplemented } from '../errors.js';
import type { ModelEngine } from '../runtime/engine.js';
import { type BackendName, type RuntimeSelection, chooseBackend } from '../runtime/backend.js';
import { type LoadSavedModelOptions, defaultThreadCount, loadSavedModel, loadsOnAddon } from '../runtime/index.js';
import type { SessionInspection } from '../runtime/native/session-inspection.js';
import { inspectOffLoop, signatureDefsOffLoop } from '../runtime/savedmodel/off-loop-inspection.js';
import { installedNativeProviders } from '../runtime/native/native-package.js';
import { type SavedModelFiles, estimateFootprint } from './footprint.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../runtime/savedmodel/meta-graph.js';
import { readSavedModelProto } from '../runtime/savedmodel/read-saved-model.js';

/** TF Serving's kTfLiteModelFilename, looked for in the version directory. */
export const TFLITE_MODEL_FILENAME = 'model.tflite';

export interface VersionToLoad {
  readonly model: string;
  readonly version: bigint;
  readonly dir: string;
}

export interface LoadedServable {
  readonly engine: ModelEngine;
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
  /** Estimated resident bytes of the weights and graph, over every instance (worker) holding them. */
  readonly memoryBytes?: number;
  /** The whole MetaGraphDef, kept only with --remove_unused_fields_from_bundle_metagraph=false. */
  readonly metaGraph?: MetaGraphDef;
}

export type VersionLoader = (version: VersionToLoad) => Promise<LoadedServable>;

export interface SavedModelLoaderOptions extends LoadSavedModelOptions {
  /** Wraps the engine (server-side batching). */
  readonly wrap?: (engine: ModelEngine, version: VersionToLoad) => ModelEngine | Promise<ModelEngine>;
  /** Called each time an engine instance of the version traps and is discarded. */
  readonly onEngineFault?: (version: VersionToLoad, trap: string) => void;
  /** Runs before the version becomes AVAILABLE (warmup); a failure fails the load. */
  readonly beforeAvailable?: (servable: LoadedServable, version: VersionToLoad) => Promise<void>;
  /** --prefer_tflite_model: a version holding model.tflite is a TFLite model (which we cannot run). */
  readonly preferTfliteModel?: boolean;
  /** --remove_unused_fields_from_bundle_metagraph=false: keep the whole MetaGraphDef in memory. */
  readonly keepMetaGraph?: boolean;
}

export function savedModelLoader(options: SavedModelLoaderOptions): VersionLoader {
  return async (version) => {
    if (options.preferTfliteModel) await refuseTfliteModel(version.dir);
    const tags = options.tags ?? DEFAULT_TAGS;
    // GetModelMetadata lists every SignatureDef, __saved_model_init_op included (as TF Serving does).
    // As TF Serving by default, only signature_def outlives the load. saved_model.pb is decoded
    // once, in a worker thread (the event loop keeps serving the other models), unless the whole
    // MetaGraphDef is to be kept.
    const metaGraph = options.keepMetaGraph ? selectMetaGraph(await readSavedModelProto(version.dir), tags) : undefined;
    let inspection: SessionInspection | undefined;
    let signatureDefs: LoadedServable['signatureDefs'];
    if (metaGraph) signatureDefs = metaGraph.signatureDef;
    else if (await loadsOnAddon(options.runtime)) signatureDefs = (inspection = await inspectOffLoop(version.dir, tags)).signatureDefs;
    else signatureDefs = await signatureDefsOffLoop(version.dir, tags);
    let engine = await loadSavedModel(version.dir, {
      ...options,
      ...(inspection ? { inspection } : {}),
      onFault: (trap) => options.onEngineFault?.(version, trap),
    });
    try {
      if (options.wrap) engine = await options.wrap(engine, version);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
    const servable: LoadedServable = {
      engine,
      signatureDefs,
      ...(metaGraph ? { metaGraph } : {}),
      memoryBytes: (await savedModelBytes(version.dir)) * instancesOf(engine, options.threads),
    };
    try {
      await options.beforeAvailable?.(servable, version);
    } catch (error) {
      await servable.engine.dispose();
      throw error;
    }
    return servable;
  };
}

/**
 * TF Serving serves <version>/model.tflite with its TfLiteSession when --prefer_tflite_model is
 * set (and falls back to saved_model.pb when there is none). No TFLite interpreter runs in Node
 * here, so such a version fails to load, saying so, rather than being served by the SavedModel
 * beside it under a flag that asked for the TFLite model.
 */
async function refuseTfliteModel(dir: string): Promise<void> {
  const path = join(dir, TFLITE_MODEL_FILENAME);
  const present = await access(path).then(() => true, () => false);
  if (!present) return;
  throw unimplemented(
    `TensorFlow Lite model ${path} cannot be served (--prefer_tflite_model): tfmodel-server has no TFLite interpreter ` +
      '(none of the npm TFLite runtimes runs in Node with dynamic input shapes); serve the SavedModel instead ' +
      '(without --prefer_tflite_model, saved_model.pb in the same directory is used)',
  );
}

/**
 * A version's resident footprint estimated before loading it (core/footprint.ts): the engine the
 * runtime selection will pick, its measured factors, times the instances that will hold it (one
 * on the native engine, one per worker thread on the tfjs engines).
 */
export async function estimateVersionBytes(dir: string, options: LoadSavedModelOptions): Promise<number> {
  const engine = await engineFor(options.runtime ?? 'auto');
  const instances = engine === 'tensorflow' ? 1 : Math.max(1, options.threads ?? defaultThreadCount());
  return estimateFootprint(await savedModelFiles(dir), engine, instances);
}

/** The engine a runtime selection loads on (as loadSavedModel chooses); wasm when the choice fails. */
async function engineFor(selection: RuntimeSelection): Promise<BackendName> {
  try {
    return chooseBackend(selection, await installedNativeProviders()).backend;
  } catch {
    return 'wasm';
  }
}

/** The bytes of a version's graph (saved_model.pb(txt)) and of its variables/ on disk. */
export async function savedModelFiles(dir: string): Promise<SavedModelFiles> {
  let graphBytes = 0;
  for (const name of ['saved_model.pb', 'saved_model.pbtxt']) graphBytes += await fileBytes(join(dir, name));
  let variablesBytes = 0;
  try {
    for (const name of await readdir(join(dir, 'variables'))) variablesBytes += await fileBytes(join(dir, 'variables', name));
  } catch {
    // No variables (a graph of constants).
  }
  return { graphBytes, variablesBytes };
}

/**
 * The bytes a version's weights and graph take on disk (saved_model.pb(txt) and variables/).
 */
export async function savedModelBytes(dir: string): Promise<number> {
  const files = await savedModelFiles(dir);
  return files.graphBytes + files.variablesBytes;
}

async function fileBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** How many copies of the model the engine holds: one per worker thread on the tfjs pool. */
function instancesOf(engine: ModelEngine, threads: number | undefined): number {
  if (engine.backend === 'tensorflow' || engine.stateful) return 1;
  return Math.max(1, threads ?? defaultThreadCount());
}
