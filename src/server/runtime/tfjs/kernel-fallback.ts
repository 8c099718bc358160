/**
 * The wasm backend lacks some kernels the cpu backend has (Einsum, UnsortedSegmentSum, the FFT
 * family, ...). Rather than failing, such a kernel runs on the cpu backend: inputs are copied out
 * of wasm memory, the cpu kernel runs, outputs are copied back. Slow, but correct, and only for
 * those ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

let registered = false;

export function registerCpuFallbackKernels(targetBackend = 'wasm'): string[] {
  if (registered) return [];
  registered = true;
  const native = new Set(tf.getKernelsForBackend(targetBackend).map((k) => k.kernelName));
  const added: string[] = [];
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (native.has(kernel.kernelName)) continue;
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName: targetBackend,
      kernelFunc: ({ inputs, attrs, backend: target }) => {
        const backend = target as tf.KernelBackend;
        const cpu = tf.engine().findBackend('cpu');
        const moved: tf.TensorInfo[] = [];
        const cpuInputs: Record<string, tf.TensorInfo> = {};
        for (const [name, info] of Object.entries(inputs)) {
          if (!info) continue;
          const values = backend.readSync(info.dataId) as tf.BackendValues;
          const copy = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
          cpuInputs[name] = copy;
          moved.push(copy);
        }
        try {
          const out = kernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu });
          const outputs = Array.isArray(out) ? out : [out];
          const back = outputs.map((o) => {
            const values = cpu.readSync(o.dataId) as tf.BackendValues;
            cpu.disposeData(o.dataId, true);
            return { dataId: backend.write(values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
          });
          return Array.isArray(out) ? back : back[0]!;
        } finally {
          for (const info of moved) cpu.disposeData(info.dataId, true);
        }
      },
    });
    added.push(kernel.kernelName);
  }
  return added;
}
