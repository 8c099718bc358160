/** Our implementations of ops tfjs-converter lacks, registered once per process. */
import { registerOp, type GraphNode } from '@tensorflow/tfjs-converter';
import { toServingError } from '../../../errors.js';
import { AFTER_OP, ASSIGN_VARIABLE_OP, READ_VARIABLE_OP } from '../../graph/names.js';
import { type CustomOpImpl, contextOf } from './context.js';
import { bucketize, softsign } from './math.js';
import { parseExampleV1, parseExampleV2 } from './parse-example.js';
import { after, assignVariable, readVariable } from './variables.js';

const CUSTOM_OPS: Readonly<Record<string, CustomOpImpl>> = {
  [READ_VARIABLE_OP]: readVariable,
  [ASSIGN_VARIABLE_OP]: assignVariable,
  [AFTER_OP]: after,
  ParseExample: parseExampleV1,
  ParseExampleV2: parseExampleV2,
  Softsign: softsign,
  Bucketize: bucketize,
};

export const isCustomOp = (op: string): boolean => Object.hasOwn(CUSTOM_OPS, op);

let registered = false;

export function registerCustomOps(): void {
  if (registered) return;
  registered = true;
  for (const [name, impl] of Object.entries(CUSTOM_OPS)) {
    registerOp(name, (graphNode: GraphNode) => {
      const { model, node } = contextOf(graphNode);
      try {
        return impl(graphNode.inputs, node, model);
      } catch (error) {
        throw toServingError(error, `${node.op} node "${node.name}"`);
      }
    });
  }
}
