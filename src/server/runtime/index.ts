/**
 * The SavedModel runtime's public surface: load a SavedModel directory and run its signatures.
 *
 *   const model = await loadSavedModel('/models/half_plus_two/123', { runtime: 'auto' });
 *   const outputs = await model.run({ signature: 'serving_default', inputs: new Map([['x', tensor]]) });
 */
import { availableParallelism } from 'node:os';
import { type RuntimeSelection, chooseBackend, nativeFallbackFor } from './backend.js';
import type { ModelEngine } from './engine.js';
import { installedNativePackages } from './native/native-package.js';
import { NativeEngine } from './native/native-engine.js';
import { isMissingOpsError } from './tfjs/missing-ops.js';
import { TfjsEngine } from './tfjs/tfjs-engine.js';
import { WorkerPoolEngine } from './pool/worker-pool.js';

export type { ModelEngine, RunRequest } from './engine.js';
export type { BackendName, RuntimeSelection } from './backend.js';
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
}

export function defaultThreadCount(): number {
  return availableParallelism();
}

export async function loadSavedModel(exportDir: string, options: LoadSavedModelOptions = {}): Promise<ModelEngine> {
  const selection = options.runtime ?? 'auto';
  const installed = await installedNativePackages();
  const choice = chooseBackend(selection, installed);
  const tags = options.tags;
  if (choice.backend === 'tensorflow') return NativeEngine.load(exportDir, { tags, nativePackage: choice.nativePackage! });
  const threads = options.threads ?? defaultThreadCount();
  try {
    if (threads === 0) return await TfjsEngine.load(exportDir, { tags, backend: choice.backend });
    return await WorkerPoolEngine.load(exportDir, { tags, backend: choice.backend, threads });
  } catch (error) {
    // `auto` on a portable engine that lacks ops: the native engine, when installed, runs them.
    const native = nativeFallbackFor(selection, installed);
    if (native && isMissingOpsError(error)) return NativeEngine.load(exportDir, { tags, nativePackage: native });
    throw error;
  }
}
