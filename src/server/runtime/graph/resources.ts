/**
 * Replaces resource and reference-variable operations with things tfjs can run. A variable the
 * graph never assigns becomes a constant (one Const per checkpoint key, named the same in every
 * body); a variable it assigns becomes a read/assign pair of our custom ops over live state.
 */
import { unimplemented } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { getInt, getString, getType, intAttr, scalarTensorAttr, stringAttr, typeAttr } from './attrs.js';
import { type IrNode, formatRef } from './ir.js';
import type { Body } from './library.js';
import {
  ASSIGN_VARIABLE_OP,
  type AssignMode,
  READ_VARIABLE_OP,
  RESOURCE_MARKER_OP,
  VARIABLE_ATTR,
  variableConstName,
} from './names.js';
import { variableKeyOf } from './traverse.js';

const ASSIGN_OPS: Readonly<Record<string, AssignMode>> = {
  AssignVariableOp: 'assign',
  AssignAddVariableOp: 'add',
  AssignSubVariableOp: 'sub',
  Assign: 'assign',
  AssignAdd: 'add',
  AssignSub: 'sub',
};

export const isAssignOp = (op: string): boolean => op in ASSIGN_OPS;

/** Checkpoint keys of the variables that `nodes` assign. */
export function assignedVariables(body: Body, nodes: Iterable<string>): Set<string> {
  const keys = new Set<string>();
  for (const name of nodes) {
    const node = body.nodes.get(name)!;
    if (!isAssignOp(node.op)) continue;
    const key = variableKeyOf(body, node.inputs[0] ?? '');
    if (key === undefined) throw unimplemented(`${node.op} node "${node.name}" assigns a resource that is not a restored variable`);
    keys.add(key);
  }
  return keys;
}

export interface VariableInfo {
  /** Variables some signature assigns: read and written through live state. */
  readonly mutable: ReadonlySet<string>;
  /** dtype per key, for the Const nodes. */
  readonly dtypeOf: (key: string) => DataType;
}

/** Rewrites the nodes named in `live` (reachable ones) of one body. */
export function rewriteResourceOps(body: Body, live: Iterable<string>, vars: VariableInfo): void {
  const ensureConst = (key: string): string => {
    const name = variableConstName(key);
    if (!body.nodes.has(name)) {
      body.nodes.set(name, {
        name, op: 'Const', inputs: [], controlInputs: [], device: '',
        attr: { dtype: typeAttr(vars.dtypeOf(key)), [VARIABLE_ATTR]: stringAttr(key) },
      });
    }
    return formatRef(name, 0);
  };
  const valueOf = (key: string, node: IrNode): IrNode => {
    if (vars.mutable.has(key)) {
      return { ...node, op: READ_VARIABLE_OP, inputs: [], attr: { [VARIABLE_ATTR]: stringAttr(key), dtype: typeAttr(vars.dtypeOf(key)) } };
    }
    return { ...node, op: 'Identity', inputs: [ensureConst(key)], attr: { T: typeAttr(vars.dtypeOf(key)) } };
  };
  const keyOf = (node: IrNode): string => {
    const key = variableKeyOf(body, node.inputs[0] ?? '');
    if (key === undefined) {
      throw unimplemented(`${node.op} node "${node.name}" uses a resource that is not a restored variable (op ${node.op})`);
    }
    return key;
  };

  const replacements: IrNode[] = [];
  const refMarkers: IrNode[] = [];
  for (const name of live) {
    const node = body.nodes.get(name)!;
    switch (node.op) {
      case 'ReadVariableOp':
        replacements.push(valueOf(keyOf(node), node));
        break;
      case 'ResourceGather': {
        const key = keyOf(node);
        const batchDims = getInt(node, 'batch_dims') ?? 0;
        const axisName = `${node.name}/_tfm_axis`;
        body.nodes.set(axisName, {
          name: axisName, op: 'Const', inputs: [], controlInputs: [], device: '',
          attr: { dtype: typeAttr(DataType.DT_INT32), value: scalarTensorAttr(DataType.DT_INT32, batchDims) },
        });
        const params = vars.mutable.has(key) ? readNode(body, node, key, vars) : ensureConst(key);
        replacements.push({
          ...node, op: 'GatherV2', inputs: [params, node.inputs[1]!, formatRef(axisName, 0)],
          attr: { batch_dims: intAttr(batchDims), Tparams: typeAttr(vars.dtypeOf(key)), Taxis: typeAttr(DataType.DT_INT32), Tindices: node.attr['Tindices']! },
        });
        break;
      }
      case 'ResourceGatherNd': {
        const key = keyOf(node);
        const params = vars.mutable.has(key) ? readNode(body, node, key, vars) : ensureConst(key);
        replacements.push({ ...node, op: 'GatherNd', inputs: [params, node.inputs[1]!], attr: { Tparams: typeAttr(vars.dtypeOf(key)), Tindices: node.attr['Tindices']! } });
        break;
      }
      case 'VariableShape': {
        const key = keyOf(node);
        const params = vars.mutable.has(key) ? readNode(body, node, key, vars) : ensureConst(key);
        replacements.push({ ...node, op: 'Shape', inputs: [params], attr: { out_type: typeAttr(getType(node, 'out_type') ?? DataType.DT_INT32) } });
        break;
      }
      case 'VarIsInitializedOp':
        body.nodes.set(node.name, { ...node, op: 'Const', inputs: [], attr: { dtype: typeAttr(DataType.DT_BOOL), value: scalarTensorAttr(DataType.DT_BOOL, true) } });
        break;
      case RESOURCE_MARKER_OP:
        if (getInt(node, 'ref') === 1) refMarkers.push(node);
        break;
      default:
        if (isAssignOp(node.op)) {
          const key = keyOf(node);
          replacements.push({
            ...node, op: ASSIGN_VARIABLE_OP, inputs: [node.inputs[1]!],
            attr: { [VARIABLE_ATTR]: stringAttr(key), mode: stringAttr(ASSIGN_OPS[node.op]!), dtype: typeAttr(vars.dtypeOf(key)) },
          });
        }
    }
  }
  // Reference variables (TF1 VariableV2) are values themselves: the marker becomes the value, last,
  // because the assigns above resolved their keys through it.
  for (const marker of refMarkers) replacements.push(valueOf(getString(marker, 'key')!, marker));
  for (const node of replacements) body.nodes.set(node.name, node);
}

/** A private read of a mutable variable feeding one consumer. */
function readNode(body: Body, consumer: IrNode, key: string, vars: VariableInfo): string {
  const name = `${consumer.name}/_tfm_read`;
  body.nodes.set(name, {
    name, op: READ_VARIABLE_OP, inputs: [], controlInputs: [...consumer.controlInputs], device: '',
    attr: { [VARIABLE_ATTR]: stringAttr(key), dtype: typeAttr(vars.dtypeOf(key)) },
  });
  return formatRef(name, 0);
}
