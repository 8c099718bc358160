/**
 * What the native engine learns from a SavedModel's own files before TensorFlow loads it: the
 * signatures, the feed dtypes TensorFlow checks, and the variables its session loader would leave
 * uninitialized. Decoding saved_model.pb (about 2 MB for ResNet50: hundreds of milliseconds) and
 * reading the checkpoint index are the costly parts; the server runs this in a worker thread
 * (savedmodel/off-loop-inspection.ts), off the event loop that serves the other models.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MetaGraphDef, SignatureDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { TensorBundle } from '../checkpoint/tensor-bundle.js';
import { capturedObjectsByNode } from '../graph/checkpoint-keys.js';
import { parseRef } from '../graph/ir.js';
import { topLevelBody } from '../graph/library.js';
import { selectMetaGraph } from '../savedmodel/meta-graph.js';
import { readSavedModelProto } from '../savedmodel/read-saved-model.js';
import { type SignatureInfo, describeSignatures } from '../savedmodel/signatures.js';
import type { SignatureChecks } from '../engine.js';
import { sessionInputChecks } from './feed-checks.js';
import type { RestoreEntry } from './tf-addon.js';

/** Plain data (structured-clonable): it crosses from the worker thread. */
export interface SessionInspection {
  /** Every SignatureDef, __saved_model_init_op included (GetModelMetadata lists them all). */
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
  readonly signatures: readonly SignatureInfo[];
  /** signature -> what its requests are checked against: the graph's feed dtypes and shapes (feed-checks.ts). */
  readonly inputChecks: ReadonlyMap<string, SignatureChecks>;
  /** Variables the session loader leaves uninitialized, to restore from their checkpoint keys. */
  readonly restoreEntries: readonly RestoreEntry[];
}

export async function inspectForSession(exportDir: string, tags: readonly string[]): Promise<SessionInspection> {
  const metaGraph = selectMetaGraph(await readSavedModelProto(exportDir), tags);
  const signatures = describeSignatures(metaGraph);
  const prefix = join(exportDir, 'variables', 'variables');
  const bundle = existsSync(`${prefix}.index`) ? await TensorBundle.open(prefix) : undefined;
  return {
    signatureDefs: metaGraph.signatureDef,
    signatures,
    inputChecks: sessionInputChecks(metaGraph, signatures),
    restoreEntries: await variablesTheSaverMisses(metaGraph, bundle),
  };
}

/**
 * TF2 SavedModels whose signatures read variables through handles the saver never restores: Keras 3
 * layers' variables captured by a tf.function of a module (`tf.saved_model.save`) are written as
 * two VarHandleOps each, the saver's restore function assigning one (`Variable_N`) while the
 * signatures read the other (`conv1/kernel`). TensorFlow's session loader, which TF Serving and
 * the C API use, leaves those uninitialized ("Could not find variable ..."); tf.saved_model.load
 * restores them from the object graph. We do what it does: every variable a signature captures
 * (the object graph's bound inputs and checkpoint keys) whose handle is not an input of the
 * saver's restore op is restored from its checkpoint key.
 */
export async function variablesTheSaverMisses(metaGraph: MetaGraphDef, bundle: TensorBundle | undefined): Promise<RestoreEntry[]> {
  if (!bundle || !metaGraph.objectGraphDef) return [];
  const top = topLevelBody(metaGraph);
  const restore = top.nodes.get(parseRef(metaGraph.saverDef?.restoreOpName ?? '').node);
  if (!restore || !restore.op.endsWith('PartitionedCall')) return [];
  const restored = new Set(restore.inputs.map((i) => parseRef(i).node));
  const entries: RestoreEntry[] = [];
  for (const [name, object] of await capturedObjectsByNode(metaGraph, top, bundle)) {
    const node = top.nodes.get(name);
    if (object.kind !== 'variable' || node?.op !== 'VarHandleOp' || restored.has(name) || !bundle.has(object.key)) continue;
    const dtype = node.attr['dtype']?.value;
    if (dtype?.case !== 'type') continue;
    entries.push({ handle: name, key: object.key, dtype: dtype.value });
  }
  return entries;
}
