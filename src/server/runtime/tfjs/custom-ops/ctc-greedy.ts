/**
 * CTCGreedyDecoder (tf.nn.ctc_greedy_decoder, Keras ctc_decode(greedy=True): OCR and speech
 * heads), as TensorFlow's CPU kernel: per batch entry, the first best class at each time step
 * up to its sequence length, blanks dropped and (merge_repeated) repeats merged; the log
 * probability is minus the sum of the best scores, in float32. Outputs a SparseTensor of the
 * decoded classes and [batch, 1] log probabilities.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { CustomOpImpl } from './context.js';

export const ctcGreedyDecoder: CustomOpImpl = ([inputsT, sequenceLengthT], node) => {
  const inputs = inputsT!;
  const lengths = sequenceLengthT!;
  if (inputs.rank !== 3) throw invalidArgument(`inputs is not a 3-Tensor`);
  if (lengths.rank !== 1) throw invalidArgument(`sequence_length is not a vector`);
  const [maxTime, batch, classes] = inputs.shape as [number, number, number];
  if (lengths.shape[0] !== batch) throw invalidArgument(`len(sequence_length) != batch_size.  len(sequence_length):  ${lengths.shape[0]} batch_size: ${batch}`);
  const merge = node.attr['merge_repeated']?.value;
  const mergeRepeated = merge?.case === 'b' ? merge.value : false;
  const blankAttr = node.attr['blank_index']?.value;
  const blankIndex = blankAttr?.case === 'i' ? Number(blankAttr.value) : -1;
  const blank = blankIndex < 0 ? classes + blankIndex : blankIndex;
  if (blank < 0 || blank >= classes) throw invalidArgument(`blank_index expected to be between ${-classes} and ${classes} but was ${blankIndex}`);
  const seq = lengths.dataSync();
  const x = inputs.dataSync();
  const logProb = new Float32Array(batch);
  const decoded: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const length = seq[b]!;
    if (!(length <= maxTime)) throw invalidArgument(`sequence_length(${b}) <= ${maxTime}`);
    const sequence: number[] = [];
    let previous = -1;
    for (let t = 0; t < length; t++) {
      const row = (t * batch + b) * classes;
      let best = 0;
      let value = x[row]!;
      for (let c = 1; c < classes; c++) {
        if (x[row + c]! > value) {
          value = x[row + c]!;
          best = c;
        }
      }
      logProb[b] = Math.fround(logProb[b]! - value);
      if (best !== blank && !(mergeRepeated && best === previous)) sequence.push(best);
      previous = best;
    }
    decoded.push(sequence);
  }
  const indices: number[] = [];
  const values: number[] = [];
  decoded.forEach((sequence, b) => sequence.forEach((k, t) => {
    indices.push(b, t);
    values.push(k);
  }));
  const longest = decoded.reduce((n, s) => Math.max(n, s.length), 0);
  return [
    tf.tensor2d(indices, [values.length, 2], 'int32'),
    tf.tensor1d(values, 'int32'),
    tf.tensor1d([batch, longest], 'int32'),
    tf.tensor2d(logProb, [batch, 1], 'float32'),
  ];
};
