/**
 * The program of a fused elementwise group (fuse-elementwise.ts): operands 0..inputs-1 are the
 * group's inputs, operand inputs+i is step i's result; `outputs` lists the operands it returns.
 * Each step is one float32 op, computed as TensorFlow defines it and rounded to float32.
 */
export const ELEMENTWISE_OPS = {
  Add: 2,
  AddV2: 2,
  Sub: 2,
  Mul: 2,
  Sigmoid: 1,
  Tanh: 1,
} as const;

export type ElementwiseOp = keyof typeof ELEMENTWISE_OPS;

export interface ElementwiseProgram {
  readonly inputs: number;
  readonly steps: ReadonlyArray<{ readonly op: ElementwiseOp; readonly args: readonly number[] }>;
  readonly outputs: readonly number[];
}

export const isElementwiseOp = (op: string): op is ElementwiseOp => Object.hasOwn(ELEMENTWISE_OPS, op);

const f32 = Math.fround;

/** One step over n elements; an operand of length 1 broadcasts (a scalar). */
export function runStep(op: ElementwiseOp, args: readonly Float32Array[], n: number): Float32Array {
  const out = new Float32Array(n);
  const [a, b] = args as [Float32Array, Float32Array | undefined];
  const sa = a.length === 1 ? 0 : 1;
  const sb = b && b.length === 1 ? 0 : 1;
  switch (op) {
    case 'Add':
    case 'AddV2':
      for (let i = 0; i < n; i++) out[i] = f32(a[i * sa]! + b![i * sb]!);
      break;
    case 'Sub':
      for (let i = 0; i < n; i++) out[i] = f32(a[i * sa]! - b![i * sb]!);
      break;
    case 'Mul':
      for (let i = 0; i < n; i++) out[i] = f32(a[i * sa]! * b![i * sb]!);
      break;
    case 'Sigmoid':
      for (let i = 0; i < n; i++) out[i] = f32(1 / (1 + Math.exp(-a[i * sa]!)));
      break;
    case 'Tanh':
      for (let i = 0; i < n; i++) out[i] = f32(Math.tanh(a[i * sa]!));
      break;
  }
  return out;
}

/** Runs the program over inputs of n elements each (or 1, broadcast); returns its outputs. */
export function runProgram(program: ElementwiseProgram, inputs: readonly Float32Array[], n: number): Float32Array[] {
  const operands: Float32Array[] = [...inputs];
  for (const step of program.steps) operands.push(runStep(step.op, step.args.map((i) => operands[i]!), n));
  return program.outputs.map((i) => operands[i]!);
}
