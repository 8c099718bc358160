import assert from 'node:assert/strict';
import { Code } from '../../server/errors.js';
import { ServingMetrics } from '../../server/metrics/index.js';
import { parseMetricsText } from './metrics-text.js';
import { EMPTY_SNAPSHOT, type RolloutSnapshot, rolloutSnapshot } from './rollout-metrics.js';
import { evaluateGates, measureInterval, quantile } from './gates.js';

/** What tfmodel-server's own metrics endpoint exports, read back as the operator reads it. */
async function snapshotOf(metrics: ServingMetrics): Promise<RolloutSnapshot> {
  return rolloutSnapshot(parseMetricsText((await metrics.render()).body), 'm', 1, 2);
}

const request = (metrics: ServingMetrics, version: bigint, status: Code, seconds: number): void =>
  metrics.request({ model: 'm', api: 'predict', entrypoint: 'REST', status, latencyMicros: seconds * 1e6, label: 'stable', signature: 'serving_default', version });

describe('rollout gates', () => {
  it('reads the server\'s metrics text: per-version requests, errors, latency buckets, shadow runs and differences', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    for (let i = 0; i < 30; i++) request(metrics, 1n, Code.OK, 0.004);
    for (let i = 0; i < 10; i++) request(metrics, 2n, i < 2 ? Code.INTERNAL : Code.OK, 0.004);
    metrics.request({ model: 'other', api: 'predict', entrypoint: 'GRPC', status: Code.OK, latencyMicros: 1, version: 2n });
    for (let i = 0; i < 5; i++) metrics.shadow({ model: 'm', primary: 1n, shadow: 2n, outcome: 'run', primaryFailed: false, shadowFailed: i === 0, comparisons: i === 0 ? [] : [{ output: 'y', maxAbsDiff: 0.5, maxRelDiff: 0.1 }] });
    metrics.shadow({ model: 'm', primary: 1n, shadow: 2n, outcome: 'dropped' });
    const snapshot = await snapshotOf(metrics);
    assert.equal(snapshot.candidate.requests, 10);
    assert.equal(snapshot.candidate.errors, 2);
    assert.equal(snapshot.primary.requests, 30);
    assert.equal(snapshot.candidate.latency.at(-1)![1], 8, 'latency counts successful requests');
    assert.deepEqual({ ...snapshot.shadow, absDiff: undefined }, { run: 5, dropped: 1, primaryErrors: 0, shadowErrors: 1, absDiff: undefined });
    assert.equal(snapshot.shadow.absDiff.find(([bound]) => bound === 1)![1], 4);

    const measure = measureInterval('pod-a', EMPTY_SNAPSHOT, snapshot)!;
    assert.equal(measure.observations, 15);
    assert.equal(measure.errorRate, 3 / 15);
    assert.equal(measure.divergence, 1, 'the bound of the bucket the largest difference fell in');
    assert.ok(measure.p99LatencyRatio === undefined, 'the candidate has 8 successful samples, fewer than 10');
    assert.deepEqual(evaluateGates({ maxErrorRate: 0.1, maxOutputDivergence: 1 }, [measure]).failures, [{ gate: 'maxErrorRate', pod: 'pod-a', value: 0.2, threshold: 0.1 }]);
    assert.deepEqual(evaluateGates({ maxErrorRate: 0.25, maxOutputDivergence: 0.01 }, [measure]).failures, [{ gate: 'maxOutputDivergence', pod: 'pod-a', value: 1, threshold: 0.01 }]);
  });

  it('measures only the interval: the difference of two snapshots', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    for (let i = 0; i < 20; i++) request(metrics, 2n, Code.INTERNAL, 0.004);
    const start = await snapshotOf(metrics);
    for (let i = 0; i < 20; i++) request(metrics, 2n, Code.OK, 0.05);
    for (let i = 0; i < 20; i++) request(metrics, 1n, Code.OK, 0.005);
    const measure = measureInterval('p', start, await snapshotOf(metrics))!;
    assert.equal(measure.errorRate, 0, 'the errors before the interval do not count');
    // p99 of 20 samples in (0.03, 0.05] over p99 of 20 in (0.003, 0.005]: histogram_quantile interpolation.
    assert.ok(Math.abs(measure.p99LatencyRatio! - (0.03 + 0.02 * 0.99) / (0.003 + 0.002 * 0.99)) < 1e-9, String(measure.p99LatencyRatio));
    assert.deepEqual(evaluateGates({ maxP99LatencyRatio: 2 }, [measure]).failures.map((f) => f.gate), ['maxP99LatencyRatio']);
    assert.deepEqual(evaluateGates({ maxP99LatencyRatio: 20 }, [measure]).failures, []);
  });

  it('has no measurement for a pod whose counters went backwards (restarted), and none below minRequests', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    for (let i = 0; i < 5; i++) request(metrics, 2n, Code.INTERNAL, 0.004);
    const later = await snapshotOf(metrics);
    assert.equal(measureInterval('p', later, EMPTY_SNAPSHOT), undefined);
    const few = measureInterval('p', EMPTY_SNAPSHOT, later)!;
    assert.equal(few.errorRate, undefined, '5 observations < 10');
    assert.equal(measureInterval('p', EMPTY_SNAPSHOT, later, 5)!.errorRate, 1);
    const verdict = evaluateGates({ maxErrorRate: 0 }, [few, { pod: 'q', unmeasured: true }]);
    assert.deepEqual(verdict.failures, []);
    assert.deepEqual(verdict.unmeasured, ['q']);
  });

  it('computes quantiles as Prometheus\' histogram_quantile does', () => {
    assert.equal(quantile(0.5, [[1, 0], [2, 10], [Infinity, 10]]), 1.5);
    assert.equal(quantile(0.99, [[1, 5], [Infinity, 10]]), 1, 'the +Inf bucket gives the largest finite bound');
    assert.equal(quantile(0.5, []), undefined);
    assert.equal(quantile(0.5, [[0.1, 10], [Infinity, 10]]), 0.05);
  });
});
