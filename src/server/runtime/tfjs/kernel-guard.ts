/**
 * A wasm kernel that cannot handle its inputs (an unsupported dtype, say a string Equal) does not
 * throw: the C++ side prints one line ("Equal for tensor ids 2 and 4 failed. Unsupported
 * input_type 3") and returns an output it never wrote, so the graph goes on with garbage. The guard
 * turns every such line printed while a kernel runs into a failed kernel: the request fails with
 * UNIMPLEMENTED instead of answering wrongly.
 *
 * The wasm module binds console.log and console.warn once, when the backend initialises, as its
 * stdout and stderr. `captureWasmOutput` swaps in dispatchers for that moment only, so the module
 * keeps ours; outside a kernel they forward to whatever console.log/warn are at the time.
 */
/* eslint-disable no-console -- the guard swaps console.log, the wasm module's stdout, while it initialises */
import * as tf from '@tensorflow/tfjs-core';
import { Code, ServingError, failedPrecondition } from '../../errors.js';

type Printer = (...data: unknown[]) => void;

let depth = 0;
const reports: string[] = [];
let capturing = false;

/** Collects a line printed inside a kernel; forwards anything else to `forward()`. */
function dispatcher(forward: () => Printer): Printer {
  return (...data: unknown[]) => {
    if (depth > 0) reports.push(data.map(String).join(' '));
    else forward()(...data);
  };
}

/** Runs `init` (the wasm backend's initialisation) with the module's output routed to the guard. */
export async function captureWasmOutput<T>(init: () => Promise<T>): Promise<T> {
  const { log, warn } = console;
  const ours: { log: Printer; warn: Printer } = {
    log: dispatcher(() => (console.log === ours.log ? log : console.log)),
    warn: dispatcher(() => (console.warn === ours.warn ? warn : console.warn)),
  };
  console.log = ours.log;
  console.warn = ours.warn;
  try {
    const result = await init();
    capturing = true;
    return result;
  } finally {
    // Restore only what is still ours (someone may have patched the console meanwhile).
    if (console.log === ours.log) console.log = log;
    if (console.warn === ours.warn) console.warn = warn;
  }
}

/** A kernel whose run printed a failure, as the error the request fails with. */
export class KernelFailure extends ServingError {
  constructor(kernelName: string, backend: string, messages: readonly string[]) {
    super(Code.UNIMPLEMENTED, `the ${backend} kernel ${kernelName} cannot compute its inputs: ${messages.join('; ')}`);
  }
}

/** Runs one kernel under the guard; `dispose` frees outputs of a kernel that failed. */
export function guarded<T>(kernelName: string, backend: string, run: () => T, dispose: (out: T) => void): T {
  const before = reports.length;
  depth++;
  let out: T;
  try {
    out = run();
  } finally {
    depth--;
  }
  if (reports.length === before) return out;
  const messages = reports.splice(before);
  dispose(out);
  throw new KernelFailure(kernelName, backend, messages);
}

/**
 * Wraps every kernel registered for `backendName` so that output printed while it runs fails it.
 * Call before the backend initialises (setupFunc is kept as it is).
 */
export function guardKernels(backendName: string): void {
  for (const kernel of tf.getKernelsForBackend(backendName)) {
    const { kernelName, kernelFunc } = kernel;
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) =>
        guarded(kernelName, backendName, () => kernelFunc(args), (out) => {
          const backend = args.backend as tf.KernelBackend;
          for (const info of Array.isArray(out) ? out : [out]) backend.disposeData(info.dataId, true);
        }),
    });
  }
}

/**
 * Proves the guard sees the module's output: a raw wasm kernel known to print (Equal on strings)
 * must be caught. Without this a guard that missed the initialisation would be silently blind.
 */
export function assertGuardActive(probe: () => void): void {
  if (!capturing) throw failedPrecondition('tfjs wasm backend initialised before its kernel guard: refusing to run kernels unchecked');
  try {
    probe();
  } catch (error) {
    if (error instanceof KernelFailure) return;
    throw error;
  }
  throw failedPrecondition('tfjs wasm kernel guard does not see the wasm module output: refusing to run kernels unchecked');
}
