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
