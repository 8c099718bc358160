/** NumPy-style broadcasting over host arrays, for custom ops that compute element by element in JS. */
import { invalidArgument } from '../../../errors.js';

export function broadcastShape(shapes: ReadonlyArray<readonly number[]>, what: string): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const shape of shapes) {
      const d = shape[shape.length - rank + i] ?? 1;
      if (d !== 1) {
        if (dim !== 1 && dim !== d) throw invalidArgument(`${what}: shapes ${shapes.map((s) => `[${s}]`).join(' and ')} are not broadcastable`);
        dim = d;
      }
    }
    out.push(dim);
  }
  return out;
}

/** For each element of `outShape`, the flat index into an input of shape `inShape`. */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): (flat: number) => number {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    const axis = rank - inShape.length + i;
    strides[axis] = inShape[i] === 1 ? 0 : stride;
    stride *= inShape[i]!;
  }
  return (flat) => {
    let index = 0;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const d = outShape[axis]!;
      index += (flat % d) * strides[axis]!;
      flat = Math.floor(flat / d);
    }
    return index;
  };
}
