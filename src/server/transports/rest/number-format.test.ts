import assert from 'node:assert/strict';
import { formatFloat32, formatFloat64 } from './number-format.js';

const f32 = Math.fround;

describe('REST number formatting', () => {
  it('writes float32 values as TF Serving does (%.6g if it reads back, else %.9g, whole numbers with .0)', () => {
    // json_tensor_test.cc FromJsonSingleFloatTensorSixDigitPrecision, plus the documented bodies.
    const cases: Array<[number, string]> = [
      [9000000, '9e+06'], [999999, '999999.0'], [0.5, '0.5'], [f32(0.0003), '0.0003'], [f32(0.00003), '3e-05'],
      [555557.5, '555557.5'], [2.5, '2.5'], [3, '3.0'], [42, '42.0'], [12, '12.0'], [0, '0.0'], [-0, '-0.0'],
      [f32(1 / 3), '0.333333343'], [f32(0.1), '0.1'], [1234565, '1234565.0'], [16777216, '16777216.0'],
      [f32(-2.5e-7), '-2.5e-07'], [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
      // An exact tie at 9 digits: printf rounds to even (…312), toExponential would round up (…313).
      [2 ** -13, '0.000122070312'],
    ];
    for (const [value, text] of cases) assert.equal(formatFloat32(value), text, String(value));
  });

  it('writes doubles with %.17g when %.6g does not read back', () => {
    const cases: Array<[number, string]> = [
      [0.1, '0.1'], [1 / 3, '0.33333333333333331'], [1e21, '1e+21'], [1e-7, '1e-07'], [2 ** 60, '1.152921504606847e+18'],
      [2 ** -25, '2.9802322387695312e-08'], [7, '7.0'], [-1.5, '-1.5'],
    ];
    for (const [value, text] of cases) assert.equal(formatFloat64(value), text, String(value));
  });

  it('always writes JSON numbers that read back as the same float32', () => {
    const bits = new Uint32Array(1);
    const view = new Float32Array(bits.buffer);
    for (let i = 0; i < 2000; i++) {
      bits[0] = (Math.imul(i, 2654435761) ^ (i << 7)) >>> 0;
      const value = view[0]!;
      if (!Number.isFinite(value)) continue;
      const text = formatFloat32(value);
      assert.equal(Math.fround(JSON.parse(text) as number), value, text);
      assert.ok(text.includes('.') || text.includes('e'), text);
    }
  });
});
