/**
 * DecodePng, and DecodeImage on PNG bytes, through pngjs. Output [height, width, channels] uint8
 * as TensorFlow's decoder gives it: channels 0 keeps the image's own (gray 1, gray+alpha 2, RGB 3,
 * RGBA 4, palette 3 or 4), more channels than the image has replicate gray and add an opaque
 * alpha, fewer drop alpha. Conversions TensorFlow computes through libpng arithmetic (colour to
 * gray) and 16-bit output are refused rather than approximated; so are other image formats.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { invalidArgument, unimplemented } from '../../../errors.js';
import { NATIVE_HINT } from '../missing-ops.js';
import { getInt, getType } from '../../graph/attrs.js';
import { DataType } from '../../tensor/dtypes.js';
import { stringBytes } from '../convert.js';
import type { CustomOpImpl } from './context.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const isPng = (bytes: Uint8Array): boolean => PNG_SIGNATURE.every((b, i) => bytes[i] === b);

/** The image's own channel count, from the IHDR colour type (and a palette's transparency). */
function ownChannels(colorType: number, hasAlpha: boolean): number {
  switch (colorType) {
    case 0: return 1;
    case 4: return 2;
    case 2: return 3;
    case 6: return 4;
    default: return hasAlpha ? 4 : 3;
  }
}

export const decodePng: CustomOpImpl = ([contents], node) => {
  if (contents!.rank !== 0) throw invalidArgument(`contents must be scalar, got shape [${contents!.shape}]`);
  const bytes = stringBytes(contents!)[0]!;
  if (!isPng(bytes)) {
    if (node.op === 'DecodeImage') throw unimplemented(`${node.op} node "${node.name}": only PNG images are supported by this runtime. ${NATIVE_HINT}`);
    throw invalidArgument('Invalid PNG data, size ' + bytes.length);
  }
  const dtype = getType(node, 'dtype') ?? DataType.DT_UINT8;
  if (dtype !== DataType.DT_UINT8) throw unimplemented(`${node.op} node "${node.name}": only uint8 output is supported by this runtime`);
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw invalidArgument(`Invalid PNG data: ${error instanceof Error ? error.message : String(error)}`);
  }
  const meta = image as unknown as { colorType: number; depth: number; alpha: boolean };
  if (meta.depth === 16) throw unimplemented(`${node.op} node "${node.name}": 16-bit PNGs are not supported by this runtime`);
  const own = ownChannels(meta.colorType, meta.alpha);
  const channels = getInt(node, 'channels') || own;
  if (![1, 2, 3, 4].includes(channels)) throw invalidArgument(`channels must be 0, 1, 2, 3 or 4, got ${channels}`);
  if (own >= 3 && channels <= 2) {
    throw unimplemented(`${node.op} node "${node.name}": converting a colour PNG to ${channels} channel(s) is not supported by this runtime`);
  }
  // pngjs gives RGBA for every colour type (gray replicated, opaque alpha where absent).
  const picks = channels === 1 ? [0] : channels === 2 ? [0, 3] : channels === 3 ? [0, 1, 2] : [0, 1, 2, 3];
  const { width, height, data } = image;
  const out = new Int32Array(width * height * channels);
  for (let p = 0, o = 0; p < width * height; p++) for (const c of picks) out[o++] = data[p * 4 + c]!;
  return tf.tensor3d(out, [height, width, channels], 'int32');
};
