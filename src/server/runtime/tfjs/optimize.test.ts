/** Structure of the tfjs graph optimisations; their numerics are covered by the corpus tests. */
import assert from 'node:assert/strict';
import { hostTensorAttr, stringAttr, typeAttr } from '../graph/attrs.js';
import type { FrozenGraph, SignatureBinding } from '../graph/freeze.js';
import type { IrNode } from '../graph/ir.js';
import { DataType } from '../tensor/dtypes.js';
import { optimizeForTfjs } from './optimize.js';
import { initTfjs } from './setup.js';

const F = DataType.DT_FLOAT;
const node = (name: string, op: string, inputs: string[] = [], attr: IrNode['attr'] = {}): IrNode =>
  ({ name, op, inputs, controlInputs: [], attr: { T: typeAttr(F), ...attr }, device: '' });
const constant = (name: string, shape: number[], values: number[]): IrNode =>
  node(name, 'Const', [], { dtype: typeAttr(F), value: hostTensorAttr({ dtype: F, shape, data: Float32Array.from(values) }) });

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
});
