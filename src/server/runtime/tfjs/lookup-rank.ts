/**
 * tfjs's HashTable.find stacks one scalar per key: keys of shape [2, 4] come back [8], where
 * TensorFlow's LookupTableFindV2 answers the keys' shape. Each lookup is rewritten to reshape its
 * result to the shape of its keys: `X` becomes `X/tfm_flat`, and a Reshape named `X` (so every
 * reader and every signature output still finds it) takes the keys' Shape.
 */
import { typeAttr } from '../graph/attrs.js';
import { type IrNode, formatRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';
import { DataType } from '../tensor/dtypes.js';

const LOOKUPS = new Set(['LookupTableFind', 'LookupTableFindV2']);

export function keepLookupRank(body: Body): void {
  for (const node of [...body.nodes.values()]) {
    if (!LOOKUPS.has(node.op) || node.inputs.length < 2) continue;
    const flat = `${node.name}/tfm_flat`;
    const shape = `${node.name}/tfm_keys_shape`;
    if (body.nodes.has(flat) || body.nodes.has(shape)) continue;
    const keyDtype = node.attr['Tin'] ?? typeAttr(DataType.DT_STRING);
    const valueDtype = node.attr['Tout'] ?? typeAttr(DataType.DT_INT64);
    const plain = (name: string, op: string, inputs: string[], attr: IrNode['attr']): IrNode => ({
      name, op, inputs, controlInputs: [], device: node.device, attr,
    });
    body.nodes.set(flat, { ...node, name: flat });
    body.nodes.set(shape, plain(shape, 'Shape', [node.inputs[1]!], { T: keyDtype, out_type: typeAttr(DataType.DT_INT32) }));
    body.nodes.set(
      node.name,
      plain(node.name, 'Reshape', [formatRef(flat, 0), formatRef(shape, 0)], { T: valueDtype, Tshape: typeAttr(DataType.DT_INT32) }),
    );
  }
}
