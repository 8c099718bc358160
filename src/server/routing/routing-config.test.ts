import assert from 'node:assert/strict';
import { Code, ServingError } from '../errors.js';
import { DEFAULT_REQUEST_KEY, parseRoutingConfig, routedVersions, routingConfigJson } from './routing-config.js';

const invalid = (text: string, message: RegExp): void =>
  assert.throws(() => parseRoutingConfig(text), (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && message.test(e.message));

describe('routing config', () => {
  it('reads weighted labels, the request key, the default label and the shadow', () => {
    const config = parseRoutingConfig(JSON.stringify({
      models: {
        m: {
          request_key: 'X-User',
          default_label: 'stable',
          labels: { stable: { canaries: [{ version: 3, percent: 10 }, { version: '4', percent: 2.5 }], shadow: { version: 3, percent: 20 } } },
        },
        n: { labels: { test: {} } },
      },
    }));
    const m = config.models.get('m')!;
    assert.equal(m.requestKey, 'x-user');
    assert.equal(m.defaultLabel, 'stable');
    assert.deepEqual(m.labels.get('stable'), { canaries: [{ version: 3n, basisPoints: 1000 }, { version: 4n, basisPoints: 250 }], shadow: { version: 3n, basisPoints: 2000 } });
    assert.equal(config.models.get('n')!.requestKey, DEFAULT_REQUEST_KEY);
    assert.deepEqual(routedVersions(config).map((r) => `${r.model}/${r.label}/${r.version}/${r.role}`), ['m/stable/3/canary', 'm/stable/4/canary', 'm/stable/3/shadow']);
    // The JSON form reads back to the same config.
    assert.deepEqual(parseRoutingConfig(JSON.stringify(routingConfigJson(config))), config);
  });

  it('reads an empty config', () => {
    assert.equal(parseRoutingConfig('{}').models.size, 0);
    assert.equal(parseRoutingConfig('{"models": {}}').models.size, 0);
  });

  it('refuses malformed configs with the field named', () => {
    invalid('{', /^Invalid routing config: .*JSON/);
    invalid('[]', /\$: must be an object/);
    invalid('{"model": {}}', /unknown field "model"/);
    invalid('{"models": {"m": {"labels": {"s": {"canaries": [{"version": 1, "percent": 101}]}}}}}', /models\.m\.labels\.s\.canaries\[0\]\.percent: must be a number from 0 to 100/);
    invalid('{"models": {"m": {"labels": {"s": {"canaries": [{"version": 1, "percent": 0.001}]}}}}}', /at most two decimals/);
    invalid('{"models": {"m": {"labels": {"s": {"canaries": [{"version": 1, "percent": 60}, {"version": 2, "percent": 50}]}}}}}', /add up to 110, more than 100/);
    invalid('{"models": {"m": {"labels": {"s": {"canaries": [{"version": 1, "percent": 1}, {"version": 1, "percent": 2}]}}}}}', /version 1 listed twice/);
    invalid('{"models": {"m": {"labels": {"s": {"canaries": [{"version": -1, "percent": 1}]}}}}}', /version: must be a non-negative integer/);
    invalid('{"models": {"m": {"labels": {"s": {"canaries": [{"version": "9223372036854775808", "percent": 1}]}}}}}', /out of the int64 range/);
    invalid('{"models": {"m": {"request_key": "a b"}}}', /request_key: "a b" is not a header name/);
    invalid('{"models": {"m": {"labels": {"s": {"shadow": {"version": 1}}}}}}', /shadow\.percent: must be a number/);
  });
});
