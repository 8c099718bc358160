/** Reads `saved_model.pb` (or `saved_model.pbtxt`) from a SavedModel directory. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, fromBinary } from '@bufbuild/protobuf';
import { file_tensorflow_core_protobuf_meta_graph } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { file_tensorflow_core_protobuf_saved_object_graph } from '../../../gen/tensorflow/core/protobuf/saved_object_graph_pb.js';
import { type SavedModel, SavedModelSchema } from '../../../gen/tensorflow/core/protobuf/saved_model_pb.js';
import { Code, ServingError, dataLoss } from '../../errors.js';
import { parseTextFormat } from '../../../common/protobuf-text/index.js';

export const SAVED_MODEL_PB = 'saved_model.pb';

/** Messages a SavedModel packs into google.protobuf.Any (e.g. AssetFileDef in collections). */
const ANY_TYPES = createRegistry(file_tensorflow_core_protobuf_meta_graph, file_tensorflow_core_protobuf_saved_object_graph);
export const SAVED_MODEL_PBTXT = 'saved_model.pbtxt';

export async function readSavedModelProto(exportDir: string): Promise<SavedModel> {
  const binary = await readOptional(join(exportDir, SAVED_MODEL_PB));
  if (binary) {
    try {
      return fromBinary(SavedModelSchema, binary);
    } catch (error) {
      throw dataLoss(`Could not parse ${join(exportDir, SAVED_MODEL_PB)}: ${(error as Error).message}`);
    }
  }
  const text = await readOptional(join(exportDir, SAVED_MODEL_PBTXT));
  if (text) {
    try {
      return parseTextFormat(SavedModelSchema, new TextDecoder().decode(text), { registry: ANY_TYPES });
    } catch (error) {
      throw dataLoss(`Could not parse ${join(exportDir, SAVED_MODEL_PBTXT)}: ${(error as Error).message}`);
    }
  }
  throw new ServingError(
    Code.NOT_FOUND,
    `SavedModel file does not exist at: ${exportDir}/{${SAVED_MODEL_PBTXT}|${SAVED_MODEL_PB}}`,
  );
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ServingError(Code.FAILED_PRECONDITION, `Cannot read ${path}: ${(error as Error).message}`);
  }
}
