/**
 * tfjs has no Case/StatelessCase (tf.switch_case), but runs If/StatelessIf. A Case over branches
 * f0..fn-1 becomes If(index == 0, then: f0, else: If(index == 1, ...)), the last branch being the
 * default that TensorFlow also takes for an index out of range. Each If passes the index plus the
 * original arguments, so each branch is wrapped in a function that takes the index first and calls
 * the branch (the call is inlined like any other).
 */
import { create } from '@bufbuild/protobuf';
import { AttrValueSchema, NameAttrListSchema } from '../../../gen/tensorflow/core/framework/attr_value_pb.js';
import { type OpDef_ArgDef, OpDef_ArgDefSchema } from '../../../gen/tensorflow/core/framework/op_def_pb.js';
import { DataType } from '../tensor/dtypes.js';
import { getTypeList, scalarTensorAttr, typeAttr, typeListAttr } from './attrs.js';
import { ARG_OP, type IrFunction, type IrNode, formatRef } from './ir.js';
import type { Body, FunctionLibrary } from './library.js';

export const isCaseOp = (op: string): boolean => op === 'Case' || op === 'StatelessCase';

/** Rewrites `node` (a Case) into an If in place, adding the helper functions to `library`. */
export function lowerCase(body: Body, node: IrNode, library: FunctionLibrary): void {
  const branchesAttr = node.attr['branches']?.value;
  const branches = branchesAttr?.case === 'list' ? branchesAttr.value.func.map((f) => f.name) : [];
  if (branches.length === 0) throw new Error(`Case node "${node.name}" has no branches`);
  const tin = getTypeList(node, 'Tin') ?? [];
  const tout = getTypeList(node, 'Tout') ?? [];
  const stateless = node.op === 'StatelessCase';
  const prefix = `${node.name.replace(/[^A-Za-z0-9_]/g, '_')}__case`;
  const args: OpDef_ArgDef[] = [
    arg('branch_index', DataType.DT_INT32),
    ...tin.map((t, i) => arg(`arg${i}`, t)),
  ];
  const outs = tout.map((t, i) => arg(`out${i}`, t));

  // wrapper_k(index, args...) = branch_k(args...)
  const wrappers = branches.map((branch, k) => {
    const name = `${prefix}_branch${k}`;
    const call: IrNode = {
      name: 'call', op: 'PartitionedCall', inputs: tin.map((_, i) => formatRef(`arg${i}`, 0)), controlInputs: [], device: '',
      attr: { f: funcAttr(branch), Tin: typeListAttr(tin), Tout: typeListAttr(tout) },
    };
    return define(library, name, args, outs, [call], outs.map((_, i) => formatRef('call', i)));
  });
  // chain_k(index, args...) = If(index == k, then: wrapper_k, else: chain_k+1); the last is wrapper_n-1.
  let elseBranch = wrappers[wrappers.length - 1]!;
  for (let k = branches.length - 2; k >= 0; k--) {
    const name = k === 0 ? undefined : `${prefix}_chain${k}`;
    const ifNode = (inputs: string[], out: string): IrNode[] => [
      { name: `${out}/k`, op: 'Const', inputs: [], controlInputs: [], device: '', attr: { dtype: typeAttr(DataType.DT_INT32), value: scalarTensorAttr(DataType.DT_INT32, k) } },
      { name: `${out}/is_k`, op: 'Equal', inputs: [inputs[0]!, formatRef(`${out}/k`, 0)], controlInputs: [], device: '', attr: { T: typeAttr(DataType.DT_INT32) } },
      {
        name: out, op: stateless ? 'StatelessIf' : 'If', inputs: [formatRef(`${out}/is_k`, 0), ...inputs], controlInputs: [], device: '',
        attr: {
          Tcond: typeAttr(DataType.DT_BOOL), Tin: typeListAttr([DataType.DT_INT32, ...tin]), Tout: typeListAttr(tout),
          then_branch: funcAttr(wrappers[k]!), else_branch: funcAttr(elseBranch),
        },
      },
    ];
    if (name === undefined) {
      // The outermost If replaces the Case node itself (same name, same outputs).
      const [kConst, isK, top] = ifNode([node.inputs[0]!, ...node.inputs.slice(1)], node.name) as [IrNode, IrNode, IrNode];
      body.nodes.set(kConst.name, kConst);
      body.nodes.set(isK.name, isK);
      body.nodes.set(node.name, { ...top, attr: { ...top.attr, ...(node.attr['output_shapes'] ? { output_shapes: node.attr['output_shapes'] } : {}) } });
    } else {
      const nodes = ifNode(args.map((a) => formatRef(a.name, 0)), 'if');
      elseBranch = define(library, name, args, outs, nodes, outs.map((_, i) => formatRef('if', i)));
    }
  }
}

function define(library: FunctionLibrary, name: string, inputArgs: OpDef_ArgDef[], outputArgs: OpDef_ArgDef[], body: IrNode[], rets: string[]): string {
  if (library.has(name)) return name;
  const nodes = new Map<string, IrNode>();
  for (const a of inputArgs) nodes.set(a.name, { name: a.name, op: ARG_OP, inputs: [], controlInputs: [], attr: {}, device: '' });
  for (const n of body) nodes.set(n.name, n);
  const fn: IrFunction = {
    name, inputArgs, outputArgs, nodes, ret: new Map(outputArgs.map((o, i) => [o.name, rets[i]!])), controlRet: [], attr: {},
  };
  library.add(fn);
  return name;
}

const arg = (name: string, type: DataType): OpDef_ArgDef => create(OpDef_ArgDefSchema, { name, type });

const funcAttr = (name: string) =>
  create(AttrValueSchema, { value: { case: 'func', value: create(NameAttrListSchema, { name }) } });
