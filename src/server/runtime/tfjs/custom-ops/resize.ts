/**
 * ResizeBicubic and ResizeArea (tfjs has bilinear and nearest only), computed on host arrays the
 * way TensorFlow's CPU kernels compute them, in float32 arithmetic step for step (Math.fround
 * after every operation), so results match TensorFlow's bit for bit rather than within a
 * tolerance. Scales and validation follow TensorFlow's ImageResizerState.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import type { CustomOpImpl } from './context.js';

const f = Math.fround;
const FLT_MIN = 1.1754943508222875e-38;

interface ResizeShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  heightScale: number;
  widthScale: number;
}

function boolAttr(node: IrNode, name: string): boolean {
  const v = node.attr[name]?.value;
  return v?.case === 'b' ? v.value : false;
}

/** TensorFlow's CalculateResizeScale, in float32. */
const resizeScale = (inSize: number, outSize: number, alignCorners: boolean): number =>
  alignCorners && outSize > 1 ? f((inSize - 1) / (outSize - 1)) : f(inSize / outSize);

function resizeShape(images: tf.Tensor, size: tf.Tensor, alignCorners: boolean, halfPixelCenters: boolean): ResizeShape {
  if (halfPixelCenters && alignCorners) throw invalidArgument('If half_pixel_centers is True, align_corners must be False.');
  if (images.rank !== 4) throw invalidArgument(`input must be 4-dimensional[${images.shape.join(',')}]`);
  const [batch, inHeight, inWidth, channels] = images.shape as [number, number, number, number];
  if (channels <= 0) throw invalidArgument('image must have at least one channel');
  if (inHeight <= 0 || inWidth <= 0) throw invalidArgument('input image must be of non-zero size');
  if (size.rank !== 1) throw invalidArgument(`shape_t must be 1-dimensional[${size.shape.join(',')}]`);
  if (size.size !== 2) throw invalidArgument(`shape_t must have two elements[${size.shape.join(',')}]`);
  const [outHeight, outWidth] = Array.from(size.dataSync()) as [number, number];
  if (!(outHeight > 0 && outWidth > 0)) throw invalidArgument('output dimensions must be positive');
  return {
    batch, inHeight, inWidth, channels, outHeight, outWidth,
    heightScale: resizeScale(inHeight, outHeight, alignCorners),
    widthScale: resizeScale(inWidth, outWidth, alignCorners),
  };
}

const bound = (value: number, limit: number): number => Math.min(limit - 1, Math.max(0, value));

/** lrintf in the default rounding mode: to nearest, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const TABLE_SIZE = 1024;

/** TensorFlow's bicubic coefficient table for a given a (computed in double, stored as float). */
function coefficientTable(a: number): Float32Array {
  const table = new Float32Array((TABLE_SIZE + 1) * 2);
  for (let i = 0; i <= TABLE_SIZE; i++) {
    let x = f(i / TABLE_SIZE);
    table[i * 2] = ((a + 2) * x - (a + 3)) * x * x + 1;
    x = f(x + 1);
    table[i * 2 + 1] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  }
  return table;
}

/** Keys' a = -0.5 with half-pixel centers, the legacy a = -0.75 otherwise. */
const TABLES = { keys: coefficientTable(-0.5), legacy: coefficientTable(-0.75) };

interface Taps {
  weights: [number, number, number, number];
  indices: [number, number, number, number];
}

function bicubicTaps(scale: number, out: number, limit: number, halfPixelCenters: boolean): Taps {
  const inLocF = halfPixelCenters ? f(f(f(out + 0.5) * scale) - 0.5) : f(out * scale);
  const inLoc = Math.floor(inLocF);
  const delta = f(inLocF - inLoc);
  const offset = roundHalfEven(f(delta * TABLE_SIZE));
  const table = halfPixelCenters ? TABLES.keys : TABLES.legacy;
  const raw: [number, number, number, number] = [
    table[offset * 2 + 1]!, table[offset * 2]!, table[(TABLE_SIZE - offset) * 2]!, table[(TABLE_SIZE - offset) * 2 + 1]!,
  ];
  const indices = [0, 1, 2, 3].map((k) => bound(inLoc - 1 + k, limit)) as Taps['indices'];
  if (!halfPixelCenters) return { weights: raw, indices };
  // Samples outside the image weigh 0 and the rest are renormalised to sum to 1.
  const weights = raw.map((w, k) => (indices[k] === inLoc - 1 + k ? w : 0)) as Taps['weights'];
  const sum = f(f(f(weights[0] + weights[1]) + weights[2]) + weights[3]);
  if (Math.abs(sum) >= f(1000 * FLT_MIN)) {
    const inverse = f(1 / sum);
    for (let k = 0; k < 4; k++) weights[k] = f(weights[k]! * inverse);
  }
  return { weights, indices };
}

/** w0*v0 + w1*v1 + w2*v2 + w3*v3, in float32, left to right. */
const interpolate = (w: Taps['weights'], v0: number, v1: number, v2: number, v3: number): number =>
  f(f(f(f(v0 * w[0]) + f(v1 * w[1])) + f(v2 * w[2])) + f(v3 * w[3]));

export const resizeBicubic: CustomOpImpl = ([images, size], node) => {
  const halfPixel = boolAttr(node, 'half_pixel_centers');
  const s = resizeShape(images!, size!, boolAttr(node, 'align_corners'), halfPixel);
  const input = images!.dataSync();
  const output = new Float32Array(s.batch * s.outHeight * s.outWidth * s.channels);
  const xTaps = Array.from({ length: s.outWidth }, (_, x) => bicubicTaps(s.widthScale, x, s.inWidth, halfPixel));
  const row = s.inWidth * s.channels;
  let o = 0;
  for (let b = 0; b < s.batch; b++) {
    const base = b * s.inHeight * row;
    for (let y = 0; y < s.outHeight; y++) {
      const yt = bicubicTaps(s.heightScale, y, s.inHeight, halfPixel);
      const [r0, r1, r2, r3] = yt.indices.map((i) => base + i * row) as [number, number, number, number];
      for (let x = 0; x < s.outWidth; x++) {
        const xt = xTaps[x]!;
        for (let c = 0; c < s.channels; c++) {
          const column = (k: number): number => {
            const p = xt.indices[k]! * s.channels + c;
            return interpolate(yt.weights, input[r0 + p]!, input[r1 + p]!, input[r2 + p]!, input[r3 + p]!);
          };
          output[o++] = interpolate(xt.weights, column(0), column(1), column(2), column(3));
        }
      }
    }
  }
  return tf.tensor4d(output, [s.batch, s.outHeight, s.outWidth, s.channels], 'float32');
};

/** The weight of input cell v in the output cell [lo, hi) (TensorFlow's start/end scales). */
const cellScale = (v: number, lo: number, hi: number, scale: number): number =>
  v < lo ? (v + 1 > hi ? scale : f(f(v + 1) - lo)) : v + 1 > hi ? f(hi - v) : 1;

export const resizeArea: CustomOpImpl = ([images, size], node) => {
  // ResizeArea has no half_pixel_centers: its cells always were right.
  const s = resizeShape(images!, size!, boolAttr(node, 'align_corners'), false);
  const input = images!.dataSync();
  const output = new Float32Array(s.batch * s.outHeight * s.outWidth * s.channels);
  const xCells = Array.from({ length: s.outWidth }, (_, x) => {
    const lo = f(x * s.widthScale);
    const hi = f((x + 1) * s.widthScale);
    const start = Math.floor(lo);
    const end = Math.ceil(hi);
    return { start, end, startScale: cellScale(start, lo, hi, s.widthScale), endScale: cellScale(end - 1, lo, hi, s.widthScale) };
  });
  const scale = f(1 / f(s.heightScale * s.widthScale));
  const row = s.inWidth * s.channels;
  let o = 0;
  for (let b = 0; b < s.batch; b++) {
    for (let y = 0; y < s.outHeight; y++) {
      const lo = f(y * s.heightScale);
      const hi = f((y + 1) * s.heightScale);
      const rows: Array<{ offset: number; scale: number }> = [];
      for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
        rows.push({ offset: (b * s.inHeight + bound(i, s.inHeight)) * row, scale: cellScale(i, lo, hi, s.heightScale) });
      }
      for (let x = 0; x < s.outWidth; x++) {
        const cell = xCells[x]!;
        for (let c = 0; c < s.channels; c++) {
          const at = (offset: number, xi: number): number => input[offset + bound(xi, s.inWidth) * s.channels + c]!;
          let sum = 0;
          for (const r of rows) {
            let sumY = f(at(r.offset, cell.start) * cell.startScale);
            if (cell.start + 1 !== cell.end) {
              for (let xi = cell.start + 1; xi < cell.end - 1; xi++) sumY = f(sumY + at(r.offset, xi));
              sumY = f(sumY + f(at(r.offset, cell.end - 1) * cell.endScale));
            }
            sum = f(sum + f(sumY * r.scale));
          }
          output[o++] = f(sum * scale);
        }
      }
    }
  }
  return tf.tensor4d(output, [s.batch, s.outHeight, s.outWidth, s.channels], 'float32');
};
