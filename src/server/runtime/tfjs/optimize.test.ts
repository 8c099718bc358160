/** Structure of the tfjs graph optimisations; their numerics are covered by the corpus tests. */
import assert from 'node:assert/strict';
import { boolAttr, floatAttr, getTensor, hostTensorAttr, stringAttr, typeAttr } from '../graph/attrs.js';
import type { FrozenGraph, SignatureBinding } from '../graph/freeze.js';
import type { IrNode } from '../graph/ir.js';
import { VARIABLE_ATTR } from '../graph/names.js';
import { DataType } from '../tensor/dtypes.js';
import { tensorFromProto } from '../tensor/host-tensor.js';
import { optimizeForTfjs } from './optimize.js';
import { initTfjs } from './setup.js';

const F = DataType.DT_FLOAT;
const node = (name: string, op: string, inputs: string[] = [], attr: IrNode['attr'] = {}): IrNode =>
  ({ name, op, inputs, controlInputs: [], attr: { T: typeAttr(F), ...attr }, device: '' });
const constant = (name: string, shape: number[], values: number[]): IrNode =>
  node(name, 'Const', [], { dtype: typeAttr(F), value: hostTensorAttr({ dtype: F, shape, data: Float32Array.from(values) }) });

const constValues = (graph: FrozenGraph, ref: string): number[] =>
  Array.from(tensorFromProto(getTensor(graph.nodes.get(ref.split(':')[0]!)!, 'value')!).data as Float32Array);

const fusedOps = (n: IrNode): string[] => {
  const ops = n.attr['fused_ops']!.value;
  return ops.case === 'list' ? ops.value.s.map((s) => new TextDecoder().decode(s)) : [];
};

function frozen(nodes: IrNode[], output: string): FrozenGraph {
  const binding: SignatureBinding = {
    key: 'serving_default', methodName: '', inputs: new Map([['x', 'x:0']]), feedDtypes: new Map(), outputs: new Map([['y', output]]),
  };
  return {
    nodes: new Map(nodes.map((n) => [n.name, n])), functions: new Map(), variables: new Map(), mutableVariables: new Set(),
    signatures: [binding], tables: [], producer: 0,
  };
}

describe('optimizeForTfjs', () => {
  before(() => initTfjs('wasm'));

  it('folds constant subexpressions and fuses Conv2D + BiasAdd + Relu', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      constant('w', [1, 1, 1, 2], [1, 2]),
      constant('b_raw', [1, 2], [0.5, -0.5]),
      constant('shape', [1], [2]),
      node('b', 'Reshape', ['b_raw:0', 'shape:0']),
      node('conv', 'Conv2D', ['x:0', 'w:0'], { data_format: stringAttr('NHWC') }),
      node('bias', 'BiasAdd', ['conv:0', 'b:0'], { data_format: stringAttr('NHWC') }),
      node('relu', 'Relu', ['bias:0']),
      node('out', 'Identity', ['relu:0']),
    ], 'out');
    graph.nodes.get('shape')!.attr['T'] = typeAttr(DataType.DT_INT32);
    optimizeForTfjs(graph);
    assert.equal(graph.nodes.get('b')!.op, 'Const', 'Reshape of constants is folded');
    const fused = graph.nodes.get('relu')!;
    assert.equal(fused.op, '_FusedConv2D');
    assert.deepEqual(fused.inputs, ['x:0', 'w:0', 'b:0']);
    const ops = fused.attr['fused_ops']!.value;
    assert.deepEqual(ops.case === 'list' ? ops.value.s.map((s) => new TextDecoder().decode(s)) : [], ['BiasAdd', 'Relu']);
    assert.ok(!graph.nodes.has('conv') && !graph.nodes.has('bias'));
  });

  it('leaves a chain alone when an intermediate value is also used elsewhere', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      constant('w', [2, 2], [1, 0, 0, 1]),
      constant('b', [2], [1, 1]),
      node('mm', 'MatMul', ['x:0', 'w:0']),
      node('bias', 'BiasAdd', ['mm:0', 'b:0']),
      node('other', 'Neg', ['mm:0']),
      node('out', 'AddN', ['bias:0', 'other:0']),
    ], 'out');
    optimizeForTfjs(graph);
    assert.equal(graph.nodes.get('mm')!.op, 'MatMul');
    assert.equal(graph.nodes.get('bias')!.op, 'BiasAdd');
  });

  it('turns x * scale + shift with per-channel constants into one batch-norm pass', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      constant('scale', [1, 1, 1, 3], [1, 2, 3]),
      constant('shift', [3], [0.1, 0.2, 0.3]),
      node('mul', 'Mul', ['x:0', 'scale:0']),
      node('add', 'AddV2', ['mul:0', 'shift:0']),
      node('out', 'Identity', ['add:0']),
    ], 'out');
    optimizeForTfjs(graph);
    const bn = graph.nodes.get('add')!;
    assert.equal(bn.op, 'FusedBatchNormV3');
    assert.equal(bn.inputs[0], 'x:0');
    assert.ok(!graph.nodes.has('mul'));
  });

  it('folds BiasAdd + x * scale + shift into the convolution weights, then fuses the activation', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      // 1x1 conv, 2 input channels -> 3 output channels: w[in][out].
      constant('w', [1, 1, 2, 3], [1, 2, 3, 4, 5, 6]),
      constant('b', [3], [0.5, -0.5, 1]),
      constant('scale', [3], [2, 0.5, -1]),
      constant('shift', [1, 1, 1, 3], [0.25, 0, 3]),
      node('conv', 'Conv2D', ['x:0', 'w:0'], { data_format: stringAttr('NHWC') }),
      node('bias', 'BiasAdd', ['conv:0', 'b:0'], { data_format: stringAttr('NHWC') }),
      node('mul', 'Mul', ['bias:0', 'scale:0']),
      node('add', 'AddV2', ['shift:0', 'mul:0']),
      node('relu', 'Relu', ['add:0']),
    ], 'relu');
    optimizeForTfjs(graph);
    const fused = graph.nodes.get('relu')!;
    assert.equal(fused.op, '_FusedConv2D');
    assert.deepEqual(fusedOps(fused), ['BiasAdd', 'Relu']);
    assert.deepEqual(constValues(graph, fused.inputs[1]!), [2, 1, -3, 8, 2.5, -6], 'filter scaled per output channel');
    assert.deepEqual(constValues(graph, fused.inputs[2]!), [1.25, -0.25, 2], 'bias * scale + shift');
    for (const gone of ['conv', 'bias', 'mul', 'add', 'w', 'b', 'scale', 'shift']) assert.ok(!graph.nodes.has(gone), `${gone} is gone`);
  });

  it('folds an inference FusedBatchNormV3 after a depthwise convolution', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      // Depthwise 1x1, 2 channels x multiplier 2: output channel c * 2 + m.
      constant('w', [1, 1, 2, 2], [1, 2, 3, 4]),
      constant('gamma', [4], [1, 2, 3, 4]),
      constant('beta', [4], [0, 1, 0, 1]),
      constant('mean', [4], [1, 1, 2, 2]),
      constant('variance', [4], [4, 4, 16, 16]),
      node('dw', 'DepthwiseConv2dNative', ['x:0', 'w:0'], { data_format: stringAttr('NHWC') }),
      node('bn', 'FusedBatchNormV3', ['dw:0', 'gamma:0', 'beta:0', 'mean:0', 'variance:0'], {
        epsilon: floatAttr(0), is_training: boolAttr(false), data_format: stringAttr('NHWC'),
      }),
      node('relu6', 'Relu6', ['bn:0']),
    ], 'relu6');
    optimizeForTfjs(graph);
    const fused = graph.nodes.get('relu6')!;
    assert.equal(fused.op, 'FusedDepthwiseConv2dNative');
    assert.deepEqual(fusedOps(fused), ['BiasAdd', 'Relu6']);
    // factor = gamma / sqrt(variance) = [0.5, 1, 0.75, 1]; shift = beta - mean * factor.
    assert.deepEqual(constValues(graph, fused.inputs[1]!), [0.5, 2, 2.25, 4]);
    assert.deepEqual(constValues(graph, fused.inputs[2]!), [-0.5, 0, -1.5, -1]);
  });

  it('folds BiasAdd + Mul into a MatMul with transpose_b, scaling rows of its [out, in] weights', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      constant('w', [2, 3], [1, 2, 3, 4, 5, 6]),
      constant('b', [2], [1, -1]),
      constant('scale', [1, 2], [10, 0.5]),
      node('mm', 'MatMul', ['x:0', 'w:0'], { transpose_a: boolAttr(false), transpose_b: boolAttr(true) }),
      node('bias', 'BiasAdd', ['mm:0', 'b:0']),
      node('mul', 'Mul', ['scale:0', 'bias:0']),
    ], 'mul');
    optimizeForTfjs(graph);
    const fused = graph.nodes.get('mul')!;
    assert.equal(fused.op, '_FusedMatMul');
    assert.deepEqual(fusedOps(fused), ['BiasAdd']);
    assert.equal(fused.attr['transpose_b']?.value.value, true);
    assert.deepEqual(constValues(graph, fused.inputs[1]!), [10, 20, 30, 2, 2.5, 3]);
    assert.deepEqual(constValues(graph, fused.inputs[2]!), [10, -0.5]);
  });

  it('does not fold into weights a run may assign, nor a FusedBatchNorm in training mode', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      constant('w', [1, 1, 1, 1], [2]),
      node('v', 'Const', [], { dtype: typeAttr(F), [VARIABLE_ATTR]: stringAttr('v_key') }),
      constant('gamma', [1], [1]), constant('beta', [1], [0]), constant('mean', [1], [0]), constant('variance', [1], [1]),
      constant('scale', [1], [3]),
      node('conv', 'Conv2D', ['x:0', 'w:0'], { data_format: stringAttr('NHWC') }),
      node('bn', 'FusedBatchNormV3', ['conv:0', 'gamma:0', 'beta:0', 'mean:0', 'variance:0'], { is_training: boolAttr(true) }),
      node('conv2', 'Conv2D', ['bn:0', 'v:0'], { data_format: stringAttr('NHWC') }),
      node('mul', 'Mul', ['conv2:0', 'scale:0']),
      node('out', 'Identity', ['mul:0']),
    ], 'out');
    const withVariable = { ...graph, variables: new Map([['v_key', { dtype: F, shape: [1, 1, 1, 1], data: Float32Array.from([5]) }]]), mutableVariables: new Set(['v_key']) };
    optimizeForTfjs(withVariable);
    assert.equal(graph.nodes.get('bn')!.op, 'FusedBatchNormV3');
    assert.deepEqual(graph.nodes.get('conv')!.inputs, ['x:0', 'w:0']);
    assert.deepEqual(graph.nodes.get('conv2')!.inputs, ['bn:0', 'v:0']);
    assert.equal(graph.nodes.get('mul')!.op, 'Mul');
  });

  it('does not fold a FusedBatchNorm whose batch statistics are read, nor an NCHW BiasAdd', () => {
    const graph = frozen([
      node('x', 'Placeholder'),
      constant('w', [1, 1, 1, 1], [2]), constant('w2', [1, 1, 1, 1], [3]),
      constant('gamma', [1], [1]), constant('beta', [1], [0]), constant('mean', [1], [0]), constant('variance', [1], [1]),
      constant('b', [1], [1]), constant('scale', [1], [3]),
      node('conv', 'Conv2D', ['x:0', 'w:0'], { data_format: stringAttr('NHWC') }),
      node('bn', 'FusedBatchNormV3', ['conv:0', 'gamma:0', 'beta:0', 'mean:0', 'variance:0'], { is_training: boolAttr(false) }),
      node('stat', 'Identity', ['bn:1']),
      node('conv2', 'Conv2D', ['bn:0', 'w2:0'], { data_format: stringAttr('NHWC') }),
      node('bias', 'BiasAdd', ['conv2:0', 'b:0'], { data_format: stringAttr('NCHW') }),
      node('mul', 'Mul', ['bias:0', 'scale:0']),
      node('out', 'AddN', ['mul:0', 'stat:0']),
    ], 'out');
    optimizeForTfjs(graph);
    assert.equal(graph.nodes.get('bn')!.op, 'FusedBatchNormV3');
    assert.deepEqual(graph.nodes.get('conv')!.inputs, ['x:0', 'w:0']);
    assert.deepEqual(graph.nodes.get('conv2')!.inputs, ['bn:0', 'w2:0']);
    assert.equal(graph.nodes.get('mul')!.op, 'Mul');
  });
});
