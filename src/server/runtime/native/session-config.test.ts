import assert from 'node:assert/strict';
import { encodeSessionConfig } from './session-config.js';

describe('session ConfigProto encoding', () => {
  it('is empty for TensorFlow defaults and encodes the fields we set', () => {
    assert.equal(encodeSessionConfig({}), undefined);
    assert.equal(encodeSessionConfig({ gpuMemoryFraction: 0 }), undefined);
    // gpu_options (6) { per_process_gpu_memory_fraction (1, double 0.5) allow_growth (4, true) }
    assert.deepEqual(Array.from(encodeSessionConfig({ gpuMemoryFraction: 0.5, allowGrowth: true })!), [
      0x32, 11, 0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x20, 1,
    ]);
    // intra_op_parallelism_threads (2) = 300 as a two-byte varint, inter_op (5) = 1
    assert.deepEqual(Array.from(encodeSessionConfig({ intraOpThreads: 300, interOpThreads: 1 })!), [0x10, 0xac, 0x02, 0x28, 1]);
  });
});
