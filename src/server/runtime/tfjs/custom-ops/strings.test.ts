import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { GraphNode } from '@tensorflow/tfjs-converter';
import type { IrNode } from '../../graph/ir.js';
import { stringBytes } from '../convert.js';
import { createModelContext } from './context.js';
import { stringSplitV2 } from './strings.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const node: IrNode = { name: 'split', op: 'StringSplitV2', inputs: [], controlInputs: [], device: '', attr: {} };
const split = (texts: string[]): tf.Tensor[] =>
  stringSplitV2([tf.tensor(texts.map((t) => encoder.encode(t)), [texts.length], 'string'), tf.tensor([encoder.encode('')], [], 'string')],
    node, createModelContext(), {} as GraphNode) as tf.Tensor[];

describe('StringSplitV2 (portable engine)', () => {
  it('splits on whitespace runs into a SparseTensor as tf.strings.split does', () => {
    const [indices, values, shape] = split(['a b', '', '  c  d e ']);
    assert.deepEqual(Array.from(indices!.dataSync()), [0, 0, 0, 1, 2, 0, 2, 1, 2, 2]);
    assert.deepEqual(stringBytes(values!).map((b) => decoder.decode(b)), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(Array.from(shape!.dataSync()), [3, 3]);
  });

  it('splits a batch of 1e6 strings (the gRPC fuzz reproducer overflowed the call stack)', () => {
    const texts = Array.from({ length: 1_000_000 }, (_, i) => (i === 777 ? 'x y z' : 'w'));
    const [indices, values, shape] = split(texts);
    assert.equal(values!.shape[0], 1_000_002);
    assert.equal(indices!.shape[0], 1_000_002);
    assert.deepEqual(Array.from(shape!.dataSync()), [1_000_000, 3]);
  });
});
