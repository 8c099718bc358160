/** Loading one model version: the SavedModel's signatures for metadata, and an engine to run it. */
import type { SignatureDef } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { ModelEngine } from '../runtime/engine.js';
import { type LoadSavedModelOptions, loadSavedModel } from '../runtime/index.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../runtime/savedmodel/meta-graph.js';
import { readSavedModelProto } from '../runtime/savedmodel/read-saved-model.js';
import { defaultThreadCount } from '../runtime/index.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

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
    const servable = {
      engine: options.wrap ? options.wrap(engine, version) : engine,
      signatureDefs,
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
 * The bytes a version's weights and graph take on disk (saved_model.pb(txt) and variables/): what
 * each engine instance holds in memory, give or take its own overheads.
 */
async function savedModelBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of ['saved_model.pb', 'saved_model.pbtxt']) total += await fileBytes(join(dir, name));
  try {
    for (const name of await readdir(join(dir, 'variables'))) total += await fileBytes(join(dir, 'variables', name));
  } catch {
    // No variables (a graph of constants).
  }
  return total;
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
