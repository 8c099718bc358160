/** Picks the MetaGraphDef for a tag set, the way TensorFlow's loader does. */
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { SavedModel } from '../../../gen/tensorflow/core/protobuf/saved_model_pb.js';
import { Code, ServingError } from '../../errors.js';

export const DEFAULT_TAGS: readonly string[] = ['serve'];

/** A meta graph matches when its tags equal the requested ones as sets. */
export function selectMetaGraph(savedModel: SavedModel, tags: readonly string[]): MetaGraphDef {
  const wanted = new Set(tags);
  const match = savedModel.metaGraphs.find((mg) => {
    const have = new Set(mg.metaInfoDef?.tags ?? []);
    return have.size === wanted.size && [...wanted].every((t) => have.has(t));
  });
  if (match) return match;
  throw new ServingError(
    Code.NOT_FOUND,
    `MetaGraphDef associated with tags ${tags.map((t) => `'${t}'`).join(', ')} could not be found in SavedModel, ` +
      `with available tags '${formatTagSets(savedModel)}'. To inspect available tag-sets in the SavedModel, ` +
      'please use the SavedModel CLI: `saved_model_cli`.',
  );
}

/** "[{'serve'}, {'serve', 'gpu'}]", as Python prints a list of sets. */
export function formatTagSets(savedModel: SavedModel): string {
  const sets = savedModel.metaGraphs.map((mg) => `{${(mg.metaInfoDef?.tags ?? []).map((t) => `'${t}'`).join(', ')}}`);
  return `[${sets.join(', ')}]`;
}
