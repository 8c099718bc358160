import assert from 'node:assert/strict';
import { formatFloat } from './assert.js';

describe('Assert message formatting', () => {
  it('prints floats as strings::StrCat does (%.6g, or %.9g when that does not read back)', () => {
    const cases: Array<[number, string]> = [
      [1, '1'], [-2.5, '-2.5'], [1e10, '1e+10'], [0.0001, '0.0001'], [1e-5, '1e-05'], [123456792, '123456792'],
      [Math.fround(0.1), '0.1'], [Math.fround(1 / 3), '0.333333343'], [0, '0'], [NaN, 'nan'], [-Infinity, '-inf'],
    ];
    for (const [value, text] of cases) assert.equal(formatFloat(value), text, String(value));
  });
});
