/**
 * The SavedModel inspection thread's entry (off-loop-inspection.ts starts it): decodes a version's
 * saved_model.pb and analyses it for the native engine, one message at a time, answering with the
 * result or the error as plain data.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { toServingError } from '../../errors.js';
import { inspectForSession } from '../native/session-inspection.js';
import type { FromInspectionWorker, Inspection, ToInspectionWorker } from './inspection-messages.js';
import { selectMetaGraph } from './meta-graph.js';
import { readSavedModelProto } from './read-saved-model.js';

const port = parentPort!;

/** The nice value of this thread: below the event loop and the runs it serves (as the addon's loads). */
const INSPECTION_NICE = 10;

lowerThisThreadsPriority();

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

/** Linux: setpriority on this thread's id (/proc/thread-self names it); elsewhere nothing. */
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, INSPECTION_NICE);
  } catch {
    // No procfs, or not permitted: the inspection runs at the process's priority.
  }
}
