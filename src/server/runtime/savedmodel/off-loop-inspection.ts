/**
 * Runs a SavedModel's inspection (native/session-inspection.ts: saved_model.pb decoded, signatures,
 * feed dtypes, variables to restore) in one worker thread, so that a load never holds the event
 * loop that answers the other models' requests (ResNet50's 2 MB graph takes 300-900 ms to decode
 * on a loaded 2-core machine). The thread starts on first use, does not keep the process alive,
 * and stops after IDLE_MS without work (its heap goes with it). A thread that dies fails the
 * inspections it held with INTERNAL; the next one starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { SignatureDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { Code, ServingError } from '../../errors.js';
import type { SessionInspection } from '../native/session-inspection.js';
import type { FromInspectionWorker, Inspection, InspectionDepth, ToInspectionWorker } from './inspection-messages.js';

const IDLE_MS = 30_000;

interface Pending {
  resolve(inspection: Inspection): void;
  reject(error: Error): void;
}

let thread: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

/** What the native engine needs from `exportDir`'s MetaGraphDef with `tags`, computed off the event loop. */
export async function inspectOffLoop(exportDir: string, tags: readonly string[]): Promise<SessionInspection> {
  return (await inspect(exportDir, tags, 'session')) as SessionInspection;
}

/** The SignatureDefs of `exportDir`'s MetaGraphDef with `tags`, decoded off the event loop. */
export async function signatureDefsOffLoop(exportDir: string, tags: readonly string[]): Promise<Readonly<Record<string, SignatureDef>>> {
  return (await inspect(exportDir, tags, 'signatures')).signatureDefs;
}

function inspect(exportDir: string, tags: readonly string[], depth: InspectionDepth): Promise<Inspection> {
  return new Promise<Inspection>((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    clearTimeout(idleTimer);
    const message: ToInspectionWorker = { id, exportDir, tags: [...tags], depth };
    started().postMessage(message);
  });
}

function started(): Worker {
  if (thread) return thread;
  const worker = new Worker(new URL('./inspection-worker.js', import.meta.url));
  worker.unref();
  worker.on('message', (reply: FromInspectionWorker) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if ('inspection' in reply) waiting?.resolve(reply.inspection);
    else waiting?.reject(new ServingError(reply.error.code, reply.error.message));
    if (pending.size === 0) stopWhenIdle(worker);
  });
  worker.on('error', (error) => stopped(worker, error.message));
  worker.on('exit', (code) => stopped(worker, `exit code ${code}`));
  thread = worker;
  return worker;
}

function stopWhenIdle(worker: Worker): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (thread !== worker || pending.size > 0) return;
    thread = undefined;
    void worker.terminate();
  }, IDLE_MS);
  idleTimer.unref();
}

function stopped(worker: Worker, why: string): void {
  if (thread !== worker) return;
  thread = undefined;
  for (const [id, waiting] of pending) {
    pending.delete(id);
    waiting.reject(new ServingError(Code.INTERNAL, `The SavedModel inspection thread stopped (${why})`));
  }
}
