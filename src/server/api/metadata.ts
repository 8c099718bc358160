/** GetModelMetadata: the model's SignatureDefs, as stored in the SavedModel. */
import type { SignatureDef } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { invalidArgument } from '../errors.js';
import type { ModelSpecRequest, ServingCore } from '../core/types.js';
import { withServable } from './model-spec.js';

export const SIGNATURE_DEF_FIELD = 'signature_def';

export interface ModelMetadata {
  readonly name: string;
  readonly version: bigint;
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
}

export function modelMetadata(core: ServingCore, spec: ModelSpecRequest, fields: readonly string[]): Promise<ModelMetadata> {
  if (fields.length === 0) throw invalidArgument('GetModelMetadataRequest must specify at least one metadata_field');
  for (const field of fields) {
    if (field !== SIGNATURE_DEF_FIELD) throw invalidArgument(`Metadata field ${field} is not supported`);
  }
  return withServable(core, spec, async (handle) => ({
    name: handle.name,
    version: handle.version,
    signatureDefs: handle.signatureDefs,
  }));
}
