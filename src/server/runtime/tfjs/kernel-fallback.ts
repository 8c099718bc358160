/**
 * The wasm backend lacks some kernels the cpu backend has (Einsum, UnsortedSegmentSum, the FFT
 * family, ...). Rather than failing, such a kernel runs on the cpu backend: inputs are copied out
 * of wasm memory, the cpu kernel runs, outputs are copied back. Slow, but correct, and only for
 * those ops. Kernels known to be wrong on wasm are routed the same way.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/**
 * tfjs-backend-wasm 4.22 kernels that give wrong answers: OneHot with a float32 dtype writes the
 * int32 bit patterns (1 becomes 1.4e-45).
 */
const BROKEN_WASM_KERNELS = ['OneHot'];

let registered = false;

export function registerCpuFallbackKernels(targetBackend = 'wasm'): string[] {
  if (registered) return [];
  registered = true;
  for (const name of BROKEN_WASM_KERNELS) {
    if (tf.getKernel(name, targetBackend)) tf.unregisterKernel(name, targetBackend);
  }
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
        const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
          const values = backend.readSync(info.dataId) as tf.BackendValues;
          const copy = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
          moved.push(copy);
          return copy;
        };
        // Variadic kernels (Einsum, ...) take an array of inputs; keep its shape.
        const cpuInputs = Array.isArray(inputs)
          ? (inputs as tf.TensorInfo[]).map(toCpu)
          : Object.fromEntries(Object.entries(inputs).filter(([, info]) => info).map(([name, info]) => [name, toCpu(info!)]));
        try {
          const out = kernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, attrs, backend: cpu });
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
