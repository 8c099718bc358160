import assert from 'node:assert/strict';
import { bfloat16BitsOf, halfBitsOf, numberOfBfloat16Bits, numberOfHalfBits } from './half-float.js';

describe('FP16 and BF16 bit patterns', () => {
  it('encodes halves as numpy.float16 does (values and bits from IEEE 754 binary16)', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [65520, 0x7c00], [Infinity, 0x7c00], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0.1, 0x2e66], [1 / 3, 0x3555],
    ];
    for (const [value, bits] of cases) assert.equal(halfBitsOf(value), bits, `float16(${value})`);
    assert.equal(numberOfHalfBits(0x2e66), 0.0999755859375);
    assert.equal(numberOfHalfBits(0x7bff), 65504);
    assert.ok(Number.isNaN(numberOfHalfBits(halfBitsOf(NaN))));
    for (let bits = 0; bits < 0x7c00; bits += 97) assert.equal(halfBitsOf(numberOfHalfBits(bits)), bits);
  });

  it('encodes bfloat16 with round-to-nearest-even', () => {
    assert.equal(bfloat16BitsOf(1), 0x3f80);
    assert.equal(bfloat16BitsOf(-2.5), 0xc020);
    assert.equal(bfloat16BitsOf(1 + 2 ** -8), 0x3f80, 'a tie rounds to even');
    assert.equal(bfloat16BitsOf(1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(numberOfBfloat16Bits(0x4049), 3.140625);
  });
});
