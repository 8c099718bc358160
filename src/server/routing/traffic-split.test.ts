import assert from 'node:assert/strict';
import type { LabelRoute } from './routing-config.js';
import { bucketOf, canaryFor, hashKey, shadowed } from './traffic-split.js';

const route: LabelRoute = { canaries: [{ version: 3n, basisPoints: 1000 }, { version: 4n, basisPoints: 500 }], shadow: { version: 5n, basisPoints: 2000 } };

describe('traffic split', () => {
  it('hashes a key to the same bucket every time (every pod, every restart)', () => {
    assert.equal(hashKey('abc'), hashKey('abc'));
    assert.notEqual(hashKey('request-1'), hashKey('request-2'));
    for (let i = 0; i < 100; i++) assert.equal(bucketOf(`k${i}`, () => 0.999), bucketOf(`k${i}`, () => 0));
  });

  it('gives each canary its share of keys, the primary the rest', () => {
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const version = canaryFor(route, bucketOf(`caller-${i}`)) ?? 'primary';
      counts.set(String(version), (counts.get(String(version)) ?? 0) + 1);
    }
    // Binomial standard deviations at n = 20000: 0.21% (10%), 0.15% (5%): 5 sigma bounds.
    assert.ok(Math.abs(counts.get('3')! / n - 0.10) < 0.011, `canary 3 got ${counts.get('3')}`);
    assert.ok(Math.abs(counts.get('4')! / n - 0.05) < 0.008, `canary 4 got ${counts.get('4')}`);
    assert.equal(counts.get('3')! + counts.get('4')! + counts.get('primary')!, n);
  });

  it('picks by bucket edges in config order', () => {
    assert.equal(canaryFor(route, 0), 3n);
    assert.equal(canaryFor(route, 999), 3n);
    assert.equal(canaryFor(route, 1000), 4n);
    assert.equal(canaryFor(route, 1499), 4n);
    assert.equal(canaryFor(route, 1500), undefined);
    assert.equal(canaryFor({ canaries: [] }, 0), undefined);
  });

  it('draws a random bucket for requests without a key', () => {
    assert.equal(bucketOf(undefined, () => 0), 0);
    assert.equal(bucketOf('', () => 0.99995), 9999);
  });

  it('shadows its share of keys independently of the canary split', () => {
    let copied = 0;
    let copiedOfCanary = 0;
    let canary = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = `caller-${i}`;
      const isCanary = canaryFor(route, bucketOf(key)) !== undefined;
      const shadow = shadowed(route, key);
      if (shadow) copied++;
      if (isCanary) canary++;
      if (isCanary && shadow) copiedOfCanary++;
      assert.equal(shadowed(route, key), shadow, 'sticky');
    }
    assert.ok(Math.abs(copied / 20_000 - 0.2) < 0.015, `shadowed ${copied}`);
    assert.ok(Math.abs(copiedOfCanary / canary - 0.2) < 0.04, `shadowed ${copiedOfCanary} of ${canary} canary requests`);
    assert.equal(shadowed({ canaries: [] }, 'k'), false);
    assert.equal(shadowed({ canaries: [], shadow: { version: 1n, basisPoints: 10_000 } }, 'k'), true);
  });
});
