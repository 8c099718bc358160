/**
 * Gives each TensorListStack the size its list was reserved with, as an extra input (see
 * custom-ops/tensor-list.ts): the handle is traced back through While loops (output k is input k)
 * and forwarding ops to its TensorListReserve, whose num_elements input is appended.
 */
import { parseRef } from '../graph/ir.js';
import type { Body } from '../graph/library.js';

const LOOPS = new Set(['While', 'StatelessWhile']);
const FORWARDING = new Set(['Identity', 'Snapshot']);

export function linkReservedSizes(body: Body): void {
  for (const node of body.nodes.values()) {
    if (node.op !== 'TensorListStack' || node.inputs.length !== 2) continue;
    let ref = node.inputs[0]!;
    for (let hops = 0; hops < 64; hops++) {
      const { node: name, index } = parseRef(ref);
      const producer = body.nodes.get(name);
      if (!producer) break;
      if (producer.op === 'TensorListReserve') {
        node.inputs.push(producer.inputs[1]!);
        break;
      }
      const next = LOOPS.has(producer.op) ? producer.inputs[index] : FORWARDING.has(producer.op) ? producer.inputs[0] : undefined;
      if (next === undefined) break;
      ref = next;
    }
  }
}
