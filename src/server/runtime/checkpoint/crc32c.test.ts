import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate, maskCrc, unmaskCrc } from './crc32c.js';

describe('crc32c', () => {
  // Check value of the Castagnoli polynomial and the RFC 3720 (iSCSI) B.4 vectors.
  it('matches the standard check value and RFC 3720 vectors', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  it('extends incrementally to the same value, across the 8-byte fast path', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    for (const split of [0, 1, 7, 8, 9, 500, 999]) {
      assert.equal(crc32cUpdate(crc32cUpdate(0, data.subarray(0, split)), data.subarray(split)), crc32c(data), `split at ${split}`);
    }
  });

  it('masks and unmasks like LevelDB', () => {
    for (const crc of [0, 1, 0xe3069283, 0xffffffff]) assert.equal(unmaskCrc(maskCrc(crc)), crc);
    assert.notEqual(maskCrc(0xe3069283), 0xe3069283);
  });
});
