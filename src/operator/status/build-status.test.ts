import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { resolveSpec } from '../api/tfmodel.js';
import { pod, servingReport, tfmodel } from '../test-support.js';
import { buildStatus } from './build-status.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const LATER = new Date('2026-11-23T12:05:00Z');

function pendingPod(message: string): V1Pod {
  return { ...pod('pending'), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] } };
}

describe('operator status: buildStatus', () => {
  const model = tfmodel({ replicas: 2, gpu: { fraction: '0.5' } });
  const base = { tfmodel: model, spec: resolveSpec(model), outcome: { ok: true } as const, reports: [], now: NOW };

  it('says why a pod cannot be scheduled, in Ready and Degraded', () => {
    const why = '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.';
    const status = buildStatus({ ...base, pods: [pod('a'), pendingPod(why)], deployment: { status: { replicas: 2, readyReplicas: 1 } } });
    const ready = status.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'Unschedulable');
    assert.match(ready.message, /1\/2 serving pods ready; pod pending: 0\/2 nodes are available: 2 Insufficient nvidia.com\/gpu/);
    const degraded = status.conditions!.find((c) => c.type === 'Degraded')!;
    assert.equal(degraded.status, 'True');
    assert.equal(degraded.reason, 'Unschedulable');
  });

  it('moves lastTransitionTime only when a condition flips', () => {
    const first = buildStatus({ ...base, pods: [], deployment: { status: { replicas: 2, readyReplicas: 1 } } });
    const sameState = buildStatus({ ...base, tfmodel: { ...model, status: first }, pods: [], deployment: { status: { replicas: 2, readyReplicas: 0 } }, now: LATER });
    const readyAt = (s: typeof first) => s.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime;
    assert.equal(readyAt(sameState), NOW.toISOString());
    const flipped = buildStatus({ ...base, tfmodel: { ...model, status: sameState }, pods: [], deployment: { status: { replicas: 2, readyReplicas: 2 } }, now: LATER });
    assert.equal(readyAt(flipped), LATER.toISOString());
  });

  it('aggregates versions across pods, newest first, marking disagreement and load errors', () => {
    const reports = [
      servingReport('a', { 1: 'AVAILABLE', 2: 'LOADING' }, { stable: 1 }),
      servingReport('b', { 1: 'AVAILABLE', 2: ['END', 'DATA_LOSS: corrupt variables'] }, { stable: 1 }),
    ];
    const status = buildStatus({ ...base, pods: [], reports, deployment: { status: { replicas: 2, readyReplicas: 2 } } });
    assert.deepEqual(status.versions, [
      { version: 2, state: 'Mixed', readyReplicas: 0, error: 'b: DATA_LOSS: corrupt variables' },
      { version: 1, state: 'AVAILABLE', readyReplicas: 2 },
    ]);
    assert.deepEqual(status.servedLabels, { stable: 1 });
    assert.equal(status.conditions!.find((c) => c.type === 'Degraded')!.reason, 'VersionFailedToLoad');
  });

  it("shows why a version's load waits (the server's memory budget) on the version", () => {
    const why = 'Waiting for memory: loading version 2 beside what is loaded needs an estimated 1.5 GiB';
    const reports = [servingReport('a', { 1: 'AVAILABLE', 2: ['START', why] }, { stable: 1 })];
    const status = buildStatus({ ...base, pods: [], reports, deployment: { status: { replicas: 1, readyReplicas: 1 } } });
    assert.deepEqual(status.versions, [
      { version: 2, state: 'START', readyReplicas: 0, message: `a: ${why}` },
      { version: 1, state: 'AVAILABLE', readyReplicas: 1 },
    ]);
    assert.equal(status.conditions!.find((c) => c.type === 'Degraded')!.reason, 'AsExpected', 'waiting is not a failure');
  });

  it('keeps the previous served label while pods disagree', () => {
    const previous = { servedLabels: { stable: 1 } };
    const reports = [servingReport('a', { 1: 'AVAILABLE', 2: 'AVAILABLE' }, { stable: 2 }), servingReport('b', { 1: 'AVAILABLE', 2: 'AVAILABLE' }, { stable: 1 })];
    const status = buildStatus({ ...base, tfmodel: { ...model, status: previous }, pods: [], reports, deployment: { status: { replicas: 2, readyReplicas: 2 } } });
    assert.deepEqual(status.servedLabels, { stable: 1 });
  });
});
