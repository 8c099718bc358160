/** Loading one model version: the SavedModel's signatures for metadata, and an engine to run it. */
import type { SignatureDef } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { ModelEngine } from '../runtime/engine.js';
import { type LoadSavedModelOptions, loadSavedModel } from '../runtime/index.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../runtime/savedmodel/meta-graph.js';
import { readSavedModelProto } from '../runtime/savedmodel/read-saved-model.js';

export interface VersionToLoad {
  readonly model: string;
  readonly version: bigint;
  readonly dir: string;
}

export interface LoadedServable {
  readonly engine: ModelEngine;
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
}

export type VersionLoader = (version: VersionToLoad) => Promise<LoadedServable>;

export interface SavedModelLoaderOptions extends LoadSavedModelOptions {
  /** Wraps the engine (server-side batching). */
  readonly wrap?: (engine: ModelEngine, version: VersionToLoad) => ModelEngine;
  /** Runs before the version becomes AVAILABLE (warmup); a failure fails the load. */
  readonly beforeAvailable?: (servable: LoadedServable, version: VersionToLoad) => Promise<void>;
}

export function savedModelLoader(options: SavedModelLoaderOptions): VersionLoader {
  return async (version) => {
    const metaGraph = selectMetaGraph(await readSavedModelProto(version.dir), options.tags ?? DEFAULT_TAGS);
    // GetModelMetadata lists every SignatureDef, __saved_model_init_op included (as TF Serving does).
    const signatureDefs = metaGraph.signatureDef;
    const engine = await loadSavedModel(version.dir, options);
    const servable = { engine: options.wrap ? options.wrap(engine, version) : engine, signatureDefs };
    try {
      await options.beforeAvailable?.(servable, version);
    } catch (error) {
      await servable.engine.dispose();
      throw error;
    }
    return servable;
  };
}
