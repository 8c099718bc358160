/**
 * Runs a fused elementwise group (tfjs/fuse-elementwise.ts) as one loop over host copies of its
 * inputs: one op call instead of one per element-wise op, which is what a small RNN cell costs in
 * tfjs (a dispatch per op, each over a few dozen floats). Inputs must all have the same shape or
 * be scalars; anything else (a broadcast the graph did not show), and tensors large enough that
 * wasm's SIMD kernels beat a JS loop, run op by op on tfjs instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { internal } from '../../../errors.js';
import { getString } from '../../graph/attrs.js';
import type { IrNode } from '../../graph/ir.js';
import { type ElementwiseOp, type ElementwiseProgram, runProgram } from '../elementwise-program.js';
import type { CustomOpImpl } from './context.js';

/** Above this many elements per tensor the per-op dispatch no longer dominates. */
const MAX_JS_ELEMENTS = 1024;

const programs = new WeakMap<IrNode, ElementwiseProgram>();

function programOf(node: IrNode): ElementwiseProgram {
  let program = programs.get(node);
  if (!program) {
    const text = getString(node, 'program');
    if (text === undefined) throw internal(`${node.name}: fused elementwise node without a program`);
    program = JSON.parse(text) as ElementwiseProgram;
    programs.set(node, program);
  }
  return program;
}

const TFJS_OPS: Readonly<Record<ElementwiseOp, (args: tf.Tensor[]) => tf.Tensor>> = {
  Add: ([a, b]) => tf.add(a!, b!),
  AddV2: ([a, b]) => tf.add(a!, b!),
  Sub: ([a, b]) => tf.sub(a!, b!),
  Mul: ([a, b]) => tf.mul(a!, b!),
  Sigmoid: ([a]) => tf.sigmoid(a!),
  Tanh: ([a]) => tf.tanh(a!),
};

function runOnTfjs(program: ElementwiseProgram, inputs: tf.Tensor[]): tf.Tensor[] {
  return tf.tidy(() => {
    const operands = [...inputs];
    for (const step of program.steps) operands.push(TFJS_OPS[step.op](step.args.map((i) => operands[i]!)));
    return program.outputs.map((i) => tf.clone(operands[i]!));
  });
}

export const fusedElementwise: CustomOpImpl = (inputs, node) => {
  const program = programOf(node);
  const full = inputs.find((t) => t.size !== 1) ?? inputs[0]!;
  const sameShape = (t: tf.Tensor): boolean => t.shape.length === full.shape.length && t.shape.every((d, i) => d === full.shape[i]);
  const simple = inputs.every((t) => t.dtype === 'float32' && (sameShape(t) || (t.size === 1 && t.rank <= full.rank)));
  if (!simple || full.size === 0 || full.size > MAX_JS_ELEMENTS) return runOnTfjs(program, inputs);
  const outputs = runProgram(program, inputs.map((t) => t.dataSync() as Float32Array), full.size);
  return outputs.map((data) => tf.tensor(data, full.shape, 'float32'));
};
