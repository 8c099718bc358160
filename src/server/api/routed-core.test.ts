import assert from 'node:assert/strict';
import { Code, ServingError, invalidArgument, notFound } from '../errors.js';
import type { ModelSpecRequest, ModelStatus, ServableHandle } from '../core/types.js';
import { parseRoutingConfig } from '../routing/routing-config.js';
import { type LabelledCore, RoutedCore } from './routed-core.js';

/** A manager seam: model m with versions 1, 2, 3 available, label stable -> 1, test -> 2. */
function fakeCore(available = new Set([1n, 2n, 3n])): LabelledCore & { acquired: ModelSpecRequest[] } {
  const labels = new Map([['stable', 1n], ['test', 2n]]);
  const acquired: ModelSpecRequest[] = [];
  return {
    acquired,
    labelVersion: (name, label) => (name === 'm' ? labels.get(label) : undefined),
    isAvailable: (name, version) => name === 'm' && available.has(version),
    acquire(spec): ServableHandle {
      acquired.push(spec);
      let version = spec.version;
      if (spec.label !== undefined) {
        version = labels.get(spec.label);
        if (version === undefined) throw invalidArgument(`Unrecognized servable version label: ${spec.label}`);
      }
      version ??= 3n;
      if (!available.has(version)) throw notFound(`Servable not found for request: Specific(${spec.name}, ${version})`);
      return { name: spec.name, version, release: () => undefined } as unknown as ServableHandle;
    },
    modelStatus: (name) => ({ name, basePath: '/m', versions: [], labels }) as ModelStatus,
    listModels: () => [{ name: 'm', basePath: '/m', versions: [], labels }, { name: 'other', basePath: '/o', versions: [], labels: new Map() }],
    isReady: () => true,
  };
}

const keyed = (key: string | undefined, header = 'x-request-id') => ({ keyValue: (name: string) => (name === header ? key : undefined) });
const ROUTING = { models: { m: { default_label: 'stable', labels: { stable: { canaries: [{ version: 2, percent: 30 }], shadow: { version: 3, percent: 50 } } } } } };

describe('RoutedCore', () => {
  it('sends a weighted label\'s keys to the canary by share, the same key always to the same version', () => {
    const core = new RoutedCore({ core: fakeCore() });
    core.setRouting(parseRoutingConfig(JSON.stringify(ROUTING)));
    const seen = new Map<string, bigint>();
    let canary = 0;
    for (let i = 0; i < 2000; i++) {
      const handle = core.acquire({ name: 'm', label: 'stable', requestKeys: keyed(`user-${i}`) });
      assert.ok(handle.version === 1n || handle.version === 2n);
      assert.equal(handle.route?.label, 'stable');
      assert.equal(handle.route?.primary, 1n);
      if (handle.version === 2n) canary++;
      seen.set(`user-${i}`, handle.version);
    }
    assert.ok(canary > 2000 * 0.25 && canary < 2000 * 0.35, `canary got ${canary} of 2000`);
    for (const [key, version] of seen) assert.equal(core.acquire({ name: 'm', label: 'stable', requestKeys: keyed(key) }).version, version);
  });

  it('routes unversioned requests as the default label, and leaves versions and other labels alone', () => {
    const inner = fakeCore();
    const core = new RoutedCore({ core: inner });
    core.setRouting(parseRoutingConfig(JSON.stringify(ROUTING)));
    const versions = new Set<bigint>();
    for (let i = 0; i < 200; i++) versions.add(core.acquire({ name: 'm', requestKeys: keyed(`k${i}`) }).version);
    assert.deepEqual([...versions].sort(), [1n, 2n]);
    assert.equal(core.acquire({ name: 'm', version: 3n, requestKeys: keyed('k1') }).version, 3n);
    assert.equal(core.acquire({ name: 'm', label: 'test', requestKeys: keyed('k1') }).version, 2n);
    assert.equal(core.acquire({ name: 'm', label: 'test' }).route?.primary, 2n);
    assert.equal(core.acquire({ name: 'other' }).version, 3n);
  });

  it('keeps TF Serving\'s errors for labels', () => {
    const core = new RoutedCore({ core: fakeCore() });
    core.setRouting(parseRoutingConfig(JSON.stringify(ROUTING)));
    assert.throws(() => core.acquire({ name: 'm', label: 'nope' }), /Unrecognized servable version label: nope/);
  });

  it('reads the configured request key', () => {
    const core = new RoutedCore({ core: fakeCore() });
    core.setRouting(parseRoutingConfig(JSON.stringify({ models: { m: { request_key: 'X-User', labels: { stable: { canaries: [{ version: 2, percent: 50 }] } } } } })));
    const byUser = (i: number): bigint => core.acquire({ name: 'm', label: 'stable', requestKeys: keyed(`u${i}`, 'x-user') }).version;
    const first = Array.from({ length: 50 }, (_, i) => byUser(i));
    assert.deepEqual(Array.from({ length: 50 }, (_, i) => byUser(i)), first);
    assert.ok(first.includes(1n) && first.includes(2n));
  });

  it('refuses routes to versions that are not AVAILABLE, keeping the previous routing', () => {
    const core = new RoutedCore({ core: fakeCore(new Set([1n, 2n])) });
    core.setRouting(parseRoutingConfig('{"models": {"m": {"labels": {"stable": {"canaries": [{"version": 2, "percent": 10}]}}}}}'));
    assert.throws(
      () => core.setRouting(parseRoutingConfig(JSON.stringify(ROUTING))),
      (e: unknown) => e instanceof ServingError && e.code === Code.FAILED_PRECONDITION &&
        e.message === 'Request to route shadow traffic of label stable to version 3 of model m, which is not currently available for inference',
    );
    assert.equal(core.routing().models.get('m')!.labels.get('stable')!.shadow, undefined);
    // A canary at 0% sends no traffic: it may name any version.
    core.setRouting(parseRoutingConfig('{"models": {"m": {"labels": {"stable": {"canaries": [{"version": 9, "percent": 0}]}}}}}'));
  });

  it('serves the primary when a canary stopped being AVAILABLE', () => {
    const available = new Set([1n, 2n]);
    const fallbacks: string[] = [];
    const core = new RoutedCore({ core: fakeCore(available), onFallback: (m, l, v) => void fallbacks.push(`${m}/${l}/${v}`) });
    core.setRouting(parseRoutingConfig('{"models": {"m": {"labels": {"stable": {"canaries": [{"version": 2, "percent": 100}]}}}}}'));
    assert.equal(core.acquire({ name: 'm', label: 'stable' }).version, 2n);
    available.delete(2n);
    assert.equal(core.acquire({ name: 'm', label: 'stable' }).version, 1n);
    assert.deepEqual(fallbacks, ['m/stable/2']);
  });

  it('samples the shadow, never onto the version that answers', () => {
    const submitted: string[] = [];
    const core = new RoutedCore({ core: fakeCore(), shadows: { submit: (m, p, s) => void submitted.push(`${m}/${p}/${s}`) } });
    core.setRouting(parseRoutingConfig(JSON.stringify(ROUTING)));
    let shadowed = 0;
    for (let i = 0; i < 2000; i++) {
      const handle = core.acquire({ name: 'm', label: 'stable', requestKeys: keyed(`s${i}`) });
      if (handle.route?.shadow !== undefined) {
        assert.equal(handle.route.shadow.version, 3n);
        handle.route.shadow.send({ signatureName: 'serving_default', inputs: new Map() });
        assert.equal(submitted.at(-1), `m/${handle.version}/3`);
        shadowed++;
      }
    }
    assert.ok(shadowed > 2000 * 0.44 && shadowed < 2000 * 0.56, `shadowed ${shadowed}`);
    // Without a runner nothing is sampled.
    const plain = new RoutedCore({ core: fakeCore() });
    plain.setRouting(parseRoutingConfig(JSON.stringify(ROUTING)));
    for (let i = 0; i < 100; i++) assert.equal(plain.acquire({ name: 'm', label: 'stable', requestKeys: keyed(`s${i}`) }).route?.shadow, undefined);
  });

  it('reports each model\'s routing with its status', () => {
    const core = new RoutedCore({ core: fakeCore() });
    core.setRouting(parseRoutingConfig(JSON.stringify(ROUTING)));
    const [m, other] = core.listModels();
    assert.deepEqual(m!.routing, {
      request_key: 'x-request-id',
      default_label: 'stable',
      labels: { stable: { canaries: [{ version: '2', percent: 30 }], shadow: { version: '3', percent: 50 } } },
    });
    assert.equal(other!.routing, undefined);
    assert.deepEqual(core.modelStatus('m').routing, m!.routing);
  });
});
