/** One-time tfjs set-up for a thread: backend, custom ops, kernel fallbacks. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { failedPrecondition } from '../../errors.js';
import { registerCustomOps } from './custom-ops/index.js';
import { registerCpuFallbackKernels, registerStringComparisons } from './kernel-fallback.js';
import { assertGuardActive, captureWasmOutput, guardKernels } from './kernel-guard.js';

export type TfjsBackendName = 'wasm' | 'cpu';

let active: Promise<void> | undefined;
/** Bumped each time the wasm backend is rebuilt: engines loaded before must reload. */
let generation = 0;
let rebuilding: Promise<void> | undefined;
let activeName: TfjsBackendName | undefined;

/** Selects the tfjs backend for this thread. All models of a thread share it. */
export function initTfjs(backend: TfjsBackendName): Promise<void> {
  if (active) {
    if (activeName !== backend) {
      return Promise.reject(failedPrecondition(`tfjs already runs on ${activeName} in this thread; cannot switch to ${backend}`));
    }
    return active;
  }
  activeName = backend;
  active = (async () => {
    tf.env().set('PROD', true);
    if (backend === 'wasm') {
      registerCpuFallbackKernels('wasm');
      registerStringComparisons('wasm');
      guardKernels('wasm');
    }
    const ready = backend === 'wasm' ? await captureWasmOutput(() => tf.setBackend(backend)) : await tf.setBackend(backend);
    if (!ready) throw failedPrecondition(`tfjs backend ${backend} failed to initialise`);
    await tf.ready();
    if (backend === 'wasm') assertGuardActive(probeUnsupportedKernel);
    registerCustomOps();
  })();
  return active;
}

/** A wasm kernel call that prints "Unsupported input_type" (LogicalNot takes bool only). */
function probeUnsupportedKernel(): void {
  const x = tf.tensor1d([1], 'float32');
  try {
    tf.dispose(tf.engine().runKernel('LogicalNot', { x }));
  } finally {
    x.dispose();
  }
}

/** The current wasm backend's generation (see rebuildWasmBackend). */
export function backendGeneration(): number {
  return generation;
}

interface EngineInternals {
  registry: Record<string, tf.KernelBackend | undefined>;
  registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number } | undefined>;
}

/**
 * Replaces this thread's wasm backend with a fresh WebAssembly instance after a trap (the old
 * heap is not trusted: a trap can leave its stack pointer and allocator mid-update). Every model
 * loaded in this thread must then load again (their weights lived in the old instance). `seen` is
 * the generation the caller trapped in: concurrent callers rebuild once.
 */
export function rebuildWasmBackend(seen: number): Promise<void> {
  if (seen !== generation) return backendReady();
  generation++;
  const previous = rebuilding ?? Promise.resolve();
  const current: Promise<void> = previous.catch(() => undefined).then(async () => {
    const engine = tf.engine() as unknown as EngineInternals;
    const entry = engine.registryFactory['wasm'];
    if (!entry) throw failedPrecondition('the wasm backend is not registered');
    const old = engine.registry['wasm'];
    // Its dispose() calls into the trapped instance; drop it instead.
    if (old) old.dispose = () => undefined;
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', entry.factory, entry.priority);
    // The new module binds its stdout/stderr as it initialises: to the kernel guard, as the first did.
    if (!(await captureWasmOutput(() => tf.setBackend('wasm')))) throw failedPrecondition('tfjs backend wasm failed to initialise again');
  });
  rebuilding = current;
  void current.catch(() => undefined).then(() => {
    if (rebuilding === current) rebuilding = undefined;
  });
  return current;
}

/** Resolves once no rebuild of the wasm backend is under way (rejects if the last one failed). */
export function backendReady(): Promise<void> {
  return rebuilding ?? Promise.resolve();
}
