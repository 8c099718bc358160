/**
 * The SavedModel runtime's public surface: load a SavedModel directory and run its signatures.
 *
 *   const model = await loadSavedModel('/models/half_plus_two/123', { runtime: 'auto' });
 *   const outputs = await model.run({ signature: 'serving_default', inputs: new Map([['x', tensor]]) });
 */
import { availableParallelism } from 'node:os';
import { NATIVE_ADDON, type NativeProvider, type RuntimeSelection, chooseBackend, nativeFallbackFor } from './backend.js';
import type { ModelEngine } from './engine.js';
import { installedNativeProviders } from './native/native-package.js';
import { NativeEngine } from './native/native-engine.js';
import type { SessionConfig } from './native/session-config.js';
import { SessionEngine } from './native/session-engine.js';
import type { SessionInspection } from './native/session-inspection.js';
import { isMissingOpsError } from './tfjs/missing-ops.js';
import { RebuildingEngine } from './tfjs/rebuilding-engine.js';
import { WorkerPoolEngine } from './pool/worker-pool.js';

export type { ModelEngine, RunRequest } from './engine.js';
export type { BackendName, RuntimeSelection } from './backend.js';
export type { SessionConfig } from './native/session-config.js';
export type { SignatureInfo, TensorSpec } from './savedmodel/signatures.js';
export type { HostTensor, TensorData } from './tensor/host-tensor.js';
export { DataType } from './tensor/dtypes.js';

export interface LoadSavedModelOptions {
  /** MetaGraphDef tag set (default ['serve']). */
  readonly tags?: readonly string[];
  /** Execution engine (default 'auto': native TensorFlow when installed, else wasm). */
  readonly runtime?: RuntimeSelection;
  /**
   * tfjs engines only: worker threads each holding the model (default: one per core). 0 runs the
   * model in the calling thread. Models whose signatures assign variables always use one instance.
   */
  readonly threads?: number;
  /** Called each time an engine instance traps (a WebAssembly fault) and is discarded. */
  readonly onFault?: ((trap: string) => void) | undefined;
  /** Native engine (tfmodel's addon) only: the TensorFlow session's options. */
  readonly session?: SessionConfig;
  /** Native engine (tfmodel's addon) only: the SavedModel's inspection when the caller has it. */
  readonly inspection?: SessionInspection;
}

/** Whether a runtime selection loads on tfmodel's addon (which takes an inspection). */
export async function loadsOnAddon(selection: RuntimeSelection = 'auto'): Promise<boolean> {
  try {
    return chooseBackend(selection, await installedNativeProviders()).native === NATIVE_ADDON;
  } catch {
    return false;
  }
}

export function defaultThreadCount(): number {
  return availableParallelism();
}

export async function loadSavedModel(exportDir: string, options: LoadSavedModelOptions = {}): Promise<ModelEngine> {
  const selection = options.runtime ?? 'auto';
  const installed = await installedNativeProviders();
  const choice = chooseBackend(selection, installed);
  const tags = options.tags;
  if (choice.native) return loadNative(exportDir, choice.native, options);
  if (choice.backend === 'tensorflow') throw new Error('unreachable: the tensorflow backend always has a native provider');
  const threads = options.threads ?? defaultThreadCount();
  try {
    if (threads === 0) return await RebuildingEngine.load(exportDir, { tags, backend: choice.backend, onFault: options.onFault });
    return await WorkerPoolEngine.load(exportDir, { tags, backend: choice.backend, threads, onFault: options.onFault });
  } catch (error) {
    // `auto` on a portable engine that lacks ops: the native engine, when installed, runs them.
    const native = nativeFallbackFor(selection, installed);
    if (native && isMissingOpsError(error)) return loadNative(exportDir, native, options);
    throw error;
  }
}

function loadNative(exportDir: string, native: NativeProvider, options: LoadSavedModelOptions): Promise<ModelEngine> {
  if (native === NATIVE_ADDON) {
    return SessionEngine.load(exportDir, { tags: options.tags, session: options.session, ...(options.inspection ? { inspection: options.inspection } : {}) });
  }
  return NativeEngine.load(exportDir, { tags: options.tags, nativePackage: native });
}
