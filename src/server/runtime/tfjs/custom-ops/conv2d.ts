/**
 * Conv2D and _FusedConv2D, grouped convolution included. TensorFlow infers the groups from the
 * shapes: a filter [kh, kw, C / groups, O] on C input channels (ConvNeXt, ResNeXt, Keras
 * Conv2D(groups=...)); tfjs's conv2d takes one group only. Ungrouped calls go straight to tfjs's
 * conv2d / fused.conv2d with the parameters its own converter derives; grouped ones run as a
 * depthwise convolution when every group has one input channel, else one convolution per group,
 * concatenated along the channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, unimplemented } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import type { CustomOpImpl } from './context.js';

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'sigmoid' | 'prelu';
type Padding = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvParams {
  strides: [number, number];
  dilations: [number, number];
  pad: Padding;
  dataFormat: 'NHWC' | 'NCHW';
  /** _FusedConv2D only: whether args[0] is a bias, and the activation after it. */
  biasAdd: boolean;
  activation: Activation;
  leakyreluAlpha: number;
}

const decoder = new TextDecoder();
const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  Relu: 'relu', Relu6: 'relu6', Elu: 'elu', LeakyRelu: 'leakyrelu', Sigmoid: 'sigmoid', Prelu: 'prelu',
};

function ints(node: IrNode, name: string, fallback: number[]): number[] {
  const v = node.attr[name]?.value;
  return v?.case === 'list' && v.value.i.length > 0 ? v.value.i.map(Number) : fallback;
}

function str(node: IrNode, name: string, fallback: string): string {
  const v = node.attr[name]?.value;
  return v?.case === 's' ? decoder.decode(v.value) : fallback;
}

const paramsCache = new WeakMap<IrNode, ConvParams>();

function paramsOf(node: IrNode): ConvParams {
  const cached = paramsCache.get(node);
  if (cached) return cached;
  const dataFormat = str(node, 'data_format', 'NHWC');
  if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') throw unimplemented(`${node.op} data_format ${dataFormat} is not supported`);
  const [h, w] = dataFormat === 'NHWC' ? [1, 2] : [2, 3];
  const strides = ints(node, 'strides', [1, 1, 1, 1]);
  const dilations = ints(node, 'dilations', [1, 1, 1, 1]);
  const padding = str(node, 'padding', 'VALID');
  let pad: Padding;
  if (padding === 'EXPLICIT') {
    const p = ints(node, 'explicit_paddings', []);
    if (p.length !== 8) throw invalidArgument(`explicit_paddings attribute must contain 8 values, but got: ${p.length}`);
    pad = [[p[0]!, p[1]!], [p[2]!, p[3]!], [p[4]!, p[5]!], [p[6]!, p[7]!]];
  } else {
    pad = padding === 'SAME' ? 'same' : 'valid';
  }
  const fusedAttr = node.attr['fused_ops']?.value;
  const fused = fusedAttr?.case === 'list' ? fusedAttr.value.s.map((s) => decoder.decode(s)) : [];
  const biasAdd = fused[0] === 'BiasAdd';
  const rest = biasAdd ? fused.slice(1) : fused;
  if (rest.length > 1 || (rest[0] !== undefined && !ACTIVATIONS[rest[0]])) {
    throw unimplemented(`${node.op} with fused_ops [${fused.join(', ')}] is not supported`);
  }
  const alpha = node.attr['leakyrelu_alpha']?.value;
  const params: ConvParams = {
    strides: [strides[h]!, strides[w]!],
    dilations: [dilations[h]!, dilations[w]!],
    pad,
    dataFormat,
    biasAdd,
    activation: rest[0] ? ACTIVATIONS[rest[0]]! : 'linear',
    leakyreluAlpha: alpha?.case === 'f' ? alpha.value : 0.2,
  };
  paramsCache.set(node, params);
  return params;
}

function conv(x: tf.Tensor4D, filter: tf.Tensor4D, p: ConvParams, bias?: tf.Tensor, prelu?: tf.Tensor): tf.Tensor4D {
  if (!bias && p.activation === 'linear') return tf.conv2d(x, filter, p.strides, p.pad, p.dataFormat, p.dilations);
  return tf.fused.conv2d({
    x, filter, strides: p.strides, pad: p.pad, dataFormat: p.dataFormat, dilations: p.dilations,
    bias, activation: p.activation, preluActivationWeights: prelu, leakyreluAlpha: p.leakyreluAlpha,
  });
}

/** One group per input channel: a depthwise convolution with multiplier O / C (same channel order). */
function depthwise(x: tf.Tensor4D, filter: tf.Tensor4D, channels: number, p: ConvParams, bias?: tf.Tensor, prelu?: tf.Tensor): tf.Tensor4D {
  const [kh, kw, , out] = filter.shape;
  const reshaped = tf.reshape(filter, [kh, kw, channels, out / channels]) as tf.Tensor4D;
  if (!bias && p.activation === 'linear') return tf.depthwiseConv2d(x, reshaped, p.strides, p.pad, p.dataFormat, p.dilations);
  return tf.fused.depthwiseConv2d({
    x, filter: reshaped, strides: p.strides, pad: p.pad as 'valid' | 'same', dataFormat: p.dataFormat, dilations: p.dilations,
    bias, activation: p.activation, preluActivationWeights: prelu, leakyreluAlpha: p.leakyreluAlpha,
  });
}

function grouped(x: tf.Tensor4D, filter: tf.Tensor4D, groups: number, p: ConvParams, bias?: tf.Tensor, prelu?: tf.Tensor): tf.Tensor4D {
  const axis = p.dataFormat === 'NHWC' ? 3 : 1;
  const xs = tf.split(x, groups, axis) as tf.Tensor4D[];
  const filters = tf.split(filter, groups, 3) as tf.Tensor4D[];
  // Bias and activation are per output channel: each group takes its slice of the bias; a PReLU
  // alpha (any broadcast shape) applies after the concatenation.
  const biases = bias ? tf.split(bias, groups, bias.rank - 1) : [];
  const perGroup: ConvParams = p.activation === 'prelu' ? { ...p, activation: 'linear' } : p;
  const outs = xs.map((xg, g) => conv(xg, filters[g]!, perGroup, biases[g]));
  const joined = tf.concat(outs, axis) as tf.Tensor4D;
  return p.activation === 'prelu' ? (tf.prelu(joined, prelu!) as tf.Tensor4D) : joined;
}

export const conv2d: CustomOpImpl = (inputs, node) => {
  const [x, filter] = inputs as [tf.Tensor4D, tf.Tensor4D];
  const p = paramsOf(node);
  if (x.rank !== 4) throw invalidArgument(`input must be 4-dimensional[${x.shape}]`);
  if (filter.rank !== 4) throw invalidArgument(`filter must be 4-dimensional: [${filter.shape}]`);
  const bias = p.biasAdd ? inputs[2] : undefined;
  const prelu = p.activation === 'prelu' ? inputs[p.biasAdd ? 3 : 2] : undefined;
  const channels = x.shape[p.dataFormat === 'NHWC' ? 3 : 1];
  const [, , filterDepth, outDepth] = filter.shape;
  if (channels === filterDepth) return conv(x, filter, p, bias, prelu);
  if (filterDepth === 0 || channels % filterDepth !== 0) {
    throw invalidArgument(`input depth must be evenly divisible by filter depth: ${channels} vs ${filterDepth}`);
  }
  const groups = channels / filterDepth;
  if (outDepth % groups !== 0) {
    throw invalidArgument(`output depth must be evenly divisible by number of groups: ${outDepth} vs ${groups}`);
  }
  // (tfjs's fused depthwise kernel takes no explicit padding, nor a PReLU here.)
  const asDepthwise = filterDepth === 1 && p.dataFormat === 'NHWC' && p.activation !== 'prelu' && typeof p.pad === 'string';
  return tf.tidy(() => (asDepthwise
    ? depthwise(x, filter, channels, p, bias, prelu)
    : grouped(x, filter, groups, p, bias, prelu)));
};
