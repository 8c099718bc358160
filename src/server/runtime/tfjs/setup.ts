/** One-time tfjs set-up for a thread: backend, custom ops, kernel fallbacks. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { failedPrecondition } from '../../errors.js';
import { registerCustomOps } from './custom-ops/index.js';
import { registerCpuFallbackKernels } from './kernel-fallback.js';

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
    if (backend === 'wasm') registerCpuFallbackKernels('wasm');
    if (!(await tf.setBackend(backend))) throw failedPrecondition(`tfjs backend ${backend} failed to initialise`);
    await tf.ready();
    registerCustomOps();
  })();
  return active;
}
