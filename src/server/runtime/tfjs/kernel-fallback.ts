/**
 * The wasm backend lacks some kernels the cpu backend has (Einsum, UnsortedSegmentSum, the FFT
 * family, ...). Rather than failing, such a kernel runs on the cpu backend: inputs are copied out
 * of wasm memory, the cpu kernel runs, outputs are copied back. Slow, but correct, and only for
 * those ops. Kernels known to be wrong on wasm are routed the same way, and so is every kernel
 * call with an empty (zero-element) input: XNNPACK traps on those ("memory access out of bounds"
 * after `xnn_setup_*` fails), where TensorFlow computes the empty result (MobileNetV3 on a 1x1
 * image runs its stride-2 convolutions down to 0x0 and answers NaN; issue 7, item 1), and every
 * convolution or pooling whose output would be empty. wasm has no complex64 kernels: every kernel
 * with a complex64 input runs on cpu, the tensor crossing as interleaved float32 pairs; the
 * element-moving kernels the cpu backend refuses on complex64 run there on each part.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { comparesStrings, stringComparison } from './string-compare.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const dtypeOf = (args: KernelArgs, input: string): string | undefined => args.inputs[input]?.dtype;

/**
 * tfjs-backend-wasm 4.22 kernels that are wrong for some inputs (found by comparing with the cpu
 * backend, see kernel-fallback.test.ts), and the inputs for which they are bypassed.
 */
export const BROKEN_WASM_KERNELS: Readonly<Record<string, (args: KernelArgs) => boolean>> = {
  // float32 output holds int32 bit patterns (1 becomes 1.4e-45).
  OneHot: ({ attrs }) => attrs?.['dtype'] !== 'int32',
  // Writes 4-byte elements: a bool result overruns its buffer and corrupts the wasm heap.
  Select: (args) => dtypeOf(args, 't') === 'bool',
  // Compares int32 data as float32 bit patterns (260 is not clipped to 255).
  ClipByValue: (args) => dtypeOf(args, 'x') !== 'float32',
  // Ignores batch_dims for rank-1 indices and gets it wrong for higher ranks.
  GatherV2: ({ attrs }) => Number(attrs?.['batchDims'] ?? 0) !== 0,
  // Reverses bool data as 4-byte elements.
  Reverse: (args) => dtypeOf(args, 'x') === 'bool',
  // Non-float32 input comes back as float32 holding the input's bit patterns.
  StridedSlice: (args) => dtypeOf(args, 'x') !== 'float32',
  // Casting to bool keeps the integer value (2 stays 2) instead of 1.
  Cast: ({ attrs }) => attrs?.['dtype'] === 'bool',
  // exp(x) - 1 and log(1 + x): 10% off for |x| near 1e-7, where these ops exist to be exact.
  Expm1: () => true,
  Log1p: () => true,
  // Rejects int32 operands.
  BatchMatMul: (args) => dtypeOf(args, 'a') !== 'float32',
  // int32 input comes back as float32 bit patterns (1/-3 becomes -3, 1/2 becomes 2139095040).
  Reciprocal: (args) => dtypeOf(args, 'x') !== 'float32',
  // int32 powers saturate at INT32_MIN where TensorFlow wraps (260^5).
  Pow: (args) => dtypeOf(args, 'a') === 'int32',
  // int32 convolutions read the int32 data as float32 and answer float32 bit patterns.
  Conv2D: (args) => dtypeOf(args, 'x') !== 'float32',
  FusedConv2D: (args) => dtypeOf(args, 'x') !== 'float32',
  // String tensors live outside the wasm heap; these kernels abort on them.
  Tile: (args) => dtypeOf(args, 'x') === 'string',
  GatherNd: (args) => dtypeOf(args, 'params') === 'string',
  Fill: ({ attrs }) => attrs?.['dtype'] === 'string',
  SparseToDense: (args) => dtypeOf(args, 'sparseValues') === 'string',
};

/** A zero-element tensor among the inputs (variadic inputs included). */
function hasEmptyInput(args: KernelArgs): boolean {
  const empty = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(empty);
    const shape = (value as tf.TensorInfo | undefined)?.shape;
    return shape !== undefined && shape.includes(0);
  };
  const inputs = args.inputs as unknown;
  return Array.isArray(inputs) ? inputs.some(empty) : Object.values(inputs as object).some(empty);
}

/** A complex64 tensor among the inputs: wasm has no complex kernels, so these run on cpu. */
function hasComplexInput(args: KernelArgs): boolean {
  const complex = (value: unknown): boolean =>
    Array.isArray(value) ? value.some(complex) : (value as tf.TensorInfo | undefined)?.dtype === 'complex64';
  const inputs = args.inputs as unknown;
  return Array.isArray(inputs) ? inputs.some(complex) : Object.values(inputs as object).some(complex);
}

interface WasmInternals {
  dataIdMap?: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  wasm?: { HEAPU8: Uint8Array };
}

/**
 * A complex64 tensor's interleaved (real, imaginary) float32 pairs. The wasm backend stores them
 * so (8 bytes an element, written by the fallback below) but its readSync refuses the dtype.
 */
function readComplex(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  const internals = backend as unknown as WasmInternals;
  const entry = internals.dataIdMap?.get(info.dataId);
  if (!entry || !internals.wasm) return backend.readSync(info.dataId) as Float32Array;
  const bytes = tf.util.sizeFromShape(info.shape) * 8;
  return new Float32Array(internals.wasm.HEAPU8.slice(entry.memoryOffset, entry.memoryOffset + bytes).buffer);
}

/** A cpu complex64 tensor (the real and imaginary parts the cpu kernels expect) from interleaved pairs. */
function cpuComplex(cpu: tf.KernelBackend, pairs: Float32Array, shape: number[]): tf.TensorInfo {
  const real = new Float32Array(pairs.length / 2);
  const imag = new Float32Array(pairs.length / 2);
  for (let i = 0; i < real.length; i++) {
    real[i] = pairs[2 * i]!;
    imag[i] = pairs[2 * i + 1]!;
  }
  const part = (values: Float32Array): tf.TensorInfo => ({ dataId: cpu.write(values, shape, 'float32'), shape, dtype: 'float32' });
  const parts = { real: part(real), imag: part(imag) };
  try {
    return tf.getKernel('Complex', 'cpu')!.kernelFunc({ inputs: parts, backend: cpu, attrs: {} }) as tf.TensorInfo;
  } finally {
    cpu.disposeData(parts.real.dataId, true);
    cpu.disposeData(parts.imag.dataId, true);
  }
}

/**
 * Kernels that only move elements, which tfjs's cpu backend refuses on complex64: run on the real
 * and the imaginary parts apart and recombined (padding the imaginary part with 0).
 */
const COMPLEX_BY_PARTS = new Set(['StridedSlice', 'Slice', 'PadV2', 'Reverse', 'GatherV2', 'Tile']);

interface CpuInternals {
  data: { get(dataId: tf.DataId): { complexTensorInfos?: { real: tf.TensorInfo; imag: tf.TensorInfo } } | undefined };
}

function byParts(kernel: tf.KernelConfig, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined, cpu: tf.KernelBackend): tf.TensorInfo {
  const data = (cpu as unknown as CpuInternals).data;
  const part = (which: 'real' | 'imag'): tf.NamedTensorInfoMap => Object.fromEntries(Object.entries(inputs).map(([name, info]) => [
    name, info?.dtype === 'complex64' ? data.get(info.dataId)!.complexTensorInfos![which] : info,
  ]));
  const real = kernel.kernelFunc({ inputs: part('real'), attrs, backend: cpu }) as tf.TensorInfo;
  const imagAttrs = kernel.kernelName === 'PadV2' ? { ...attrs, constantValue: 0 } : attrs;
  const imag = kernel.kernelFunc({ inputs: part('imag'), attrs: imagAttrs, backend: cpu }) as tf.TensorInfo;
  try {
    return tf.getKernel('Complex', 'cpu')!.kernelFunc({ inputs: { real, imag }, backend: cpu, attrs: {} }) as tf.TensorInfo;
  } finally {
    cpu.disposeData(real.dataId, true);
    cpu.disposeData(imag.dataId, true);
  }
}

type Attrs = Record<string, unknown>;
type Pad = 'valid' | 'same' | number;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)]);

/** Output shapes of the windowed kernels, as their wasm kernels compute them. */
const WINDOWED_OUTPUT: Readonly<Record<string, (x: number[], a: Attrs, args: KernelArgs) => number[]>> = (() => {
  const conv = (depthwise: boolean) => (x: number[], a: Attrs, args: KernelArgs): number[] =>
    tf.backend_util.computeConv2DInfo(x as [number, number, number, number], args.inputs['filter']!.shape as [number, number, number, number],
      pair(a['strides']), pair(a['dilations'] ?? 1), a['pad'] as Pad, a['dimRoundingMode'] as Rounding, depthwise,
      tf.backend_util.convertConv2DDataFormat((a['dataFormat'] as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC')).outShape;
  const pool = (x: number[], a: Attrs): number[] =>
    tf.backend_util.computePool2DInfo(x as [number, number, number, number], pair(a['filterSize']), pair(a['strides']), 1, a['pad'] as Pad,
      a['dimRoundingMode'] as Rounding).outShape;
  return { Conv2D: conv(false), FusedConv2D: conv(false), DepthwiseConv2dNative: conv(true), FusedDepthwiseConv2D: conv(true), MaxPool: pool, AvgPool: pool };
})();

/** A windowed kernel (convolution, pooling) whose output would have no elements. */
function hasEmptyOutput(name: string, args: KernelArgs): boolean {
  const outShape = WINDOWED_OUTPUT[name];
  const x = args.inputs['x'];
  if (!outShape || !x || x.shape.length !== 4) return false;
  try {
    return outShape(x.shape, (args.attrs ?? {}) as Attrs, args).some((d) => d <= 0);
  } catch {
    return false;
  }
}

/**
 * TFMODEL_WASM_EMPTY_TENSORS=wasm keeps empty tensors on the wasm kernels, which trap on them: a
 * switch for reproducing that trap (the engine-fault tests), never for serving.
 */
const EMPTY_ON_CPU = process.env['TFMODEL_WASM_EMPTY_TENSORS'] !== 'wasm';

let registered = false;

/** The kernels the cpu backend has and the wasm backend lacks (they run on cpu under wasm). */
export function cpuOnlyKernelNames(targetBackend = 'wasm'): string[] {
  const native = new Set(NATIVE_KERNELS.get(targetBackend) ?? tf.getKernelsForBackend(targetBackend).map((k) => k.kernelName));
  return tf.getKernelsForBackend('cpu').map((k) => k.kernelName).filter((k) => !native.has(k));
}

/** The backend's own kernel names, before fallbacks were added. */
const NATIVE_KERNELS = new Map<string, string[]>();

export function registerCpuFallbackKernels(targetBackend = 'wasm'): string[] {
  if (registered) return [];
  registered = true;
  const replaced = new Map<string, tf.KernelConfig>();
  const cpuKernels = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
  // Every wasm kernel the cpu backend also has is wrapped: broken cases and empty inputs go to cpu.
  for (const kernel of tf.getKernelsForBackend(targetBackend)) {
    if (!cpuKernels.has(kernel.kernelName)) continue;
    replaced.set(kernel.kernelName, kernel);
    tf.unregisterKernel(kernel.kernelName, targetBackend);
  }
  const native = new Set(tf.getKernelsForBackend(targetBackend).map((k) => k.kernelName));
  NATIVE_KERNELS.set(targetBackend, [...native, ...replaced.keys()]);
  const added: string[] = [];
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (native.has(kernel.kernelName)) continue;
    const own = replaced.get(kernel.kernelName);
    const avoidOwn = BROKEN_WASM_KERNELS[kernel.kernelName];
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName: targetBackend,
      // The wasm kernel binds its wasm export in setupFunc when the backend initialises.
      ...(own?.setupFunc ? { setupFunc: own.setupFunc } : {}),
      kernelFunc: (args) => {
        const empty = EMPTY_ON_CPU && (hasEmptyInput(args) || hasEmptyOutput(kernel.kernelName, args));
        if (own && !avoidOwn?.(args) && !empty && !hasComplexInput(args)) return own.kernelFunc(args);
        const { inputs, attrs } = args;
        const backend = args.backend as tf.KernelBackend;
        const cpu = tf.engine().findBackend('cpu');
        const moved: tf.TensorInfo[] = [];
        const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
          if (info.dtype === 'complex64') {
            const copy = cpuComplex(cpu, readComplex(backend, info), info.shape);
            moved.push(copy);
            return copy;
          }
          const values = backend.readSync(info.dataId) as tf.BackendValues;
          const copy = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
          moved.push(copy);
          return copy;
        };
        // Variadic kernels take an array of inputs (Einsum) or a named input holding an array
        // (RaggedTensorToTensor's rowPartitionTensors): keep those shapes.
        const convert = (value: unknown): unknown => (Array.isArray(value) ? value.map(convert) : toCpu(value as tf.TensorInfo));
        const cpuInputs = Array.isArray(inputs)
          ? (inputs as tf.TensorInfo[]).map(toCpu)
          : Object.fromEntries(Object.entries(inputs).filter(([, info]) => info).map(([name, info]) => [name, convert(info)]));
        try {
          const out = COMPLEX_BY_PARTS.has(kernel.kernelName) && hasComplexInput({ ...args, inputs: cpuInputs as tf.NamedTensorInfoMap })
            ? byParts(kernel, cpuInputs as tf.NamedTensorInfoMap, attrs, cpu)
            : kernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, attrs, backend: cpu });
          const outputs = Array.isArray(out) ? out : [out];
          // tfjs's cpu Mean sums x / n, which is 0 over no elements; TensorFlow divides the sum,
          // 0 / 0: NaN (only reached when the reduced axes hold the empty dimension).
          const meanOfNothing = kernel.kernelName === 'Mean' && empty && hasEmptyInput(args);
          const back = outputs.map((o) => {
            let values = cpu.readSync(o.dataId) as tf.BackendValues;
            if (meanOfNothing && values instanceof Float32Array) values = new Float32Array(values.length).fill(NaN);
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

/** Equal and NotEqual on strings run our byte-wise kernel; other dtypes keep the backend's own. */
export function registerStringComparisons(targetBackend = 'wasm'): void {
  for (const name of ['Equal', 'NotEqual'] as const) {
    const own = tf.getKernel(name, targetBackend);
    if (!own) continue;
    const strings = stringComparison(name);
    tf.unregisterKernel(name, targetBackend);
    tf.registerKernel({ ...own, kernelFunc: (args) => (comparesStrings(args) ? strings(args) : own.kernelFunc(args)) });
  }
}
