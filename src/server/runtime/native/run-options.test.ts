import assert from 'node:assert/strict';
import { IN_CALLER_THREAD, encodeRunOptions } from './run-options.js';

describe('RunOptions encoding', () => {
  it('is empty for TensorFlow defaults and encodes inter_op_thread_pool as a sign-extended int32', () => {
    assert.equal(encodeRunOptions({}), undefined);
    assert.equal(encodeRunOptions({ inCallerThread: false }), undefined);
    // field 3, varint; -1 as int32 is the ten-byte varint of 2^64 - 1
    assert.deepEqual(Array.from(IN_CALLER_THREAD), [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(Array.from(encodeRunOptions({ interOpThreadPool: 300 })!), [0x18, 0xac, 0x02]);
  });
});
