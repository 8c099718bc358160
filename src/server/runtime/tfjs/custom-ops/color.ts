/**
 * RGBToHSV, HSVToRGB, AdjustContrastv2, AdjustSaturation and AdjustHue on host arrays, each the
 * way TensorFlow's CPU kernel computes it in float32 (Math.fround after every operation; its
 * constants where it writes them in double), so results equal TensorFlow's. The HSV ops and the
 * adjust ops are separate kernels in TensorFlow with different formulas: kept apart here too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Code, ServingError, invalidArgument } from '../../../errors.js';
import type { CustomOpImpl } from './context.js';

const f = Math.fround;
const SIXTH = f(1 / 6);
const TWO_SIXTHS = f(2 / 6);
const FOUR_SIXTHS = f(4 / 6);

const shapeText = (t: tf.Tensor): string => `[${t.shape.join(',')}]`;

/** The pixels of a [..., 3] float tensor and an output of the same size. */
function pixels(images: tf.Tensor, minRank: number, wrongChannels: (channels: number) => ServingError): [ArrayLike<number>, Float32Array] {
  if (images.rank < minRank) {
    throw invalidArgument(minRank === 1 ? `input must be at least 1D${shapeText(images)}` : `input must be at least 3-D, got shape${shapeText(images)}`);
  }
  const channels = images.shape[images.rank - 1]!;
  if (channels !== 3) throw wrongChannels(channels);
  return [images.dataSync(), new Float32Array(images.size)];
}

const hsvChannels = (channels: number): ServingError =>
  new ServingError(Code.FAILED_PRECONDITION, `input must have 3 channels but input only has ${channels} channels.`);
const adjustChannels = (channels: number): ServingError =>
  invalidArgument(`input must have 3 channels but instead has ${channels} channels.`);

function scalar(t: tf.Tensor, what: string): number {
  if (t.rank !== 0) throw invalidArgument(`${what} must be scalar: ${shapeText(t)}`);
  return f(t.dataSync()[0]!);
}

/** TensorFlow's Eigen RGBToHSV functor. */
export const rgbToHsv: CustomOpImpl = ([images]) => {
  const [x, out] = pixels(images!, 1, hsvChannels);
  for (let i = 0; i < x.length; i += 3) {
    const r = x[i]!, g = x[i + 1]!, b = x[i + 2]!;
    const v = Math.max(r, g, b);
    const range = f(v - Math.min(r, g, b));
    const s = v > 0 ? f(range / v) : 0;
    const norm = f(f(1 / range) * SIXTH);
    let h = r === v ? f(norm * f(g - b)) : g === v ? f(f(norm * f(b - r)) + TWO_SIXTHS) : f(f(norm * f(r - g)) + FOUR_SIXTHS);
    if (!(range > 0)) h = 0;
    if (h < 0) h = f(h + 1);
    out[i] = h;
    out[i + 1] = s;
    out[i + 2] = v;
  }
  return tf.tensor(out, images!.shape, 'float32');
};

const clamp01 = (v: number): number => Math.min(Math.max(v, 0), 1);

/** TensorFlow's Eigen HSVToRGB functor. */
export const hsvToRgb: CustomOpImpl = ([images]) => {
  const [x, out] = pixels(images!, 1, hsvChannels);
  for (let i = 0; i < x.length; i += 3) {
    const h = x[i]!, s = x[i + 1]!, v = x[i + 2]!;
    const dh = f(h * 6);
    const dr = clamp01(f(Math.abs(f(dh - 3)) - 1));
    const dg = clamp01(f(2 - Math.abs(f(dh - 2))));
    const db = clamp01(f(2 - Math.abs(f(dh - 4))));
    const oneMinusS = f(1 - s);
    out[i] = f(f(oneMinusS + f(s * dr)) * v);
    out[i + 1] = f(f(oneMinusS + f(s * dg)) * v);
    out[i + 2] = f(f(oneMinusS + f(s * db)) * v);
  }
  return tf.tensor(out, images!.shape, 'float32');
};

/**
 * AdjustContrastv2: per image and channel, mean + factor * (x - mean), the mean summed the way
 * TensorFlow folds the image plane in halves (so its rounding is TensorFlow's too).
 */
export const adjustContrastV2: CustomOpImpl = ([images, contrastFactor]) => {
  const input = images!;
  if (input.rank < 3) throw invalidArgument(`input must be at least 3-D, got shape${shapeText(input)}`);
  const factor = scalar(contrastFactor!, 'contrast_factor');
  const [height, width, channels] = input.shape.slice(-3) as [number, number, number];
  const imageSize = height * width;
  const x = input.dataSync();
  const out = new Float32Array(input.size);
  if (input.size === 0) return tf.tensor(out, input.shape, 'float32');
  const batch = input.size / (imageSize * channels);
  const plane = imageSize * channels;
  const sums = new Float32Array(plane);
  const meanScaling = f(1 / imageSize);
  for (let n = 0; n < batch; n++) {
    const base = n * plane;
    let remaining = imageSize;
    let round = 0;
    do {
      const right = Math.floor(remaining / 2);
      const left = remaining - right;
      if (round === 0) {
        for (let j = 0; j < right * channels; j++) sums[j] = x[base + left * channels + j]! + x[base + j]!;
        if (left > right) for (let c = 0; c < channels; c++) sums[right * channels + c] = x[base + right * channels + c]!;
      } else {
        for (let j = 0; j < right * channels; j++) sums[j] = sums[j]! + sums[left * channels + j]!;
      }
      remaining = left;
      round++;
    } while (remaining > 1);
    for (let c = 0; c < channels; c++) {
      const mean = f(sums[c]! * meanScaling);
      for (let p = 0; p < imageSize; p++) {
        const k = base + p * channels + c;
        out[k] = f(mean + f(factor * f(x[k]! - mean)));
      }
    }
  }
  return tf.tensor(out, input.shape, 'float32');
};

/** adjust_saturation_op.cc's rgb_to_hsv: its own formulas (1 / (6 range), double 2/6 and 4/6). */
function rgbToHsvForSaturation(r: number, g: number, b: number): [number, number, number] {
  const v = Math.max(r, g, b);
  const range = f(v - Math.min(r, g, b));
  const s = v > 0 ? f(range / v) : 0;
  const norm = f(1 / f(6 * range));
  let h = r === v ? f(norm * f(g - b)) : g === v ? f(f(norm * f(b - r)) + 2 / 6) : f(f(norm * f(r - g)) + 4 / 6);
  if (range <= 0) h = 0;
  if (h < 0) h = f(h + 1);
  return [h, s, v];
}

/** adjust_saturation_op.cc's hsv_to_rgb. */
function hsvToRgbForSaturation(h: number, s: number, v: number, out: Float32Array, i: number): void {
  const c = f(s * v);
  const m = f(v - c);
  const dh = f(h * 6);
  const category = Math.trunc(dh);
  let fmodu = dh;
  while (fmodu <= 0) fmodu = f(fmodu + 2);
  while (fmodu >= 2) fmodu = f(fmodu - 2);
  const x = f(c * f(1 - Math.abs(f(fmodu - 1))));
  const [rr, gg, bb] = [[c, x, 0], [x, c, 0], [0, c, x], [0, x, c], [x, 0, c], [c, 0, x]][category] ?? [0, 0, 0];
  out[i] = f(rr! + m);
  out[i + 1] = f(gg! + m);
  out[i + 2] = f(bb! + m);
}

export const adjustSaturation: CustomOpImpl = ([images, scaleTensor]) => {
  const [x, out] = pixels(images!, 3, adjustChannels);
  const scale = scalar(scaleTensor!, 'scale');
  for (let i = 0; i < x.length; i += 3) {
    const [h, s, v] = rgbToHsvForSaturation(x[i]!, x[i + 1]!, x[i + 2]!);
    hsvToRgbForSaturation(h, Math.min(1, Math.max(0, f(s * scale))), v, out, i);
  }
  return tf.tensor(out, images!.shape, 'float32');
};

/** adjust_hue_op.cc's rgb_to_hv_range: hue in [0, 6) from the sorted channels. */
function rgbToHvRange(r: number, g: number, b: number): [h: number, min: number, max: number] {
  let max: number, mid: number, min: number, category: number;
  if (r < g) {
    if (b < r) [max, mid, min, category] = [g, r, b, 1];
    else if (b > g) [max, mid, min, category] = [b, g, r, 3];
    else [max, mid, min, category] = [g, b, r, 2];
  } else if (b < g) [max, mid, min, category] = [r, g, b, 0];
  else if (b > r) [max, mid, min, category] = [b, r, g, 4];
  else [max, mid, min, category] = [r, b, g, 5];
  if (max === min) return [0, min, max];
  const ratio = f(f(mid - min) / f(max - min));
  return [f(category + ((category & 1) === 0 ? ratio : f(1 - ratio))), min, max];
}

const HUE_ORDER: ReadonlyArray<readonly [number, number, number]> = [
  // Which of (max, mid, min) each of r, g, b takes, by hue category.
  [0, 1, 2], [1, 0, 2], [2, 0, 1], [2, 1, 0], [1, 2, 0], [0, 2, 1],
];

export const adjustHue: CustomOpImpl = ([images, deltaTensor]) => {
  const [x, out] = pixels(images!, 3, adjustChannels);
  const delta = scalar(deltaTensor!, 'delta');
  const shift = f(delta * 6);
  for (let i = 0; i < x.length; i += 3) {
    const hv = rgbToHvRange(x[i]!, x[i + 1]!, x[i + 2]!);
    let h = f(hv[0] + shift);
    while (h < 0) h = f(h + 6);
    while (h >= 6) h = f(h - 6);
    const [, min, max] = hv;
    const category = Math.trunc(h);
    let ratio = f(h - category);
    if ((category & 1) !== 0) ratio = f(1 - ratio);
    const mid = f(min + f(ratio * f(max - min)));
    const values = [max, mid, min];
    const order = HUE_ORDER[category] ?? HUE_ORDER[5]!;
    out[i] = values[order[0]]!;
    out[i + 1] = values[order[1]]!;
    out[i + 2] = values[order[2]]!;
  }
  return tf.tensor(out, images!.shape, 'float32');
};
