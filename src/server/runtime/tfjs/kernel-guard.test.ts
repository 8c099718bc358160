import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Code, ServingError } from '../../errors.js';
import { KernelFailure } from './kernel-guard.js';
import { initTfjs } from './setup.js';

const bytes = (...values: number[][]): Uint8Array[] => values.map((v) => Uint8Array.from(v));

describe('wasm kernel guard', () => {
  before(async () => initTfjs('wasm'));

  it('fails a kernel that prints "Unsupported dtype" instead of returning its unwritten output', () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 0], 'bool');
    assert.throws(
      () => tf.engine().runKernel('Mod', { a, b: a }),
      (error: unknown) =>
        error instanceof KernelFailure &&
        error instanceof ServingError &&
        error.code === Code.UNIMPLEMENTED &&
        /wasm kernel Mod cannot compute its inputs: Mod for tensor ids \d+ and \d+ failed\. Unsupported dtype/.test(error.message),
    );
    a.dispose();
    assert.equal(tf.memory().numTensors, before, 'the failed kernel leaves no tensor behind');
  });

  it('lets kernels that print nothing run as before', () => {
    const y = tf.tidy(() => tf.mod(tf.tensor1d([7, -7], 'int32'), tf.scalar(3, 'int32')));
    assert.deepEqual(Array.from(y.dataSync()), [1, 2]);
    y.dispose();
  });

  it('compares strings byte for byte on wasm (Equal and NotEqual, broadcast)', () => {
    // 0xff and 0xfe are both invalid UTF-8: decoded as text they would both become U+FFFD.
    const a = tf.tensor(bytes([0x61], [], [0xff], [0x61, 0x62]), [2, 2], 'string');
    const b = tf.tensor(bytes([0x61], [0xfe]), [2], 'string');
    const eq = tf.equal(a, b);
    const ne = tf.notEqual(a, b);
    assert.equal(eq.dtype, 'bool');
    assert.deepEqual(Array.from(eq.dataSync()), [1, 0, 0, 0]);
    assert.deepEqual(Array.from(ne.dataSync()), [0, 1, 1, 1]);
    tf.dispose([a, b, eq, ne]);
  });
});
