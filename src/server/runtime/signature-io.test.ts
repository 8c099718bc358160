import assert from 'node:assert/strict';
import { Code, ServingError } from '../errors.js';
import type { SignatureInfo } from './savedmodel/signatures.js';
import { validateShapes } from './signature-io.js';
import { DataType } from './tensor/dtypes.js';
import type { HostTensor } from './tensor/host-tensor.js';

const image = (shape: number[]): HostTensor => ({ dtype: DataType.DT_UINT8, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1)) });

function signature(shape: number[] | undefined): SignatureInfo {
  return {
    key: 'serving_default',
    methodName: 'tensorflow/serving/predict',
    inputs: [{ alias: 'pixels', tensorName: 'serving_default_pixels:0', dtype: DataType.DT_UINT8, shape }],
    outputs: [],
  };
}

const refused = (pattern: RegExp) => (e: unknown): boolean =>
  e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && pattern.test(e.message);

describe('validateShapes', () => {
  const bound = { shapeBound: new Set(['pixels']) };

  it('refuses a rank the signature rules out with the kernels\' wording', () => {
    assert.throws(() => validateShapes(signature([-1, 16, 16, 3]), new Map([['pixels', image([1, 16, 16])]]), bound),
      refused(/^input must be 4-dimensional\[1,16,16\] \(arg\[0\] pixels: the signature declares \[\?,16,16,3\]\)$/));
    assert.throws(() => validateShapes(signature([-1, 16, 16, 3]), new Map([['pixels', image([])]]), bound), refused(/4-dimensional\[\]/));
  });

  it('refuses a known dimension that differs with Python TensorFlow\'s feed message', () => {
    assert.throws(() => validateShapes(signature([-1, 16, 16, 3]), new Map([['pixels', image([1, 16, 16, 0])]]), bound),
      refused(/^Cannot feed value of shape \(1, 16, 16, 0\) for Tensor serving_default_pixels:0, which has shape \(None, 16, 16, 3\) /));
    assert.throws(() => validateShapes(signature([3]), new Map([['pixels', image([2])]]), bound),
      refused(/Cannot feed value of shape \(2,\) for Tensor serving_default_pixels:0, which has shape \(3,\)/));
  });

  it('checks the placeholder\'s declared shape too, for bound inputs only', () => {
    const feed = { ...bound, feedShapes: new Map([['pixels', [-1, 16, 16, 3]]]) };
    // The SignatureDef says nothing (unknown rank); the graph's placeholder does.
    assert.throws(() => validateShapes(signature(undefined), new Map([['pixels', image([1, 1, 1000, 3])]]), feed),
      refused(/which has shape \(None, 16, 16, 3\) \(arg\[0\] pixels: its placeholder declares \[\?,16,16,3\]\)/));
    assert.throws(() => validateShapes(signature(undefined), new Map([['pixels', image([3])]]), feed), refused(/4-dimensional\[3\]/));
    validateShapes(signature(undefined), new Map([['pixels', image([5, 16, 16, 3])]]), feed);
    validateShapes(signature(undefined), new Map([['pixels', image([3])]]), { ...feed, shapeBound: new Set() });
  });

  it('lets unknown dimensions, zero batches and unknown shapes through', () => {
    validateShapes(signature([-1, -1, -1, 3]), new Map([['pixels', image([0, 1, 7, 3])]]), { ...bound, feedShapes: new Map([['pixels', [-1, -1, -1, 3]]]) });
    validateShapes(signature(undefined), new Map([['pixels', image([2, 3])]]), bound);
  });

  it('makes batched inputs agree on the batch size unless the engine leaves it to TensorFlow', () => {
    const two: SignatureInfo = {
      ...signature([-1, 2]),
      inputs: [
        { alias: 'a', tensorName: 'a:0', dtype: DataType.DT_UINT8, shape: [-1, 2] },
        { alias: 'b', tensorName: 'b:0', dtype: DataType.DT_UINT8, shape: [-1, 2] },
      ],
    };
    const inputs = new Map([['a', image([1, 2])], ['b', image([3, 2])]]);
    const shapeBound = new Set(['a', 'b']);
    assert.throws(() => validateShapes(two, inputs, { shapeBound }), refused(/same batch size \(dimension 0\): a has 1 \[1,2\], b has 3 \[3,2\]/));
    validateShapes(two, inputs, { shapeBound, sameBatch: false });
  });
});
