import assert from 'node:assert/strict';
import { Code, ServingError } from '../../errors.js';
import { type Route, routeOf, urlUnescape } from './router.js';

function plain(route: Route): Record<string, unknown> {
  return {
    kind: route.kind,
    model: route.model,
    ...(route.version !== undefined ? { version: route.version } : {}),
    ...(route.label !== undefined ? { label: route.label } : {}),
    ...(route.error ? { error: route.error.message } : {}),
  };
}

describe('REST router', () => {
  it('routes the API calls with versions and labels, case-insensitively but with exact verbs', () => {
    assert.deepEqual(plain(routeOf('POST', '/v1/models/m:predict')), { kind: 'predict', model: 'm' });
    assert.deepEqual(plain(routeOf('POST', '/v1/models/m/versions/00042:classify?x=1')), { kind: 'classify', model: 'm', version: 42n });
    assert.deepEqual(plain(routeOf('POST', '/V1/MODELS/M/LABELS/stable:regress')), { kind: 'regress', model: 'M', label: 'stable' });
    assert.deepEqual(plain(routeOf('GET', '/v1/models/m')), { kind: 'status', model: 'm' });
    assert.deepEqual(plain(routeOf('GET', '/v1/models/m/versions/7')), { kind: 'status', model: 'm', version: 7n });
    assert.deepEqual(plain(routeOf('GET', '/v1/models/m/labels/canary/metadata')), { kind: 'metadata', model: 'm', label: 'canary' });
    assert.deepEqual(plain(routeOf('GET', '/v1/models')), { kind: 'models', model: '' });
    // TF Serving compares the verb and the subresource exactly after a case-insensitive match.
    assert.deepEqual(plain(routeOf('POST', '/v1/models/m:PREDICT')), { kind: 'malformed', model: '', error: 'Malformed request: POST /v1/models/m:PREDICT' });
    assert.equal(routeOf('GET', '/v1/models/m/METADATA').kind, 'status');
  });

  it('URL-decodes model names and labels like curl_easy_unescape', () => {
    assert.deepEqual(plain(routeOf('POST', '/v1/models/my%20model/labels/a%2Fb:predict')), { kind: 'predict', model: 'my model', label: 'a/b' });
    assert.equal(urlUnescape('a+b%zz%4'), 'a+b%zz%4');
    assert.equal(urlUnescape('caf%C3%A9'), 'café');
  });

  it('rejects versions that are not int64 and the paths TF Serving calls malformed', () => {
    const tooBig = routeOf('POST', '/v1/models/foo/versions/18446744073709551615:regress');
    assert.equal(tooBig.error?.message, 'Failed to convert version: 18446744073709551615 to numeric.');
    assert.equal(tooBig.error?.code, Code.INVALID_ARGUMENT);
    assert.equal(routeOf('GET', '/v1/models/foo/versions/9223372036854775807').version, 9223372036854775807n);
    // http_rest_api_handler_test.cc UnsupportedApiCalls.
    for (const [method, path] of [
      ['GET', '/v1/foo'], ['POST', '/v1/foo'], ['GET', '/v1/models/debug/model_name'], ['POST', '/v1/models'],
      ['GET', '/v1/models/foo:predict'], ['GET', '/v1/models/foo/version/50:predict'],
      ['POST', '/v1/models/foo/version/50:regress'], ['POST', '/v1/models/foo/versions/HELLO:regress'],
      ['POST', '/v1/models/foo/metadata'], ['POST', '/v1/models/foo/label/some_label:regress'],
      ['POST', '/v1/models/foo/versions/50/labels/some_label:regress'], ['POST', '/v1/models/foo/versions/some_label:regress'],
      ['PUT', '/v1/models/foo:predict'], ['DELETE', '/v1/models/foo'], ['GET', '/v1/models/'], ['GET', '/v1/'],
    ] as const) {
      const route = routeOf(method, path);
      assert.equal(route.kind, 'malformed', `${method} ${path}`);
      assert.ok(route.error instanceof ServingError);
      assert.equal(route.error.message, `Malformed request: ${method} ${path}`);
    }
    assert.equal(routeOf('GET', '/v1/models/versions/3').error?.message, 'Missing model name in request.');
  });

  it('leaves paths outside /v1 and the exact paths (metrics) to the other routes; OPTIONS is a preflight', () => {
    assert.equal(routeOf('GET', '/healthz').kind, 'other');
    assert.equal(routeOf('GET', '/v1').kind, 'other');
    assert.equal(routeOf('GET', '/v2/models/m').kind, 'oip', 'the Open Inference Protocol');
    assert.equal(routeOf('GET', '/v20/models/m').kind, 'other');
    assert.equal(routeOf('GET', '/v1/metrics', new Set(['/v1/metrics'])).kind, 'other');
    assert.equal(routeOf('GET', '/v1/metrics').kind, 'malformed');
    assert.equal(routeOf('OPTIONS', '/v1/models/m:predict').kind, 'preflight');
  });
});
