import assert from 'node:assert/strict';
import { Code, ServingError } from '../../../errors.js';
import { parseInferRequest } from './infer-request.js';

describe('OIP infer request shapes (REST fuzz finding, issue 7)', () => {
  // Seed 101 cases 2159, 7159, 13295, 13903 of `npm run fuzz`: 500 "Cannot convert object to primitive value".
  for (const shape of ['[NaN, {}]', '[{}, NaN]', '[NaN, {"b64": "!}!"}]', '[[[]], {"b64": "!!"}]']) {
    it(`answers shape ${shape} with INVALID_ARGUMENT`, () => {
      const body = Buffer.from(`{"inputs": [{"name": "x", "shape": ${shape}, "datatype": "FP32", "data": [1.0, 2.0, 5.0]}]}`);
      assert.throws(() => parseInferRequest('half', '', body, undefined), (error: unknown) => {
        assert.ok(error instanceof ServingError, String(error));
        assert.equal(error.code, Code.INVALID_ARGUMENT);
        assert.match(error.message, /^input 'x' has an invalid shape \[/);
        return true;
      });
    });
  }
});
