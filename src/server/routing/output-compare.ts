/**
 * Comparing a shadow's outputs with the primary's, per output alias: the largest absolute and
 * relative difference over the elements, and for class-score outputs ([batch, classes], classes
 * >= 2, floating point) whether each row's top-1 class agrees. A missing output or a dtype or
 * shape mismatch is an infinite difference (never "close enough").
 */
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';

export interface OutputComparison {
  readonly output: string;
  readonly maxAbsDiff: number;
  /** |a - b| / max(|a|, |b|) (0 where both are 0): in [0, 2], Infinity on a mismatch. */
  readonly maxRelDiff: number;
  /** Class-score outputs only. */
  readonly top1?: { readonly agree: number; readonly rows: number } | undefined;
}

const FLOATS: ReadonlySet<DataType> = new Set([DataType.DT_FLOAT, DataType.DT_DOUBLE]);
const MISMATCH = { maxAbsDiff: Infinity, maxRelDiff: Infinity } as const;

export function compareOutputs(primary: ReadonlyMap<string, HostTensor>, shadow: ReadonlyMap<string, HostTensor>): OutputComparison[] {
  const out: OutputComparison[] = [];
  for (const [output, a] of primary) {
    const b = shadow.get(output);
    out.push(b === undefined ? { output, ...MISMATCH } : { output, ...compareTensors(a, b) });
  }
  return out;
}

export function compareTensors(a: HostTensor, b: HostTensor): Omit<OutputComparison, 'output'> {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return MISMATCH;
  if (Array.isArray(a.data)) return compareBytes(a.data, b.data as Uint8Array[]);
  const x = a.data as ArrayLike<number | bigint>;
  const y = b.data as ArrayLike<number | bigint>;
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  for (let i = 0; i < x.length; i++) {
    const p = Number(x[i]);
    const q = Number(y[i]);
    if (Number.isNaN(p) || Number.isNaN(q)) {
      if (Number.isNaN(p) && Number.isNaN(q)) continue;
      return MISMATCH;
    }
    if (p === q) continue;
    const abs = Math.abs(p - q);
    if (!(abs <= maxAbsDiff)) maxAbsDiff = abs;
    const rel = abs / Math.max(Math.abs(p), Math.abs(q));
    if (!(rel <= maxRelDiff)) maxRelDiff = rel;
  }
  const top1 = FLOATS.has(a.dtype) && a.shape.length === 2 && a.shape[1]! >= 2 ? topOneAgreement(x as ArrayLike<number>, y as ArrayLike<number>, a.shape[0]!, a.shape[1]!) : undefined;
  return { maxAbsDiff: Number.isNaN(maxAbsDiff) ? Infinity : maxAbsDiff, maxRelDiff: Number.isNaN(maxRelDiff) ? Infinity : maxRelDiff, top1 };
}

function compareBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): Omit<OutputComparison, 'output'> {
  for (let i = 0; i < a.length; i++) if (Buffer.compare(a[i]!, b[i]!) !== 0) return MISMATCH;
  return { maxAbsDiff: 0, maxRelDiff: 0 };
}

function topOneAgreement(x: ArrayLike<number>, y: ArrayLike<number>, rows: number, classes: number): { agree: number; rows: number } {
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    if (argmax(x, r * classes, classes) === argmax(y, r * classes, classes)) agree++;
  }
  return { agree, rows };
}

function argmax(values: ArrayLike<number>, start: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}
