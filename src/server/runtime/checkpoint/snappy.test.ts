import assert from 'node:assert/strict';
import { snappyUncompress } from './snappy.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('snappyUncompress', () => {
  it('decodes a literal', () => {
    // length 5, literal tag (len-1)<<2, "hello"
    assert.equal(text(snappyUncompress(Uint8Array.from([5, 4 << 2, ...new TextEncoder().encode('hello')]))), 'hello');
  });

  it('decodes overlapping copies (run-length style) and 2-byte offsets', () => {
    // "ab" literal, then copy len 8 offset 2 (1-byte offset form), then copy len 3 offset 10 (2-byte form)
    const input = Uint8Array.from([13, 1 << 2, 0x61, 0x62, ((8 - 4) << 2) | 1, 2, ((3 - 1) << 2) | 2, 10, 0]);
    assert.equal(text(snappyUncompress(input)), 'abababababaab'.slice(0, 10) + 'aba');
  });

  it('rejects copies that reach before the start and wrong lengths', () => {
    assert.throws(() => snappyUncompress(Uint8Array.from([4, ((4 - 4) << 2) | 1, 5])), RangeError);
    assert.throws(() => snappyUncompress(Uint8Array.from([9, 4 << 2, ...new TextEncoder().encode('hello')])), RangeError);
  });
});
