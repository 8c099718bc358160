/**
 * ScaleAndTranslate: tf.image.resize with antialias=True or the lanczos3/lanczos5/gaussian/
 * mitchellcubic methods. As TensorFlow's CPU kernel: per output row and column a span of input
 * samples weighted by the sampling kernel (stretched by 1 / scale when antialiasing a
 * downscale), weights normalised to sum 1, rows gathered first, then columns; float32 steps
 * (Math.fround), the kernels' sin and exp in double rounded to float.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import type { CustomOpImpl } from './context.js';

const f = Math.fround;
const FLT_MIN = 1.1754943508222875e-38;
const K_PI = f(3.14159265359);

interface SamplingKernel {
  radius: number;
  weight(x: number): number;
}

const lanczos = (radius: number): SamplingKernel => ({
  radius,
  weight: (v) => {
    const x = Math.abs(v);
    if (x > radius) return 0;
    if (x <= 1e-3) return 1;
    const numerator = f(f(radius * f(Math.sin(f(K_PI * x)))) * f(Math.sin(f(f(K_PI * x) / radius))));
    return f(numerator / f(f(f(K_PI * K_PI) * x) * x));
  },
});

const GAUSSIAN_SIGMA = f(1.5 / 3);

const KERNELS: Readonly<Record<string, SamplingKernel>> = {
  lanczos1: lanczos(1),
  lanczos3: lanczos(3),
  lanczos5: lanczos(5),
  gaussian: {
    radius: 1.5,
    weight: (v) => {
      const x = Math.abs(v);
      return x >= 1.5 ? 0 : f(Math.exp(f(-x * x) / (2 * GAUSSIAN_SIGMA * GAUSSIAN_SIGMA)));
    },
  },
  box: { radius: 1, weight: (v) => { const x = Math.abs(v); return x < 0.5 ? 1 : x === 0.5 ? 0.5 : 0; } },
  triangle: { radius: 1, weight: (v) => { const x = Math.abs(v); return x < 1 ? f(1 - x) : 0; } },
  keyscubic: {
    radius: 2,
    weight: (v) => {
      const x = Math.abs(v);
      if (x >= 2) return 0;
      if (x >= 1) return f(f(f(f(f(f(-0.5 * x) + 2.5) * x) - 4) * x) + 2);
      return f(f(f(f(f(1.5 * x) - 2.5) * x) * x) + 1);
    },
  },
  mitchellcubic: {
    radius: 2,
    weight: (v) => {
      const x = Math.abs(v);
      if (x >= 2) return 0;
      if (x >= 1) return f(f(f(f(f(f(f(-7 / 18) * x) + 2) * x) - f(10 / 3)) * x) + f(16 / 9));
      return f(f(f(f(f(f(7 / 6) * x) - 2) * x) * x) + f(8 / 9));
    },
  },
};

interface Spans {
  size: number;
  starts: Int32Array;
  weights: Float32Array;
}

function computeSpans(kernel: SamplingKernel, outSize: number, inSize: number, scale: number, translate: number, antialias: boolean): Spans {
  const invScale = f(1 / scale);
  const invTranslate = f(-invScale * translate);
  const kernelScale = antialias ? Math.max(invScale, 1) : 1;
  const reach = f(kernel.radius * kernelScale);
  const size = Math.min(2 * Math.ceil(reach) + 1, inSize);
  const starts = new Int32Array(outSize);
  const weights = new Float32Array(size * outSize);
  const oneOverKernelScale = f(1 / kernelScale);
  for (let x = 0; x < outSize; x++) {
    const sample = f(f(f(x + 0.5) * invScale) + invTranslate);
    if (sample < 0 || sample > inSize) continue;
    const start = Math.min(Math.max(Math.ceil(f(f(sample - reach) - 0.5)), 0), inSize - 1);
    const end = Math.min(Math.max(Math.floor(f(f(sample + reach) - 0.5)), 0), inSize - 1) + 1;
    const temp: number[] = [];
    let total = 0;
    for (let source = start; source < end; source++) {
      const position = f(f(source + 0.5) - sample);
      const weight = kernel.weight(Math.abs(f(position * oneOverKernelScale)));
      total = f(total + weight);
      temp.push(weight);
    }
    if (Math.abs(total) >= f(1000 * FLT_MIN)) {
      const inverse = f(1 / total);
      temp.forEach((w, k) => { weights[size * x + k] = f(w * inverse); });
    }
    starts[x] = start;
  }
  return { size, starts, weights };
}

function twoFloats(t: tf.Tensor): [number, number] {
  if (t.rank !== 1) throw invalidArgument(`t must be 1-dimensional[${t.shape.join(',')}]`);
  if (t.size !== 2) throw invalidArgument(`t must have two elements[${t.shape.join(',')}]`);
  const [a, b] = t.dataSync();
  return [f(a!), f(b!)];
}

function stringAttr(node: IrNode, name: string, fallback: string): string {
  const v = node.attr[name]?.value;
  return v?.case === 's' ? new TextDecoder().decode(v.value) : fallback;
}

export const scaleAndTranslate: CustomOpImpl = ([images, sizeT, scaleT, translationT], node) => {
  const kernelType = stringAttr(node, 'kernel_type', 'lanczos3');
  const kernel = KERNELS[kernelType];
  if (!kernel) throw invalidArgument(`Unrecognized kernel type: ${kernelType}`);
  const antialiasAttr = node.attr['antialias']?.value;
  const antialias = antialiasAttr?.case === 'b' ? antialiasAttr.value : true;
  const x = images!;
  if (x.rank !== 4) throw invalidArgument(`input must be 4-dimensional[${x.shape.join(',')}]`);
  if (sizeT!.rank !== 1) throw invalidArgument(`output_shape_t must be 1-dimensional[${sizeT!.shape.join(',')}]`);
  if (sizeT!.size !== 2) throw invalidArgument(`output_shape_t must have two elements[${sizeT!.shape.join(',')}]`);
  const [outHeight, outWidth] = Array.from(sizeT!.dataSync()) as [number, number];
  const [batch, inHeight, inWidth, channels] = x.shape as [number, number, number, number];
  if (!(outHeight > 0 && outWidth > 0)) throw invalidArgument('output dimensions must be positive');
  if (channels <= 0) throw invalidArgument('image must have at least one channel');
  if (inHeight <= 0 || inWidth <= 0) throw invalidArgument('input image must be of non-zero size');
  const [rowScale, colScale] = twoFloats(scaleT!);
  if (!(rowScale > 0 && colScale > 0)) throw invalidArgument('Scale must be greater than zero.');
  const [rowTranslation, colTranslation] = twoFloats(translationT!);
  const colSpans = computeSpans(kernel, outWidth, inWidth, colScale, colTranslation, antialias);
  const rowSpans = computeSpans(kernel, outHeight, inHeight, rowScale, rowTranslation, antialias);
  const input = x.dataSync();
  const rowSize = inWidth * channels;
  const intermediate = new Float32Array(outHeight * rowSize);
  const output = new Float32Array(batch * outHeight * outWidth * channels);
  for (let b = 0; b < batch; b++) {
    const image = b * inHeight * rowSize;
    intermediate.fill(0);
    for (let y = 0; y < outHeight; y++) {
      const start = rowSpans.starts[y]!;
      const span = Math.min(start + rowSpans.size, inHeight) - start;
      for (let k = 0; k < span; k++) {
        const w = rowSpans.weights[y * rowSpans.size + k]!;
        const from = image + (start + k) * rowSize;
        for (let i = 0; i < rowSize; i++) intermediate[y * rowSize + i] = intermediate[y * rowSize + i]! + f(w * input[from + i]!);
      }
    }
    for (let y = 0; y < outHeight; y++) {
      for (let xo = 0; xo < outWidth; xo++) {
        const start = colSpans.starts[xo]!;
        const span = Math.min(start + colSpans.size, inWidth) - start;
        const out = ((b * outHeight + y) * outWidth + xo) * channels;
        for (let k = 0; k < span; k++) {
          const w = colSpans.weights[xo * colSpans.size + k]!;
          const from = y * rowSize + (start + k) * channels;
          for (let c = 0; c < channels; c++) output[out + c] = output[out + c]! + f(w * intermediate[from + c]!);
        }
      }
    }
  }
  return tf.tensor4d(output, [batch, outHeight, outWidth, channels], 'float32');
};
