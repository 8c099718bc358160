/**
 * Bad requests get TensorFlow Serving's errors and codes, never a crash, and leave no tensors
 * behind in tfjs.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Code, ServingError } from '../../src/server/errors.js';
import { DataType, loadSavedModel, type HostTensor, type ModelEngine } from '../../src/server/runtime/index.js';
import { HALF_PLUS_TWO, INT64_TIMES_SIX } from '../support/test-models.js';

const f32 = (values: number[], shape = [values.length]): HostTensor => ({ dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(values) });

function rejectsWith(code: Code, message: string | RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ServingError, String(error));
    assert.equal(Code[error.code], Code[code]);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
}

describe('request errors', () => {
  let halfPlusTwo: ModelEngine;
  let int64: ModelEngine;
  before(async () => {
    halfPlusTwo = await loadSavedModel(HALF_PLUS_TWO, { runtime: 'wasm', threads: 0 });
    int64 = await loadSavedModel(INT64_TIMES_SIX, { runtime: 'wasm', threads: 0 });
  });
  after(async () => {
    await halfPlusTwo.dispose();
    await int64.dispose();
  });

  const run = (engine: () => ModelEngine, signature: string, inputs: Array<[string, HostTensor]>, outputFilter?: string[]) =>
    engine().run({ signature, inputs: new Map(inputs), outputFilter });

  const CASES: Array<{ name: string; call: () => Promise<unknown>; code: Code; message: string | RegExp }> = [
    {
      name: 'unknown signature',
      call: () => run(() => halfPlusTwo, 'nope', [['x', f32([1])]]),
      code: Code.NOT_FOUND, message: 'Serving signature key "nope" not found.',
    },
    {
      name: 'missing input',
      call: () => run(() => halfPlusTwo, 'serving_default', []),
      code: Code.INVALID_ARGUMENT, message: 'input size does not match signature: 0!=1 len({}) != len({x}). Sent extra: {}. Missing but required: {x}.',
    },
    {
      name: 'extra input',
      call: () => run(() => halfPlusTwo, 'serving_default', [['x', f32([1])], ['z', f32([1])]]),
      code: Code.INVALID_ARGUMENT, message: 'input size does not match signature: 2!=1 len({x,z}) != len({x}). Sent extra: {z}. Missing but required: {}.',
    },
    {
      name: 'wrong input name',
      call: () => run(() => halfPlusTwo, 'serving_default', [['z', f32([1])]]),
      code: Code.INVALID_ARGUMENT, message: 'input tensor alias not found in signature: z. Inputs expected to be in the set {x}.',
    },
    {
      name: 'wrong dtype',
      call: () => run(() => halfPlusTwo, 'serving_default', [['x', { dtype: DataType.DT_INT32, shape: [1], data: Int32Array.from([1]) }]]),
      code: Code.INVALID_ARGUMENT, message: 'Expects arg[0] to be float but int32 is provided',
    },
    {
      name: 'unknown output filter',
      call: () => run(() => halfPlusTwo, 'serving_default', [['x', f32([1])]], ['nope']),
      code: Code.INVALID_ARGUMENT, message: 'output tensor alias not found in signature: nope Outputs expected to be in the set {y}.',
    },
    {
      name: 'int64 beyond int32',
      call: () => run(() => int64, 'serving_default', [['x', { dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.from([1n, 1n << 40n]) }]]),
      code: Code.INVALID_ARGUMENT, message: /input x: DT_INT64 value 1099511627776 at index 1 is outside the int32 range/,
    },
    {
      name: 'malformed tf.Example in a classify request',
      call: () => run(() => halfPlusTwo, 'classify_x_to_y', [['inputs', { dtype: DataType.DT_STRING, shape: [1], data: [Uint8Array.from([0xff, 0xff, 0xff])] }]]),
      code: Code.INVALID_ARGUMENT, message: /Could not parse example input/,
    },
    {
      name: 'tf.Example without the required feature',
      call: () => run(() => halfPlusTwo, 'regress_x2_to_y3', [['inputs', f32([1], [1, 1])]]).then(() =>
        run(() => halfPlusTwo, 'classify_x_to_y', [['inputs', { dtype: DataType.DT_STRING, shape: [1], data: [new Uint8Array(0)] }]])),
      code: Code.INVALID_ARGUMENT, message: /Feature: x \(data type: float\) is required but could not be found/,
    },
  ];

  for (const c of CASES) {
    it(`${c.name} -> ${Code[c.code]}`, async () => {
      await assert.rejects(c.call(), rejectsWith(c.code, c.message));
    });
  }

  it('leaves no tfjs tensors behind after failed or successful requests, and keeps serving', async () => {
    await run(() => halfPlusTwo, 'serving_default', [['x', f32([1])]]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      for (const c of CASES) await c.call().catch(() => undefined);
      await run(() => halfPlusTwo, 'serving_default', [['x', f32([1, 2])]]);
    }
    assert.equal(tf.memory().numTensors, before);
    const out = await run(() => halfPlusTwo, 'serving_default', [['x', f32([1, 2, 5])]]);
    assert.deepEqual(Array.from(out.get('y')!.data as Float32Array), [2.5, 3, 4.5]);
  });
});
