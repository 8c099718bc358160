import assert from 'node:assert/strict';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { mergeInputs, roundToAllowedBatchSize, splitOutputs, taskSize } from './batch-tensors.js';
import { floats } from './test-support.js';

const request = (inputs: Record<string, HostTensor>) => {
  const map = new Map(Object.entries(inputs));
  return { inputs: map, size: taskSize(map) };
};

describe('batch tensors', () => {
  it('rounds to the lowest allowed batch size', () => {
    assert.equal(roundToAllowedBatchSize([], 3), 3);
    assert.equal(roundToAllowedBatchSize([2, 4, 8], 3), 4);
    assert.equal(roundToAllowedBatchSize([2, 4, 8], 4), 4);
    assert.equal(roundToAllowedBatchSize([2, 4], 5), 5);
  });

  it('merges several inputs in alias order and pads each the same way', () => {
    const a = request({ x: floats([1, 2], [1, 2]), k: { dtype: DataType.DT_INT32, shape: [1], data: Int32Array.from([7]) } });
    const b = request({ k: { dtype: DataType.DT_INT32, shape: [2], data: Int32Array.from([8, 9]) }, x: floats([2, 2], [3, 4, 5, 6]) });
    const merged = mergeInputs([a, b], ['k', 'x'], { allowedBatchSizes: [4], padVariableLengthInputs: false });
    assert.equal(merged.paddedSize, 4);
    assert.deepEqual([...merged.inputs.keys()], ['k', 'x']);
    assert.deepEqual(Array.from(merged.inputs.get('k')!.data as Int32Array), [7, 8, 9, 8]);
    assert.deepEqual(Array.from(merged.inputs.get('x')!.data as Float32Array), [1, 2, 3, 4, 5, 6, 3, 4]);
  });

  it('pads variable-length inputs to the largest dims of the batch', () => {
    const a = request({ x: floats([1, 1], [5]) });
    const b = request({ x: floats([1, 3], [1, 2, 3]) });
    const merged = mergeInputs([a, b], ['x'], { allowedBatchSizes: [], padVariableLengthInputs: true });
    assert.deepEqual(merged.inputs.get('x')!.shape, [2, 3]);
    assert.deepEqual(Array.from(merged.inputs.get('x')!.data as Float32Array), [5, 5, 5, 1, 2, 3]);
  });

  it('refuses to pad tensors of rank above 6', () => {
    const shape = (last: number) => [1, 1, 1, 1, 1, 1, last];
    const a = request({ x: floats(shape(1), [1]) });
    const b = request({ x: floats(shape(2), [1, 2]) });
    assert.throws(
      () => mergeInputs([a, b], ['x'], { allowedBatchSizes: [], padVariableLengthInputs: true }),
      /Only tensors with rank from 1 to 6 can be padded\./,
    );
  });

  it('splits outputs per task and drops padding rows', () => {
    const outputs = new Map([['y', floats([4], [1, 2, 3, 4])]]);
    const split = splitOutputs(outputs, [1, 2], 4);
    assert.deepEqual(split.map((m) => Array.from(m.get('y')!.data as Float32Array)), [[1], [2, 3]]);
  });

  it("checks the batched outputs' dim 0 with TF's message", () => {
    const outputs = new Map([['y', floats([2], [1, 2])]]);
    assert.throws(
      () => splitOutputs(outputs, [1, 2], 3),
      /Batched output tensor's 0th dimension does not equal the sum of the 0th dimension sizes of the input tensors/,
    );
  });
});
