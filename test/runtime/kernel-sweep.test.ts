/**
 * The sweep: every kernel our fallback tables route (BROKEN_WASM_KERNELS, the cpu kernels wasm
 * lacks, the string comparisons) and every kernel the custom ops and graph rewrites call, on every
 * dtype tfjs carries, run on wasm (with our fallbacks and guard) and on tfjs's reference cpu
 * backend. For each pair, wasm must give the cpu's answer or fail loudly; a different answer is
 * the bug class this file exists for (the wasm string Equal that printed "Unsupported input_type
 * 3" and answered garbage). The dtypes swept per kernel are those TensorFlow's OpDef of the op
 * allows (a graph cannot hold any other), mapped to the dtypes tfjs computes in.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { tfjsDtypeOf } from '../../src/server/runtime/tfjs/convert.js';
import { BROKEN_WASM_KERNELS, cpuOnlyKernelNames } from '../../src/server/runtime/tfjs/kernel-fallback.js';
import { KernelFailure } from '../../src/server/runtime/tfjs/kernel-guard.js';
import { initTfjs } from '../../src/server/runtime/tfjs/setup.js';
import { oraclePython } from '../support/tf-oracle.js';

type DType = 'float32' | 'int32' | 'bool' | 'string';
const DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'string'];

const VALUES: Record<DType, ReadonlyArray<number | string>> = {
  float32: [-2.5, -1, 0, 0.5, 3, 7.25],
  int32: [-3, -1, 0, 2, 7, 260],
  bool: [1, 0, 1, 1, 0, 0],
  string: ['a', '', 'b', 'a', '\u00e9', 'zz'],
};
const OTHER: Record<DType, ReadonlyArray<number | string>> = {
  float32: [1.5, -1, 2, 0.5, -3, 2],
  int32: [2, -1, 5, 2, -7, 3],
  bool: [1, 1, 0, 1, 0, 1],
  string: ['a', 'b', 'b', '', '\u00e9', 'z'],
};

const t = (dtype: DType, shape = [2, 3], values = VALUES[dtype]): tf.Tensor =>
  tf.tensor(values as number[], shape, dtype === 'string' ? 'string' : dtype);
const i32 = (values: number[], shape = [values.length]): tf.Tensor => tf.tensor(values, shape, 'int32');
const f32 = (values: number[], shape = [values.length]): tf.Tensor => tf.tensor(values, shape, 'float32');

interface Call {
  inputs: Record<string, tf.Tensor | tf.Tensor[]>;
  attrs?: Record<string, unknown>;
}
type Builder = (dtype: DType) => Call;

const unary: Builder = (d) => ({ inputs: { x: t(d) } });
const binary: Builder = (d) => ({ inputs: { a: t(d), b: t(d, [3], OTHER[d].slice(0, 3)) } });
const reduce: Builder = (d) => ({ inputs: { x: t(d) }, attrs: { axis: [1], keepDims: false } });

const complexInput = (): tf.Tensor => tf.complex(t('float32'), t('float32', [2, 3], OTHER.float32));
const conv2dAttrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };

const UNARY = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Cos', 'Cosh', 'Elu', 'Erf', 'Exp', 'Expm1', 'Floor',
  'IsFinite', 'IsInf', 'IsNan', 'Log', 'Log1p', 'LogicalNot', 'Neg', 'Reciprocal', 'Relu', 'Relu6', 'Round', 'Rsqrt',
  'Selu', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softplus', 'Sqrt', 'Square', 'Tan', 'Tanh', 'ZerosLike', 'OnesLike', 'Identity',
];
const BINARY = [
  'Add', 'Sub', 'Multiply', 'RealDiv', 'FloorDiv', 'Maximum', 'Minimum', 'Mod', 'Pow', 'SquaredDifference', 'Atan2',
  'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'BitwiseAnd',
];
const REDUCE = ['Sum', 'Prod', 'Max', 'Min', 'Mean', 'All', 'Any'];

const BUILDERS: Record<string, Builder> = {
  ...Object.fromEntries(UNARY.map((k) => [k, unary])),
  ...Object.fromEntries(BINARY.map((k) => [k, binary])),
  ...Object.fromEntries(REDUCE.map((k) => [k, reduce])),
  ArgMax: (d) => ({ inputs: { x: t(d) }, attrs: { axis: 1 } }),
  ArgMin: (d) => ({ inputs: { x: t(d) }, attrs: { axis: 1 } }),
  Cumsum: (d) => ({ inputs: { x: t(d) }, attrs: { axis: 1, exclusive: false, reverse: false } }),
  Cumprod: (d) => ({ inputs: { x: t(d) }, attrs: { axis: 1, exclusive: true, reverse: true } }),
  Cast: (d) => ({ inputs: { x: t(d) }, attrs: { dtype: d === 'bool' ? 'int32' : 'bool' } }),
  ClipByValue: (d) => ({ inputs: { x: t(d) }, attrs: { clipValueMin: 0, clipValueMax: 255 } }),
  Select: (d) => ({ inputs: { condition: t('bool'), t: t(d), e: t(d, [2, 3], OTHER[d]) } }),
  GatherV2: (d) => ({ inputs: { x: t(d), indices: i32([2, 0, 1, 1], [2, 2]) }, attrs: { axis: 1, batchDims: 1 } }),
  GatherNd: (d) => ({ inputs: { params: t(d), indices: i32([1, 2, 0, 0], [2, 2]) } }),
  Reverse: (d) => ({ inputs: { x: t(d) }, attrs: { dims: [1] } }),
  StridedSlice: (d) => ({
    inputs: { x: t(d) },
    attrs: { begin: [0, 2], end: [2, -4], strides: [1, -1], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
  }),
  Slice: (d) => ({ inputs: { x: t(d) }, attrs: { begin: [0, 1], size: [2, 2] } }),
  Tile: (d) => ({ inputs: { x: t(d) }, attrs: { reps: [2, 1] } }),
  Transpose: (d) => ({ inputs: { x: t(d) }, attrs: { perm: [1, 0] } }),
  Reshape: (d) => ({ inputs: { x: t(d) }, attrs: { shape: [3, 2] } }),
  ExpandDims: (d) => ({ inputs: { input: t(d) }, attrs: { dim: 1 } }),
  Concat: (d) => ({ inputs: [t(d), t(d, [2, 3], OTHER[d])] as unknown as Record<string, tf.Tensor>, attrs: { axis: 1 } }),
  Pack: (d) => ({ inputs: [t(d), t(d, [2, 3], OTHER[d])] as unknown as Record<string, tf.Tensor>, attrs: { axis: 1 } }),
  Unpack: (d) => ({ inputs: { value: t(d) }, attrs: { axis: 1 } }),
  SplitV: (d) => ({ inputs: { x: t(d) }, attrs: { numOrSizeSplits: [1, 2], axis: 1 } }),
  PadV2: (d) => ({ inputs: { x: t(d) }, attrs: { paddings: [[1, 0], [0, 2]], constantValue: d === 'string' ? '' : 1 } }),
  MirrorPad: (d) => ({ inputs: { x: t(d) }, attrs: { paddings: [[1, 0], [0, 2]], mode: 'reflect' } }),
  Fill: (d) => ({ inputs: {}, attrs: { shape: [2, 2], value: d === 'string' ? 'z' : d === 'bool' ? true : 3, dtype: d } }),
  OneHot: (d) => ({ inputs: { indices: i32([1, 0, 3]) }, attrs: { depth: 3, onValue: 5, offValue: -1, dtype: d === 'string' ? 'float32' : d } }),
  BatchMatMul: (d) => ({ inputs: { a: t(d), b: t(d, [3, 2], OTHER[d]) }, attrs: { transposeA: false, transposeB: false } }),
  TopK: (d) => ({ inputs: { x: t(d) }, attrs: { k: 2, sorted: true } }),
  Unique: (d) => ({ inputs: { x: t(d, [6]) }, attrs: { axis: 0 } }),
  Where: (d) => ({ inputs: { condition: t(d) } }),
  Bincount: (d) => ({ inputs: { x: i32([0, 1, 1, 3]), weights: t(d, [4], VALUES[d].slice(0, 4)) }, attrs: { size: 4 } }),
  DenseBincount: (d) => ({ inputs: { x: i32([0, 1, 1, 3]), weights: t(d, [4], VALUES[d].slice(0, 4)) }, attrs: { size: 4, binaryOutput: false } }),
  UnsortedSegmentSum: (d) => ({ inputs: { x: t(d), segmentIds: i32([1, 0]) }, attrs: { numSegments: 3 } }),
  ScatterNd: (d) => ({ inputs: { indices: i32([1, 0], [2, 1]), updates: t(d) }, attrs: { shape: [3, 3] } }),
  TensorScatterUpdate: (d) => ({ inputs: { tensor: t(d), indices: i32([1], [1, 1]), updates: t(d, [1, 3], OTHER[d].slice(0, 3)) } }),
  Conv2D: (d) => ({ inputs: { x: t(d, [1, 2, 3, 1]), filter: t(d, [2, 2, 1, 1], VALUES[d].slice(0, 4)) }, attrs: conv2dAttrs }),
  FusedConv2D: (d) => ({
    inputs: { x: t(d, [1, 2, 3, 1]), filter: t(d, [2, 2, 1, 1], VALUES[d].slice(0, 4)), bias: t(d, [1], OTHER[d].slice(0, 1)) },
    attrs: { ...conv2dAttrs, activation: 'relu', leakyreluAlpha: 0.2 },
  }),
  DepthwiseConv2dNative: (d) => ({ inputs: { x: t(d, [1, 1, 3, 2]), filter: t(d, [1, 2, 2, 1], VALUES[d].slice(0, 4)) }, attrs: conv2dAttrs }),
  FusedDepthwiseConv2D: (d) => ({
    inputs: { x: t(d, [1, 1, 3, 2]), filter: t(d, [1, 2, 2, 1], VALUES[d].slice(0, 4)), bias: t(d, [2], OTHER[d].slice(0, 2)) },
    attrs: { ...conv2dAttrs, activation: 'relu6', leakyreluAlpha: 0.2 },
  }),
  Einsum: (d) => ({ inputs: [t(d), t(d, [3, 2], OTHER[d])] as unknown as Record<string, tf.Tensor>, attrs: { equation: 'ij,jk->ik' } }),
  Complex: (d) => ({ inputs: { real: t(d), imag: t(d, [2, 3], OTHER[d]) } }),
  // complex64 inputs (made on the backend under test: on wasm they cross to the cpu kernels).
  Real: () => ({ inputs: { input: complexInput() } }),
  Imag: () => ({ inputs: { input: complexInput() } }),
  ComplexAbs: () => ({ inputs: { x: complexInput() } }),
  LeakyRelu: (d) => ({ inputs: { x: t(d) }, attrs: { alpha: 0.2 } }),
  Prelu: (d) => ({ inputs: { x: t(d), alpha: t(d, [3], OTHER[d].slice(0, 3)) } }),
  Step: (d) => ({ inputs: { x: t(d) }, attrs: { alpha: 0.5 } }),
  Softmax: (d) => ({ inputs: { logits: t(d) }, attrs: { dim: -1 } }),
  Range: (d) => ({ inputs: {}, attrs: { start: 1, stop: 7, step: 2, dtype: d } }),
  LinSpace: () => ({ inputs: {}, attrs: { start: 1, stop: 7, num: 4 } }),
  SearchSorted: (d) => ({ inputs: { sortedSequence: f32([0, 1, 2, 3, 4, 5], [2, 3]), values: t(d) }, attrs: { side: 'left' } }),
  StringToHashBucketFast: (d) => ({ inputs: { input: t(d) }, attrs: { numBuckets: 7 } }),
  SparseToDense: (d) => ({
    inputs: { sparseIndices: i32([0, 1, 2, 0], [2, 2]), sparseValues: t(d, [2], VALUES[d].slice(0, 2)), defaultValue: t(d, [], [OTHER[d][0]!]) },
    attrs: { outputShape: [3, 3] },
  }),
  RaggedTensorToTensor: (d) => ({
    inputs: { shape: i32([2, 3]), values: t(d, [3], VALUES[d].slice(0, 3)), defaultValue: t(d, [], [OTHER[d][0]!]), rowPartitionTensors: [i32([0, 1, 3])] },
    attrs: { rowPartitionTypes: ['ROW_SPLITS'] },
  }),
};

/** The TensorFlow op of a kernel and its input arg (or type attr) whose dtype the sweep varies. */
const TF_OP: Record<string, [op: string, arg: string]> = {
  Multiply: ['Mul', 'x'], Concat: ['ConcatV2', 'values'], Reverse: ['ReverseV2', 'tensor'], Select: ['SelectV2', 't'],
  GatherV2: ['GatherV2', 'params'], GatherNd: ['GatherNd', 'params'], Unpack: ['Unpack', 'value'], Pack: ['Pack', 'values'],
  SplitV: ['SplitV', 'value'], PadV2: ['PadV2', 'input'], MirrorPad: ['MirrorPad', 'input'], Fill: ['Fill', 'T'], OneHot: ['OneHot', 'T'],
  BatchMatMul: ['BatchMatMulV2', 'x'], TopK: ['TopKV2', 'input'], Where: ['Where', 'input'], Range: ['Range', 'Tidx'],
  Bincount: ['Bincount', 'weights'], DenseBincount: ['DenseBincount', 'weights'], UnsortedSegmentSum: ['UnsortedSegmentSum', 'data'],
  ScatterNd: ['ScatterNd', 'updates'], TensorScatterUpdate: ['TensorScatterUpdate', 'tensor'], Einsum: ['Einsum', 'inputs'],
  Complex: ['Complex', 'real'], SearchSorted: ['LowerBound', 'values'], SparseToDense: ['SparseToDense', 'sparse_values'],
  RaggedTensorToTensor: ['RaggedTensorToTensor', 'values'], Cast: ['Cast', 'SrcT'], ExpandDims: ['ExpandDims', 'input'],
  Softmax: ['Softmax', 'logits'], Slice: ['Slice', 'input'], StridedSlice: ['StridedSlice', 'input'], Tile: ['Tile', 'input'],
  Reshape: ['Reshape', 'tensor'], Unique: ['Unique', 'x'], ArgMax: ['ArgMax', 'input'], ArgMin: ['ArgMin', 'input'],
  Cumsum: ['Cumsum', 'x'], Cumprod: ['Cumprod', 'x'], LeakyRelu: ['LeakyRelu', 'features'], Relu: ['Relu', 'features'],
  Relu6: ['Relu6', 'features'], Elu: ['Elu', 'features'], Selu: ['Selu', 'features'], Softplus: ['Softplus', 'features'],
  Sum: ['Sum', 'input'], Prod: ['Prod', 'input'], Max: ['Max', 'input'], Min: ['Min', 'input'], Mean: ['Mean', 'input'],
  All: ['All', 'input'], Any: ['Any', 'input'], StringToHashBucketFast: ['StringToHashBucketFast', 'input'],
  ClipByValue: ['ClipByValue', 't'], Transpose: ['Transpose', 'x'], Atan2: ['Atan2', 'y'],
  // complex64 in, float32 out: swept once, through the float output dtype.
  Real: ['Real', 'Tout'], Imag: ['Imag', 'Tout'], ComplexAbs: ['ComplexAbs', 'Tout'],
  Conv2D: ['Conv2D', 'input'], FusedConv2D: ['_FusedConv2D', 'input'], DepthwiseConv2dNative: ['DepthwiseConv2dNative', 'input'],
  FusedDepthwiseConv2D: ['DepthwiseConv2dNative', 'input'],
  // tfjs-only kernels the converter maps TensorFlow patterns to: float32 graphs only.
  Prelu: ['Elu', 'features'], Step: ['Elu', 'features'], LinSpace: ['LinSpace', 'start'],
};

/**
 * Asks TensorFlow's op registry which dtypes each kernel's varied input may have: the arg's fixed
 * type, or the allowed_values of its type attr (all types when unrestricted).
 */
const ALLOWED_TYPES_PY = `
import json, sys
from tensorflow.python.framework import op_def_registry
out = {}
for kernel, (op, name) in json.load(sys.stdin).items():
    d = op_def_registry.get(op)
    arg = next((a for a in d.input_arg if a.name == name), None) if name else d.input_arg[0]
    if arg is not None and arg.type:
        out[kernel] = [arg.type]
        continue
    attr_name = arg.type_attr or arg.type_list_attr if arg is not None else name
    attr = next(a for a in d.attr if a.name == attr_name)
    out[kernel] = list(attr.allowed_values.list.type) or None
print(json.dumps(out))
`;

function allowedDtypes(python: string, kernels: readonly string[]): Map<string, DType[]> {
  const request = Object.fromEntries(kernels.map((k) => [k, TF_OP[k] ?? [k, '']]));
  const out = execFileSync(python, ['-c', ALLOWED_TYPES_PY], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const table = JSON.parse(out) as Record<string, DataType[] | null>;
  return new Map(kernels.map((k) => {
    const types = table[k] ?? [DataType.DT_FLOAT, DataType.DT_INT32, DataType.DT_BOOL, DataType.DT_STRING];
    const tfjs = new Set<string>();
    for (const dtype of types) {
      try {
        tfjs.add(tfjsDtypeOf(dtype));
      } catch {
        // complex, resource, variant: not a tfjs dtype
      }
    }
    return [k, DTYPES.filter((d) => tfjs.has(d))];
  }));
}

/** Kernels the sweep must cover: all that our tables name, plus the string comparisons. */
function tableKernels(): string[] {
  return [...new Set([...Object.keys(BROKEN_WASM_KERNELS), ...cpuOnlyKernelNames(), 'Equal', 'NotEqual'])];
}

type Outcome = { error: string; guard: boolean } | { dtype: string; shape: number[]; values: unknown[] };

function run(backend: string, kernel: string, dtype: DType): Outcome {
  assert.ok(tf.setBackend(backend));
  return tf.tidy(() => {
    try {
      const { inputs, attrs } = BUILDERS[kernel]!(dtype);
      const out = tf.engine().runKernel(kernel, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap);
      const list = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
      return {
        dtype: list.map((o) => o.dtype).join(','),
        shape: list.flatMap((o) => [...o.shape, -1]),
        values: list.flatMap((o) => {
          const v = o.dtype === 'string' ? (o.dataSync() as unknown as Uint8Array[]).map((s) => Buffer.from(s).toString('hex')) : Array.from(o.dataSync() as ArrayLike<number>);
          return [...v, '|'];
        }),
      };
    } catch (error) {
      return { error: String(error instanceof Error ? error.message : error), guard: error instanceof KernelFailure };
    }
  });
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return a === b || Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
  }
  return a === b;
}

const KERNELS = Object.keys(BUILDERS);
const oracle = oraclePython();

describe('wasm vs cpu sweep over the fallback and custom-op kernels', function () {
  this.timeout(60_000);
  if (!oracle.python) {
    it.skip(`skipped: ${oracle.skipReason}`);
    return;
  }
  const allowed = allowedDtypes(oracle.python, KERNELS);
  before(async () => initTfjs('wasm'));
  after(() => tf.setBackend('wasm'));

  it('has a case builder for every kernel the fallback tables name', () => {
    const missing = tableKernels().filter((k) => !BUILDERS[k] && !['Draw', 'StaticRegexReplace', 'RaggedGather', 'RaggedRange', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'FFT', 'IFFT'].includes(k));
    assert.deepEqual(missing, []);
  });

  for (const kernel of KERNELS) {
    for (const dtype of allowed.get(kernel)!) {
      it(`${kernel} ${dtype}: wasm answers as cpu does, or fails`, () => {
        const cpu = run('cpu', kernel, dtype);
        const wasm = run('wasm', kernel, dtype);
        if ('error' in wasm) return; // a loud failure is allowed; an answer must be right
        assert.ok(!('error' in cpu), `wasm answered ${JSON.stringify(wasm.values)} where the cpu backend refuses (${'error' in cpu ? cpu.error : ''})`);
        // tfjs's cpu FloorDiv answers int32 whatever its inputs; TensorFlow keeps the input dtype.
        if (!(kernel === 'FloorDiv' && dtype === 'float32')) assert.equal(wasm.dtype, cpu.dtype);
        assert.deepEqual(wasm.shape, cpu.shape);
        const bad = wasm.values.findIndex((v, i) => !same(v, cpu.values[i]));
        assert.equal(bad, -1, `element ${bad}: wasm ${String(wasm.values[bad])}, cpu ${String(cpu.values[bad])}\nwasm ${JSON.stringify(wasm.values)}\ncpu  ${JSON.stringify(cpu.values)}`);
      });
    }
  }
});
