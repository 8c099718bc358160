import assert from 'node:assert/strict';
import type { LabelStatus, ResolvedPolicy } from '../api/tfmodel.js';
import { servingReport } from '../test-support.js';
import type { PodReport } from './pod-report.js';
import { type PromotionInput, planPromotion } from './plan.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const specific = (...versions: number[]): ResolvedPolicy => ({ kind: 'specific', versions });

function plan(input: Partial<PromotionInput> & Pick<PromotionInput, 'desired' | 'committed' | 'reports'>) {
  return planPromotion({ policy: specific(1, 2), previous: [], now: NOW, notFoundGraceMs: 60_000, ...input });
}
const labels = (record: Record<string, number>) => new Map(Object.entries(record));
const both = (versions: Parameters<typeof servingReport>[1], served: Record<string, number> = {}): PodReport[] =>
  [servingReport('pod-a', versions, served), servingReport('pod-b', versions, served)];

describe('operator promotion: planPromotion', () => {
  it('moves a label once every ready pod reports the target AVAILABLE', () => {
    const result = plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports: both({ 1: 'AVAILABLE', 2: 'AVAILABLE' }, { stable: 1 }) });
    assert.deepEqual([...result.labels], [['stable', 2]]);
    assert.deepEqual([...result.moved], [['stable', [1, 2]]]);
    assert.deepEqual(result.labelStatus, [{ label: 'stable', desiredVersion: 2, servedVersion: 2, state: 'Served' }]);
  });

  it('keeps the old version while any ready pod is still loading the target', () => {
    const reports = [servingReport('pod-a', { 1: 'AVAILABLE', 2: 'AVAILABLE' }), servingReport('pod-b', { 1: 'AVAILABLE', 2: 'LOADING' })];
    const result = plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports });
    assert.deepEqual([...result.labels], [['stable', 1]]);
    assert.equal(result.moved.size, 0);
    const [status] = result.labelStatus;
    assert.equal(status!.state, 'Promoting');
    assert.equal(status!.reason, 'VersionLoading');
    assert.equal(status!.servedVersion, 1);
    assert.match(status!.message!, /pod-b/);
    assert.equal(status!.since, NOW.toISOString());
  });

  it('rolls back at once to a version still loaded everywhere', () => {
    const result = plan({ desired: labels({ stable: 1 }), committed: labels({ stable: 2 }), reports: both({ 1: 'AVAILABLE', 2: 'AVAILABLE' }, { stable: 2 }) });
    assert.deepEqual([...result.moved], [['stable', [2, 1]]]);
  });

  it('blocks at once on a version some pod failed to load, naming the pod and the error', () => {
    const reports = [servingReport('pod-a', { 1: 'AVAILABLE', 2: ['END', 'NOT_FOUND: no SavedModel bundle in /models/iris/2'] }), servingReport('pod-b', { 1: 'AVAILABLE', 2: 'AVAILABLE' })];
    const result = plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports });
    assert.deepEqual([...result.labels], [['stable', 1]]);
    const [status] = result.labelStatus;
    assert.equal(status!.state, 'Blocked');
    assert.equal(status!.reason, 'VersionFailedToLoad');
    assert.match(status!.message!, /pod-a.*no SavedModel bundle/);
  });

  it("blocks on a version whose load the server's memory budget holds back, with the server's reason", () => {
    const why = 'Waiting for memory: loading version 2 beside what is loaded needs an estimated 1.5 GiB, over the model memory budget of 1.0 GiB';
    const reports = [servingReport('pod-a', { 1: 'AVAILABLE', 2: ['START', why] }, { stable: 1 }), servingReport('pod-b', { 1: 'AVAILABLE', 2: 'LOADING' }, { stable: 1 })];
    const result = plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports });
    assert.deepEqual([...result.labels], [['stable', 1]], 'the old version keeps serving');
    const [status] = result.labelStatus;
    assert.equal(status!.state, 'Blocked');
    assert.equal(status!.reason, 'VersionWaitingForMemory');
    assert.equal(status!.message, `version 2 waits on pod pod-a: ${why}`);
  });

  it('waits for a version no pod reports, then blocks it after the grace period', () => {
    const reports = both({ 1: 'AVAILABLE' }, { stable: 1 });
    const first = plan({ desired: labels({ stable: 7 }), committed: labels({ stable: 1 }), reports, policy: specific(1, 7) });
    assert.equal(first.labelStatus[0]!.state, 'Promoting');
    assert.equal(first.labelStatus[0]!.reason, 'VersionNotReported');
    const later = new Date(NOW.getTime() + 61_000);
    const second = plan({ desired: labels({ stable: 7 }), committed: labels({ stable: 1 }), reports, policy: specific(1, 7), previous: first.labelStatus as LabelStatus[], now: later });
    assert.equal(second.labelStatus[0]!.state, 'Blocked');
    assert.equal(second.labelStatus[0]!.reason, 'VersionNotFound');
    assert.equal(second.labelStatus[0]!.since, NOW.toISOString(), 'the wait is measured from when it began');
    assert.match(second.labelStatus[0]!.message!, /no version directory 7/);
    assert.deepEqual([...second.labels], [['stable', 1]]);
  });

  it('explains that a latest policy may not load an older version', () => {
    const first = plan({ desired: labels({ stable: 1 }), committed: labels({ stable: 3 }), reports: both({ 3: 'AVAILABLE' }), policy: { kind: 'latest', numVersions: 1 } });
    const blocked = plan({
      desired: labels({ stable: 1 }), committed: labels({ stable: 3 }), reports: both({ 3: 'AVAILABLE' }), policy: { kind: 'latest', numVersions: 1 },
      previous: first.labelStatus as LabelStatus[], now: new Date(NOW.getTime() + 60_000),
    });
    assert.match(blocked.labelStatus[0]!.message!, /not among the 1 newest/);
  });

  it('restarts the wait when the desired version changes', () => {
    const previous: LabelStatus[] = [{ label: 'stable', desiredVersion: 7, servedVersion: 1, state: 'Blocked', reason: 'VersionNotFound', since: '2026-11-23T10:00:00.000Z' }];
    const result = plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports: both({ 1: 'AVAILABLE' }), previous });
    assert.equal(result.labelStatus[0]!.state, 'Promoting');
    assert.equal(result.labelStatus[0]!.since, NOW.toISOString());
  });

  it('waits (never guesses) while a ready pod cannot be asked or does not serve the model yet', () => {
    const unreachable: PodReport[] = [servingReport('pod-a', { 2: 'AVAILABLE' }), { pod: 'pod-b', kind: 'unreachable', error: 'ECONNREFUSED' }];
    const a = plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports: unreachable });
    assert.equal(a.labelStatus[0]!.reason, 'PodUnreachable');
    assert.equal(a.moved.size, 0);
    const missing: PodReport[] = [servingReport('pod-a', { 2: 'AVAILABLE' }), { pod: 'pod-b', kind: 'model-missing' }];
    assert.equal(plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports: missing }).labelStatus[0]!.reason, 'ModelNotLoaded');
    assert.equal(plan({ desired: labels({ stable: 2 }), committed: labels({ stable: 1 }), reports: [] }).labelStatus[0]!.reason, 'NoReadyReplicas');
  });

  it('adds a new label only when its version is available, and drops removed labels', () => {
    const waiting = plan({ desired: labels({ stable: 1, test: 2 }), committed: labels({ stable: 1, canary: 1 }), reports: both({ 1: 'AVAILABLE', 2: 'LOADING' }) });
    assert.deepEqual([...waiting.labels].sort(), [['stable', 1]]);
    assert.deepEqual(waiting.removed, ['canary']);
    assert.equal(waiting.labelStatus.find((l) => l.label === 'test')!.servedVersion, undefined);
    const ready = plan({ desired: labels({ stable: 1, test: 2 }), committed: labels({ stable: 1 }), reports: both({ 1: 'AVAILABLE', 2: 'AVAILABLE' }) });
    assert.deepEqual([...ready.moved], [['test', [undefined, 2]]]);
  });

  it('keeps the versions behind served and awaited labels loaded under a specific policy', () => {
    // The user replaced versions [1, 2] by [2, 3] and moved stable 1 -> 3 in one patch.
    const result = plan({ desired: labels({ stable: 3 }), committed: labels({ stable: 1 }), reports: both({ 1: 'AVAILABLE', 2: 'AVAILABLE', 3: 'LOADING' }), policy: specific(2, 3) });
    assert.deepEqual(result.extraVersions, [1]);
    const moved = plan({ desired: labels({ stable: 3 }), committed: labels({ stable: 1 }), reports: both({ 1: 'AVAILABLE', 2: 'AVAILABLE', 3: 'AVAILABLE' }), policy: specific(2, 3) });
    assert.deepEqual(moved.extraVersions, [], 'version 1 is unloaded once no label serves it');
    assert.deepEqual(plan({ desired: labels({ stable: 3 }), committed: labels({ stable: 1 }), reports: [], policy: { kind: 'all' } }).extraVersions, []);
  });
});
