/**
 * Equal and NotEqual on strings, byte for byte as TensorFlow compares them. The wasm kernels do not
 * take strings (they print "Unsupported input_type 3" and return garbage), and the cpu backend's
 * decode the bytes as UTF-8 first, so two different invalid sequences would compare equal.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { broadcastIndex, broadcastShape } from './custom-ops/broadcast.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when the kernel call compares strings (both operands share a dtype in TensorFlow). */
export const comparesStrings = ({ inputs }: KernelArgs): boolean =>
  (inputs as tf.NamedTensorInfoMap)['a']?.dtype === 'string';

export function stringComparison(kernelName: 'Equal' | 'NotEqual'): tf.KernelFunc {
  const equalValue = kernelName === 'Equal' ? 1 : 0;
  return ({ inputs, backend }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const store = backend as tf.KernelBackend;
    const aValues = store.readSync(a.dataId) as Uint8Array[];
    const bValues = store.readSync(b.dataId) as Uint8Array[];
    const shape = broadcastShape([a.shape, b.shape], kernelName);
    const ai = broadcastIndex(a.shape, shape);
    const bi = broadcastIndex(b.shape, shape);
    const out = new Uint8Array(shape.reduce((n, d) => n * d, 1));
    for (let i = 0; i < out.length; i++) {
      out[i] = sameBytes(aValues[ai(i)]!, bValues[bi(i)]!) ? equalValue : 1 - equalValue;
    }
    return { dataId: store.write(out, shape, 'bool'), shape, dtype: 'bool' };
  };
}
