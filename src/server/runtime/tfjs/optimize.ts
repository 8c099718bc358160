/**
 * Graph optimisations for tfjs, after freezing: constant folding (computed with tfjs's own ops, so
 * values are exactly what execution would compute), BatchNorm folded into the weights before it
 * (fold-batch-norm.ts), and fusion of Conv2D/DepthwiseConv2dNative/
 * MatMul + BiasAdd + activation into tfjs's fused kernels. Keras inference graphs are full of both:
 * BatchNorm's scale and shift are constant expressions, and every Dense/Conv layer is
 * op + BiasAdd + activation; unfused, each is a separate pass over the activations.
 */
import { create } from '@bufbuild/protobuf';
import * as tf from '@tensorflow/tfjs-core';
import { AttrValueSchema, AttrValue_ListValueSchema } from '../../../gen/tensorflow/core/framework/attr_value_pb.js';
import { boolAttr, floatAttr, getString, getTensor, getType, hostTensorAttr, intAttr } from '../graph/attrs.js';
import type { FrozenGraph } from '../graph/freeze.js';
import { type IrNode, formatRef, parseRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';
import { VARIABLE_ATTR } from '../graph/names.js';
import { DataType } from '../tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../tensor/host-tensor.js';
import { fromTfjsSync, toTfjs } from './convert.js';
import { keepLookupRank } from './lookup-rank.js';
import { linkReservedSizes } from './tensor-list-size.js';
import { unrollStaticLoops } from './unroll-while.js';
import { fuseElementwise } from './fuse-elementwise.js';
import { foldBatchNorm } from './fold-batch-norm.js';
import { dropUnreadConsts, singleUseTest } from './graph-uses.js';

type Folder = (inputs: tf.Tensor[], node: IrNode) => tf.Tensor;

const FOLDERS: Readonly<Record<string, Folder>> = {
  Identity: ([x]) => tf.clone(x!),
  Reshape: ([x, shape]) => tf.reshape(x!, Array.from(shape!.dataSync())),
  Squeeze: ([x], node) => {
    const dims = node.attr['squeeze_dims']?.value;
    return tf.squeeze(x!, dims?.case === 'list' && dims.value.i.length > 0 ? dims.value.i.map(Number) : undefined);
  },
  ExpandDims: ([x, axis]) => tf.expandDims(x!, axis!.dataSync()[0]),
  Add: ([a, b]) => tf.add(a!, b!),
  AddV2: ([a, b]) => tf.add(a!, b!),
  Sub: ([a, b]) => tf.sub(a!, b!),
  Mul: ([a, b]) => tf.mul(a!, b!),
  RealDiv: ([a, b]) => tf.div(a!, b!),
  Maximum: ([a, b]) => tf.maximum(a!, b!),
  Minimum: ([a, b]) => tf.minimum(a!, b!),
  Rsqrt: ([x]) => tf.rsqrt(x!),
  Sqrt: ([x]) => tf.sqrt(x!),
  Neg: ([x]) => tf.neg(x!),
  Reciprocal: ([x]) => tf.reciprocal(x!),
  Square: ([x]) => tf.square(x!),
};

/** Only these dtypes fold: tfjs computes them exactly as TensorFlow would. */
const FOLDABLE_DTYPES = new Set([DataType.DT_FLOAT, DataType.DT_INT32]);

const ACTIVATIONS = new Set(['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid']);

export function optimizeForTfjs(frozen: FrozenGraph): void {
  // First: the unrolled bodies then fold and fuse with the rest of the graph.
  unrollStaticLoops(frozen);
  const protectedTop = new Set<string>();
  for (const binding of frozen.signatures) {
    for (const ref of binding.inputs.values()) if (ref) protectedTop.add(parseRef(ref).node);
    for (const name of binding.outputs.values()) protectedTop.add(name);
  }
  const values = (node: IrNode): HostTensor | undefined => {
    if (node.op !== 'Const') return undefined;
    const key = getString(node, VARIABLE_ATTR);
    if (key !== undefined) return frozen.variables.get(key);
    const proto = getTensor(node, 'value');
    return proto ? tensorFromProto(proto) : undefined;
  };
  // Weights a run may assign stay as they are.
  const constantWeights = (node: IrNode): HostTensor | undefined => {
    const key = getString(node, VARIABLE_ATTR);
    return key !== undefined && frozen.mutableVariables.has(key) ? undefined : values(node);
  };
  const top = frozen.nodes as Map<string, IrNode>;
  const bodies: Array<{ body: Body; keep: ReadonlySet<string> }> = [
    { body: { name: '', nodes: top }, keep: protectedTop },
    ...[...frozen.functions.values()].map((fn) => ({ body: fn as Body, keep: new Set([...fn.ret.values()].map((r) => parseRef(r).node)) })),
  ];
  for (const { body, keep } of bodies) {
    keepLookupRank(body);
    linkReservedSizes(body);
    foldConstants(body, values, keep);
    foldBatchNorm(body, singleUseTest(body, keep, frozen), constantWeights);
    fuse(body, keep, frozen);
    fuseScaleShift(body, keep, frozen, values);
    fuseElementwise(body, keep);
    dropUnreadConsts(body, keep, frozen);
  }
}

function foldConstants(body: Body, valueOf: (node: IrNode) => HostTensor | undefined, keep: ReadonlySet<string>): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const node of [...body.nodes.values()]) {
      const folder = FOLDERS[node.op];
      const dtype = getType(node, 'T');
      if (!folder || keep.has(node.name) || dtype === undefined || !FOLDABLE_DTYPES.has(dtype)) continue;
      const inputs = node.inputs.map((ref) => {
        const { node: name, index } = parseRef(ref);
        const producer = body.nodes.get(name);
        return index === 0 && producer ? valueOf(producer) : undefined;
      });
      if (inputs.some((v) => v === undefined || (v.dtype !== DataType.DT_FLOAT && v.dtype !== DataType.DT_INT32))) continue;
      const tensors = inputs.map((v) => toTfjs(v!, 'check'));
      const out = folder(tensors, node);
      const result = fromTfjsSync(out, dtype);
      for (const t of [...tensors, out]) t.dispose();
      body.nodes.set(node.name, {
        name: node.name, op: 'Const', inputs: [], controlInputs: [], device: node.device,
        attr: { dtype: node.attr['T']!, value: hostTensorAttr(result) },
      });
      changed = true;
    }
  }
}

/** Merges op -> BiasAdd(const) [-> activation] chains whose intermediate values nobody else reads. */
function fuse(body: Body, keep: ReadonlySet<string>, frozen: FrozenGraph): void {
  const onlyUse = singleUseTest(body, keep, frozen);

  for (const node of [...body.nodes.values()]) {
    const fusedOp = node.op === 'Conv2D' ? '_FusedConv2D' : node.op === 'DepthwiseConv2dNative' ? 'FusedDepthwiseConv2dNative' : node.op === 'MatMul' ? '_FusedMatMul' : undefined;
    if (!fusedOp || getType(node, 'T') !== DataType.DT_FLOAT || !onlyUse(node.name)) continue;
    const biasAdd = [...body.nodes.values()].find((n) => n.op === 'BiasAdd' && parseRef(n.inputs[0] ?? '').node === node.name);
    const bias = biasAdd && body.nodes.get(parseRef(biasAdd.inputs[1] ?? '').node);
    if (!biasAdd || bias?.op !== 'Const') continue;
    if (fusedOp !== '_FusedMatMul' && getString(biasAdd, 'data_format') !== getString(node, 'data_format')) continue;
    const activation = onlyUse(biasAdd.name)
      ? [...body.nodes.values()].find((n) => ACTIVATIONS.has(n.op) && parseRef(n.inputs[0] ?? '').node === biasAdd.name)
      : undefined;
    const last = activation ?? biasAdd;
    const fusedOps = ['BiasAdd', ...(activation ? [activation.op] : [])];
    const fused: IrNode = {
      ...node,
      name: last.name,
      op: fusedOp,
      inputs: [node.inputs[0]!, node.inputs[1]!, biasAdd.inputs[1]!],
      controlInputs: [],
      attr: {
        ...node.attr,
        fused_ops: create(AttrValueSchema, {
          value: { case: 'list', value: create(AttrValue_ListValueSchema, { s: fusedOps.map((o) => new TextEncoder().encode(o)) }) },
        }),
        num_args: intAttr(1),
        ...(activation?.op === 'LeakyRelu' && activation.attr['alpha'] ? { leakyrelu_alpha: activation.attr['alpha'] } : {}),
        ...(fusedOp === '_FusedMatMul'
          ? { transpose_a: node.attr['transpose_a'] ?? boolAttr(false), transpose_b: node.attr['transpose_b'] ?? boolAttr(false) }
          : {}),
      },
    };
    body.nodes.delete(node.name);
    if (activation) body.nodes.delete(biasAdd.name);
    body.nodes.set(fused.name, fused);
  }
}

/**
 * x * scale + shift with per-channel constants (BatchNorm at inference after an activation, where
 * it cannot fold into the convolution) as one FusedBatchNormV3 with mean 0, variance 1 and
 * epsilon 0: (x - 0) * scale * rsqrt(1 + 0) + shift is x * scale + shift, in one pass.
 */
function fuseScaleShift(body: Body, keep: ReadonlySet<string>, frozen: FrozenGraph, valueOf: (node: IrNode) => HostTensor | undefined): void {
  const onlyUse = singleUseTest(body, keep, frozen);
  const perChannel = (node: IrNode | undefined): Float32Array | undefined => {
    const value = node && valueOf(node);
    if (!value || value.dtype !== DataType.DT_FLOAT || value.shape.length === 0) return undefined;
    return value.shape.slice(0, -1).every((d) => d === 1) ? (value.data as Float32Array) : undefined;
  };
  const split = (node: IrNode): [IrNode | undefined, IrNode | undefined, string | undefined] => {
    const [a, b] = node.inputs.map((r) => body.nodes.get(parseRef(r).node));
    if (a?.op === 'Const') return [a, b, node.inputs[1]];
    return [b, a, node.inputs[0]];
  };
  for (const add of [...body.nodes.values()]) {
    if ((add.op !== 'AddV2' && add.op !== 'Add') || getType(add, 'T') !== DataType.DT_FLOAT) continue;
    const [shiftNode, mul] = split(add);
    const shift = perChannel(shiftNode);
    if (!shift || (mul?.op !== 'Mul') || !onlyUse(mul.name) || getType(mul, 'T') !== DataType.DT_FLOAT) continue;
    const [scaleNode, , x] = split(mul);
    const scale = perChannel(scaleNode);
    if (!scale || !x || scale.length !== shift.length || body.nodes.get(parseRef(x).node)?.op === 'Const') continue;
    const channels = scale.length;
    const constant = (suffix: string, data: Float32Array): string => {
      const name = `${add.name}/tfm_${suffix}`;
      body.nodes.set(name, {
        name, op: 'Const', inputs: [], controlInputs: [], device: '',
        attr: { dtype: add.attr['T']!, value: hostTensorAttr({ dtype: DataType.DT_FLOAT, shape: [channels], data }) },
      });
      return formatRef(name, 0);
    };
    body.nodes.delete(mul.name);
    body.nodes.set(add.name, {
      name: add.name, op: 'FusedBatchNormV3', controlInputs: [], device: add.device,
      inputs: [x, constant('scale', scale), constant('shift', shift), constant('mean', new Float32Array(channels)), constant('variance', new Float32Array(channels).fill(1))],
      attr: { T: add.attr['T']!, U: add.attr['T']!, epsilon: floatAttr(0), is_training: boolAttr(false) },
    });
  }
}
