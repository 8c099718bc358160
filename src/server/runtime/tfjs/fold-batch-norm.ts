/**
 * Folds inference BatchNorm into the convolution or MatMul before it. After constant folding,
 * Keras 3's BatchNormalization is x * scale + shift with per-channel constants (Keras 2 and TF1
 * write FusedBatchNormV3 with is_training false). A chain of such per-channel affine ops of
 * constants (BiasAdd, Add, Sub, Mul, inference FusedBatchNorm) after a Conv2D, depthwise conv or
 * MatMul with constant weights W is x * s + t overall, so the chain becomes W' = W * s per output
 * channel and one BiasAdd of t. The BatchNorm pass over the activations disappears, and the
 * activation after it can then fuse into the convolution (optimize.ts fuse). Results differ from
 * TensorFlow's unfolded order by float32 rounding (the same products, associated differently).
 */
import { getString, getType, hostTensorAttr } from '../graph/attrs.js';
import type { IrNode } from '../graph/ir.js';
import { formatRef, parseRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';
import { DataType } from '../tensor/dtypes.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { readersOf } from './graph-uses.js';

type ValueOf = (node: IrNode) => HostTensor | undefined;

/** The linear ops whose output channel is the last axis of their result (NHWC for convolutions). */
const LINEAR_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MatMul']);

interface Linear {
  readonly node: IrNode;
  readonly filter: HostTensor & { readonly data: Float32Array };
  /** Output channels; filter element i belongs to channel floor(i / stride) % channels. */
  readonly channels: number;
  readonly stride: number;
  readonly outputRank: number;
}

function describeLinear(node: IrNode, filter: HostTensor | undefined): Linear | undefined {
  if (!filter || filter.dtype !== DataType.DT_FLOAT || !(filter.data instanceof Float32Array)) return undefined;
  const data = filter.data;
  const shape = filter.shape;
  const typed = { ...filter, data };
  if (node.op === 'MatMul') {
    if (shape.length !== 2) return undefined;
    const transposed = node.attr['transpose_b']?.value.case === 'b' && node.attr['transpose_b'].value.value;
    const [rows, cols] = shape as [number, number];
    if (transposed) return { node, filter: typed, channels: rows, stride: cols, outputRank: 2 };
    return { node, filter: typed, channels: cols, stride: 1, outputRank: 2 };
  }
  if (shape.length !== 4 || (getString(node, 'data_format') ?? 'NHWC') !== 'NHWC') return undefined;
  // Conv2D: [h, w, in, out]; depthwise: [h, w, in, multiplier] with output channel in * m + j.
  const channels = node.op === 'Conv2D' ? shape[3]! : shape[2]! * shape[3]!;
  return { node, filter: typed, channels, stride: 1, outputRank: 4 };
}

/** A constant usable per output channel: shape [..., 1, C] or a single value, within the output's rank. */
function perChannel(value: HostTensor | undefined, channels: number, outputRank: number): Float32Array | undefined {
  if (!value || value.dtype !== DataType.DT_FLOAT || value.shape.length > outputRank) return undefined;
  const data = value.data as Float32Array;
  if (data.length === 1) return new Float32Array(channels).fill(data[0]!);
  const last = value.shape[value.shape.length - 1];
  return last === channels && value.shape.slice(0, -1).every((d) => d === 1) ? data : undefined;
}

/** y = x * scale + shift per channel: the chain of affine ops folded so far. */
interface Affine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

const FUSED_BATCH_NORMS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
const f32 = Math.fround;

export function foldBatchNorm(body: Body, onlyUse: (name: string) => boolean, valueOf: ValueOf): void {
  const readers = readersOf(body);
  const controlTargets = new Set([...body.nodes.values()].flatMap((n) => n.controlInputs));
  /** The one node reading output 0 of `node`, when nothing else reads any of its outputs. */
  const soleReader = (node: IrNode): IrNode | undefined => {
    const list = readers.get(node.name);
    const reader = onlyUse(node.name) && !controlTargets.has(node.name) && list?.length === 1 ? list[0] : undefined;
    return reader?.inputs.some((ref) => parseRef(ref).node === node.name && parseRef(ref).index === 0) ? reader : undefined;
  };
  const producerValue = (ref: string | undefined): HostTensor | undefined => {
    if (ref === undefined) return undefined;
    const { node, index } = parseRef(ref);
    const producer = body.nodes.get(node);
    return index === 0 && producer ? valueOf(producer) : undefined;
  };
  const readsOtherOutputs = (node: IrNode): boolean =>
    (readers.get(node.name) ?? []).some((reader) => reader.inputs.some((ref) => parseRef(ref).node === node.name && parseRef(ref).index !== 0)) ||
    [...(body.ret?.values() ?? [])].some((ref) => parseRef(ref).node === node.name && parseRef(ref).index !== 0);
  const fromInput = (op: IrNode, from: IrNode, side: number): boolean =>
    parseRef(op.inputs[side] ?? '').node === from.name && parseRef(op.inputs[side] ?? '').index === 0;

  /** The affine map after `op` (reading `from`), or undefined when `op` is not a per-channel affine op of constants. */
  const extend = (op: IrNode, from: IrNode, linear: Linear, { scale, shift }: Affine): Affine | undefined => {
    const { channels, outputRank } = linear;
    if (getType(op, 'T') !== DataType.DT_FLOAT) return undefined;
    if (FUSED_BATCH_NORMS.has(op.op)) {
      const training = op.attr['is_training']?.value;
      if (!fromInput(op, from, 0) || (training?.case === 'b' && training.value) || (getString(op, 'data_format') ?? 'NHWC') !== 'NHWC') return undefined;
      // Its other outputs (batch mean, variance, reserve spaces) go when it becomes a BiasAdd.
      if (readsOtherOutputs(op)) return undefined;
      const [gamma, beta, mean, variance] = op.inputs.slice(1, 5).map((ref) => {
        const value = producerValue(ref);
        return value?.shape.length === 1 ? perChannel(value, channels, 1) : undefined;
      });
      if (!gamma || !beta || !mean || !variance) return undefined;
      const epsilonAttr = op.attr['epsilon']?.value;
      const epsilon = epsilonAttr?.case === 'f' ? epsilonAttr.value : 1e-4;
      const factor = variance.map((v, c) => f32(gamma[c]! * f32(1 / Math.sqrt(f32(v + epsilon)))));
      return {
        scale: scale.map((s, c) => f32(s * factor[c]!)),
        shift: shift.map((t, c) => f32(f32(t * factor[c]!) + f32(beta[c]! - f32(mean[c]! * factor[c]!)))),
      };
    }
    if (op.inputs.length !== 2) return undefined;
    const side = fromInput(op, from, 0) ? 0 : fromInput(op, from, 1) ? 1 : -1;
    if (side < 0) return undefined;
    const other = producerValue(op.inputs[1 - side]);
    switch (op.op) {
      case 'BiasAdd': {
        if ((getString(op, 'data_format') ?? 'NHWC') !== 'NHWC') return undefined;
        const bias = side === 0 && other?.shape.length === 1 ? perChannel(other, channels, 1) : undefined;
        return bias && { scale, shift: shift.map((t, c) => f32(t + bias[c]!)) };
      }
      case 'Add':
      case 'AddV2':
      case 'Sub': {
        const c = perChannel(other, channels, outputRank);
        if (!c || (op.op === 'Sub' && side !== 0)) return undefined;
        const sign = op.op === 'Sub' ? -1 : 1;
        return { scale, shift: shift.map((t, i) => f32(t + sign * c[i]!)) };
      }
      case 'Mul': {
        const c = perChannel(other, channels, outputRank);
        return c && { scale: scale.map((s, i) => f32(s * c[i]!)), shift: shift.map((t, i) => f32(t * c[i]!)) };
      }
      default:
        return undefined;
    }
  };

  for (const candidate of [...body.nodes.values()]) {
    if (!LINEAR_OPS.has(candidate.op) || getType(candidate, 'T') !== DataType.DT_FLOAT || candidate.inputs.length !== 2) continue;
    const linear = describeLinear(candidate, producerValue(candidate.inputs[1]));
    if (!linear) continue;
    let affine: Affine = { scale: new Float32Array(linear.channels).fill(1), shift: new Float32Array(linear.channels) };
    const chain: IrNode[] = [];
    for (let from = candidate, next = soleReader(candidate); next; from = next, next = soleReader(next)) {
      const extended = extend(next, from, linear, affine);
      if (!extended) break;
      affine = extended;
      chain.push(next);
    }
    // A lone BiasAdd is optimize.ts's fuse's business.
    if (chain.length === 0 || (chain.length === 1 && chain[0]!.op === 'BiasAdd')) continue;
    rewrite(body, linear, affine, chain);
  }
}

function rewrite(body: Body, linear: Linear, { scale, shift }: Affine, chain: readonly IrNode[]): void {
  const { node, filter, channels, stride } = linear;
  const folded = new Float32Array(filter.data.length);
  // The product of two float32s is exact in a double; the store rounds it once, as float32 would.
  for (let i = 0, c = 0, k = 0; i < folded.length; i++) {
    folded[i] = filter.data[i]! * scale[c]!;
    if (++k === stride) {
      k = 0;
      if (++c === channels) c = 0;
    }
  }
  const last = chain[chain.length - 1]!;
  const constant = (name: string, value: HostTensor): string => {
    body.nodes.set(name, { name, op: 'Const', inputs: [], controlInputs: [], device: '', attr: { dtype: node.attr['T']!, value: hostTensorAttr(value) } });
    return formatRef(name, 0);
  };
  node.inputs[1] = constant(`${node.name}/tfm_folded_filter`, { dtype: DataType.DT_FLOAT, shape: filter.shape, data: folded });
  const biasRef = constant(`${last.name}/tfm_folded_bias`, { dtype: DataType.DT_FLOAT, shape: [channels], data: shift });
  const controlInputs = new Set<string>();
  for (const gone of chain) {
    gone.controlInputs.forEach((c) => controlInputs.add(c));
    body.nodes.delete(gone.name);
  }
  const format = node.attr['data_format'];
  body.nodes.set(last.name, {
    name: last.name, op: 'BiasAdd', inputs: [formatRef(node.name, 0), biasRef], controlInputs: [...controlInputs], device: last.device,
    attr: { T: node.attr['T']!, ...(node.op !== 'MatMul' && format ? { data_format: format } : {}) },
  });
}
