import assert from 'node:assert/strict';
import { Code } from '../../errors.js';
import { errorJson, httpStatusOf } from './errors.js';

describe('REST error mapping', () => {
  it('maps every gRPC code to the HTTP status TF Serving answers with', () => {
    // TF Serving's ToHTTPStatusCode (model_servers/http_rest_api_util.cc).
    const expected: Record<keyof typeof Code, number> = {
      OK: 200, CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, NOT_FOUND: 404,
      ALREADY_EXISTS: 409, PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429, FAILED_PRECONDITION: 400, ABORTED: 409,
      OUT_OF_RANGE: 400, UNIMPLEMENTED: 501, INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
    };
    for (const [name, status] of Object.entries(expected)) {
      assert.equal(httpStatusOf(Code[name as keyof typeof Code]), status, name);
    }
    assert.equal(httpStatusOf(99 as Code), 500);
  });

  it('writes {"error": message} with JSON escaping', () => {
    assert.equal(errorJson('bad "x"\n'), '{"error":"bad \\"x\\"\\n"}');
    assert.deepEqual(JSON.parse(errorJson('Malformed request: GET /v1/foo')), { error: 'Malformed request: GET /v1/foo' });
  });
});
