/** Loading one model version: the SavedModel's signatures for metadata, and an engine to run it. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetaGraphDef, SignatureDef } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { unimplemented } from '../errors.js';
import type { ModelEngine } from '../runtime/engine.js';
import { type LoadSavedModelOptions, loadSavedModel } from '../runtime/index.js';
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
  /** The whole MetaGraphDef, kept only with --remove_unused_fields_from_bundle_metagraph=false. */
  readonly metaGraph?: MetaGraphDef;
}

export type VersionLoader = (version: VersionToLoad) => Promise<LoadedServable>;

export interface SavedModelLoaderOptions extends LoadSavedModelOptions {
  /** Wraps the engine (server-side batching). */
  readonly wrap?: (engine: ModelEngine, version: VersionToLoad) => ModelEngine | Promise<ModelEngine>;
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
    const metaGraph = selectMetaGraph(await readSavedModelProto(version.dir), options.tags ?? DEFAULT_TAGS);
    // GetModelMetadata lists every SignatureDef, __saved_model_init_op included (as TF Serving does).
    // As TF Serving by default, only signature_def outlives the load.
    const signatureDefs = metaGraph.signatureDef;
    let engine = await loadSavedModel(version.dir, options);
    try {
      if (options.wrap) engine = await options.wrap(engine, version);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
    const servable: LoadedServable = { engine, signatureDefs, ...(options.keepMetaGraph ? { metaGraph } : {}) };
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
