/**
 * RFFT and IRFFT with their fft_length input, which tfjs-converter's mappings drop: its RFFT
 * transformed the input at its own length, and its IRFFT always answered 2 * (bins - 1) samples,
 * so tf.signal.irfft(x, [n]) came back at the wrong length, or for odd n with wrong values.
 * RFFT crops or zero-pads the signal to fft_length; IRFFT takes the first fft_length / 2 + 1
 * bins (zero-padded), rebuilds the Hermitian spectrum of length fft_length and keeps the real
 * part of its inverse transform (so the imaginary parts of the DC and Nyquist bins drop out, as
 * in TensorFlow). Computed in float32 by tfjs's FFT kernels (on cpu, see kernel-fallback.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { CustomOpImpl } from './context.js';

function fftLength(t: tf.Tensor): number {
  if (t.rank !== 1 || t.size !== 1) throw invalidArgument(`fft_length must be a vector of 1 element, got shape [${t.shape.join(',')}]`);
  const length = t.dataSync()[0]!;
  if (length < 0) throw invalidArgument(`fft_length must be non-negative, got ${length}`);
  return length;
}

/** Crops or zero-pads the last dimension of x to `length`. */
function fit(x: tf.Tensor, length: number): tf.Tensor {
  const inner = x.shape[x.rank - 1]!;
  if (inner === length) return x;
  if (inner > length) return tf.slice(x, new Array<number>(x.rank).fill(0), [...x.shape.slice(0, -1), length]);
  return tf.pad(x, [...x.shape.slice(0, -1).map((): [number, number] => [0, 0]), [0, length - inner]]);
}

export const rfft: CustomOpImpl = ([input, lengthTensor]) => {
  const x = input!;
  if (x.rank < 1) throw invalidArgument('input must have rank of at least 1');
  const length = fftLength(lengthTensor!);
  if (length === 0) return tf.complex(tf.zeros([...x.shape.slice(0, -1), 0]), tf.zeros([...x.shape.slice(0, -1), 0]));
  return tf.tidy(() => tf.spectral.rfft(fit(x, length)));
};

export const irfft: CustomOpImpl = ([input, lengthTensor]) => {
  const x = input!;
  if (x.rank < 1) throw invalidArgument('input must have rank of at least 1');
  const length = fftLength(lengthTensor!);
  const outer = x.shape.slice(0, -1);
  if (length === 0) return tf.zeros([...outer, 0]);
  return tf.tidy(() => {
    const bins = Math.floor(length / 2) + 1;
    const re = fit(tf.real(x), bins);
    const im = fit(tf.imag(x), bins);
    const begin = [...outer.map(() => 0), 1];
    const size = [...outer, length - bins];
    // Bins fft_length - j for j = bins .. fft_length - 1 are the conjugates of bins 1 .. fft_length - bins.
    const mirroredRe = tf.reverse(tf.slice(re, begin, size), -1);
    const mirroredIm = tf.neg(tf.reverse(tf.slice(im, begin, size), -1));
    const full = tf.complex(tf.concat([re, mirroredRe], -1), tf.concat([im, mirroredIm], -1));
    return tf.real(tf.spectral.ifft(full));
  });
};
