/**
 * The SavedModel inspection thread's entry (off-loop-inspection.ts starts it): decodes a version's
 * saved_model.pb and analyses it for the native engine, one message at a time, answering with the
 * result or the error as plain data.
 */
import { parentPort } from 'node:worker_threads';
import { toServingError } from '../../errors.js';
import { inspectForSession } from '../native/session-inspection.js';
import type { FromInspectionWorker, Inspection, ToInspectionWorker } from './inspection-messages.js';
import { selectMetaGraph } from './meta-graph.js';
import { readSavedModelProto } from './read-saved-model.js';

const port = parentPort!;

port.on('message', (message: ToInspectionWorker) => {
  void inspect(message).then(
    (inspection): FromInspectionWorker => ({ id: message.id, inspection }),
    (error: unknown): FromInspectionWorker => ({ id: message.id, error: toServingError(error).toJSON() }),
  ).then((reply) => port.postMessage(reply));
});

async function inspect({ exportDir, tags, depth }: ToInspectionWorker): Promise<Inspection> {
  if (depth === 'session') return inspectForSession(exportDir, tags);
  return { signatureDefs: selectMetaGraph(await readSavedModelProto(exportDir), tags).signatureDef };
}
