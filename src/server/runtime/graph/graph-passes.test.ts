/** Unit tests of the freezer's graph passes on small hand-built graphs. */
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FunctionDefSchema } from '../../../gen/tensorflow/core/framework/function_pb.js';
import { NodeDefSchema } from '../../../gen/tensorflow/core/framework/node_def_pb.js';
import { OpDefSchema } from '../../../gen/tensorflow/core/framework/op_def_pb.js';
import { DataType } from '../tensor/dtypes.js';
import { intAttr, stringAttr, typeAttr } from './attrs.js';
import { insertInt64Checks } from './int64-checks.js';
import { type IrNode, functionFromFunctionDef } from './ir.js';
import type { Body } from './library.js';
import { AFTER_OP, ASSIGN_VARIABLE_OP, INT64_CHECK_OP, READ_VARIABLE_OP } from './names.js';
import { OpRegistry } from './op-registry.js';
import { bypassForwarding, orderSideEffects, pruneTo } from './prune.js';

const node = (name: string, op: string, inputs: string[] = [], attr: IrNode['attr'] = {}, controlInputs: string[] = []): IrNode =>
  ({ name, op, inputs, controlInputs, attr, device: '' });
const body = (...nodes: IrNode[]): Body => ({ name: 'g', nodes: new Map(nodes.map((n) => [n.name, n])) });

describe('functionFromFunctionDef', () => {
  it('flattens "node:out_arg:idx" using the OpDef (number_attr and multi-arg outputs)', () => {
    const def = create(FunctionDefSchema, {
      signature: create(OpDefSchema, { name: 'f', inputArg: [{ name: 'x', type: DataType.DT_FLOAT }], outputArg: [{ name: 'out', type: DataType.DT_FLOAT }] }),
      nodeDef: [
        create(NodeDefSchema, { name: 'split', op: 'Split', input: ['axis:output:0', 'x'], attr: { num_split: intAttr(3), T: typeAttr(DataType.DT_FLOAT) } }),
        create(NodeDefSchema, { name: 'axis', op: 'Const' }),
        create(NodeDefSchema, { name: 'uniq', op: 'Unique', input: ['split:output:2'] }),
        create(NodeDefSchema, { name: 'sum', op: 'AddV2', input: ['split:output:1', 'uniq:idx:0', '^axis'] }),
      ],
      ret: { out: 'sum:z:0' },
    });
    const fn = functionFromFunctionDef(def, new OpRegistry([], new Map()));
    assert.deepEqual(fn.nodes.get('uniq')!.inputs, ['split:2']);
    assert.deepEqual(fn.nodes.get('sum')!.inputs, ['split:1', 'uniq:1']);
    assert.deepEqual(fn.nodes.get('sum')!.controlInputs, ['axis']);
    assert.equal(fn.ret.get('out'), 'sum:0');
    assert.equal(fn.nodes.get('x')!.op, '_Arg');
  });
});

describe('orderSideEffects', () => {
  it('turns a control edge on a variable assignment into a data dependency', () => {
    const g = body(
      node('delta', 'Const'),
      node('assign', ASSIGN_VARIABLE_OP, ['delta:0'], { variable: stringAttr('v') }),
      node('read', READ_VARIABLE_OP, [], { variable: stringAttr('v') }, ['assign']),
      node('noop', 'NoOp', [], {}, ['assign']),
      node('out', 'Identity', ['read:0'], {}, ['noop']),
    );
    orderSideEffects(g);
    assert.deepEqual(g.nodes.get('read')!.inputs, ['assign:0'], 'the read waits for the assignment');
    const out = g.nodes.get('out')!;
    const after = g.nodes.get(out.inputs[0]!.split(':')[0]!)!;
    assert.equal(after.op, AFTER_OP);
    assert.deepEqual(after.inputs, ['read:0', 'assign:0']);
    assert.ok([...g.nodes.values()].every((n) => n.controlInputs.length === 0));
  });

  it('just drops control edges when nothing is stateful', () => {
    const g = body(node('a', 'Const'), node('b', 'Identity', ['a:0'], {}, ['a']));
    orderSideEffects(g);
    assert.deepEqual(g.nodes.get('b')!.controlInputs, []);
  });
});

describe('pruneTo and bypassForwarding', () => {
  it('keeps what the roots need and forwards through Identity chains except kept nodes', () => {
    const g = body(
      node('x', 'Placeholder'),
      node('id1', 'Identity', ['x:0']),
      node('id2', 'Identity', ['id1:0']),
      node('fed', 'Identity', ['id2:0']),
      node('y', 'Neg', ['fed:0']),
      node('unused', 'Neg', ['x:0']),
    );
    bypassForwarding(g, new Set(['fed']));
    pruneTo(g, ['y']);
    assert.deepEqual(g.nodes.get('fed')!.inputs, ['x:0']);
    assert.deepEqual(g.nodes.get('y')!.inputs, ['fed:0']);
    assert.deepEqual([...g.nodes.keys()].sort(), ['fed', 'x', 'y']);
  });
});

describe('insertInt64Checks', () => {
  it('wraps int64 arithmetic with a float32 twin and a check, chaining twins', () => {
    const g = body(
      node('a', 'Placeholder', [], { dtype: typeAttr(DataType.DT_INT64) }),
      node('m', 'Mul', ['a:0', 'a:0'], { T: typeAttr(DataType.DT_INT64) }),
      node('s', 'AddV2', ['m:0', 'a:0'], { T: typeAttr(DataType.DT_INT64) }),
      node('f', 'Mul', ['a:0', 'a:0'], { T: typeAttr(DataType.DT_FLOAT) }),
    );
    insertInt64Checks(g);
    assert.equal(g.nodes.get('m')!.op, INT64_CHECK_OP);
    assert.deepEqual(g.nodes.get('m')!.inputs, ['m/tfm_int64:0', 'm/tfm_float:0']);
    assert.equal(g.nodes.get('m/tfm_float')!.attr['T']!.value.value, DataType.DT_FLOAT);
    assert.deepEqual(g.nodes.get('s/tfm_float')!.inputs[0], 'm/tfm_float:0', "the sum's twin uses the product's twin");
    assert.equal(g.nodes.get('f')!.op, 'Mul', 'float arithmetic is untouched');
  });
});
