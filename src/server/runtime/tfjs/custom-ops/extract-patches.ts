/**
 * ExtractImagePatches (tf.image.extract_patches): every ksize window of an NHWC image, sampled
 * every `rates` pixels and placed every `strides`, flattened into the depth as [row, column,
 * channel]. Padding as TensorFlow's windowed ops compute it (SAME pads before by half, rounded
 * down), padded pixels are zeros. A gather of copies, so exact for every dtype.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, unimplemented } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import type { CustomOpImpl } from './context.js';

function fourInts(node: IrNode, name: string): [number, number, number, number] {
  const v = node.attr[name]?.value;
  const values = v?.case === 'list' ? v.value.i.map(Number) : [];
  if (values.length !== 4) throw invalidArgument(`${name} attribute must contain 4 values, but got: ${values.length}`);
  return values as [number, number, number, number];
}

/** Output size and padding before, for one spatial dimension. */
function window(input: number, ksize: number, stride: number, rate: number, same: boolean): [number, number] {
  const effective = ksize + (ksize - 1) * (rate - 1);
  const out = same ? Math.ceil(input / stride) : Math.ceil((input - effective + 1) / stride);
  if (out < 0) throw invalidArgument(`Computed output size would be negative: ${out} [input_size: ${input}, effective_filter_size: ${effective}, stride: ${stride}]`);
  const padBefore = same ? Math.floor(Math.max((out - 1) * stride + effective - input, 0) / 2) : 0;
  return [out, padBefore];
}

export const extractImagePatches: CustomOpImpl = ([images], node) => {
  const x = images!;
  if (x.rank !== 4) throw invalidArgument(`input must be 4-dimensional${JSON.stringify(x.shape)}`);
  if (x.dtype === 'string') throw unimplemented('ExtractImagePatches on strings is not supported');
  const ksizes = fourInts(node, 'ksizes');
  const strides = fourInts(node, 'strides');
  const rates = fourInts(node, 'rates');
  if (ksizes[0] !== 1 || ksizes[3] !== 1 || strides[0] !== 1 || strides[3] !== 1 || rates[0] !== 1 || rates[3] !== 1) {
    throw unimplemented('Only support ksizes, strides and rates across space.');
  }
  const paddingAttr = node.attr['padding']?.value;
  const padding = paddingAttr?.case === 's' ? new TextDecoder().decode(paddingAttr.value) : 'VALID';
  const same = padding === 'SAME';
  const [batch, rows, cols, depth] = x.shape as [number, number, number, number];
  const [kr, kc] = [ksizes[1], ksizes[2]];
  const [outRows, padTop] = window(rows, kr, strides[1], rates[1], same);
  const [outCols, padLeft] = window(cols, kc, strides[2], rates[2], same);
  const input = x.dataSync();
  const patchDepth = kr * kc * depth;
  const out = new (input.constructor as Int32ArrayConstructor | Float32ArrayConstructor | Uint8ArrayConstructor)(batch * outRows * outCols * patchDepth);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outRows; r++) {
      for (let c = 0; c < outCols; c++) {
        for (let i = 0; i < kr; i++) {
          const y = r * strides[1] + i * rates[1] - padTop;
          for (let j = 0; j < kc; j++) {
            const xPos = c * strides[2] + j * rates[2] - padLeft;
            const inside = y >= 0 && y < rows && xPos >= 0 && xPos < cols;
            const base = ((b * rows + y) * cols + xPos) * depth;
            for (let d = 0; d < depth; d++) out[o++] = inside ? input[base + d]! : 0;
          }
        }
      }
    }
  }
  return tf.tensor(out, [batch, outRows, outCols, patchDepth], x.dtype);
};
