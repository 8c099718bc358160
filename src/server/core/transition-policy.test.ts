import assert from 'node:assert/strict';
import { type TransitionPolicyKind, type VersionSnapshot, nextAction, nextActions } from './transition-policy.js';
import { VersionState } from './types.js';

const { START, LOADING, AVAILABLE, UNLOADING, END } = VersionState;

/** `v(2, AVAILABLE, 'aspired')` */
function v(version: number, state: VersionState, ...flags: Array<'aspired' | 'failed'>): VersionSnapshot {
  return { version: BigInt(version), state, aspired: flags.includes('aspired'), failed: flags.includes('failed') };
}

type Row = readonly [title: string, versions: readonly VersionSnapshot[], expected: string];

const show = (policy: TransitionPolicyKind, versions: readonly VersionSnapshot[]): string =>
  nextActions({ policy, versions }).map((a) => `${a.kind} ${a.version}`).join(', ');

// Expected rows follow TF Serving's AvailabilityPreservingPolicy::GetNextAction.
const AVAILABILITY: readonly Row[] = [
  ['a new version loads beside the serving one', [v(1, AVAILABLE), v(2, START, 'aspired')], 'load 2'],
  ['the old version unloads once the new one is AVAILABLE', [v(1, AVAILABLE), v(2, AVAILABLE, 'aspired')], 'unload 1'],
  ['the old version stays while the new one loads', [v(1, AVAILABLE), v(2, LOADING, 'aspired')], ''],
  ['the old version stays when the new one failed', [v(1, AVAILABLE), v(2, END, 'aspired', 'failed')], ''],
  ['nothing aspired: everything unloads, lowest first', [v(2, AVAILABLE), v(1, AVAILABLE)], 'unload 1, unload 2'],
  ['two unaspired serving while the new one loads: all but one unload', [v(1, AVAILABLE), v(2, AVAILABLE), v(3, LOADING, 'aspired')], 'unload 1'],
  ['several new aspired versions load highest first', [v(1, START, 'aspired'), v(3, START, 'aspired'), v(2, START, 'aspired')], 'load 3, load 2, load 1'],
  ['a serving aspired version needs nothing', [v(1, AVAILABLE, 'aspired')], ''],
  ['unloaded versions need nothing', [v(1, END), v(2, AVAILABLE, 'aspired')], ''],
  ['an unload in progress does not block a load', [v(1, UNLOADING), v(2, START, 'aspired')], 'load 2'],
  ['a new version that is not aspired is not loaded', [v(1, AVAILABLE, 'aspired'), v(2, AVAILABLE, 'aspired'), v(3, START)], ''],
  ['a failed aspired version is not retried by the policy', [v(1, END, 'aspired', 'failed')], ''],
];

// Expected rows follow TF Serving's ResourcePreservingPolicy::GetNextAction.
const RESOURCE: readonly Row[] = [
  ['the old version unloads before the new one loads', [v(1, AVAILABLE), v(2, START, 'aspired')], 'unload 1'],
  ['the new one waits while the old one unloads', [v(1, UNLOADING), v(2, START, 'aspired')], ''],
  ['the new one waits while an unaspired one is still loading', [v(1, LOADING), v(2, START, 'aspired')], ''],
  ['the new one loads once the old one ended', [v(1, END), v(2, START, 'aspired')], 'load 2'],
  ['a failed unaspired version does not block', [v(1, END, 'failed'), v(2, START, 'aspired')], 'load 2'],
  ['nothing aspired: everything unloads', [v(1, AVAILABLE), v(2, AVAILABLE)], 'unload 1, unload 2'],
  ['a serving aspired version needs nothing', [v(1, AVAILABLE, 'aspired')], ''],
];

describe('transition policy (TF Serving aspired_version_policy)', () => {
  describe('availability-preserving', () => {
    for (const [title, versions, expected] of AVAILABILITY) {
      it(title, () => assert.equal(show('availability-preserving', versions), expected));
    }
  });

  describe('resource-preserving', () => {
    for (const [title, versions, expected] of RESOURCE) {
      it(title, () => assert.equal(show('resource-preserving', versions), expected));
    }
  });

  it('nextAction answers one action, as GetNextAction does', () => {
    const versions = [v(1, START, 'aspired'), v(2, START, 'aspired')];
    assert.deepEqual(nextAction({ policy: 'availability-preserving', versions }), { kind: 'load', version: 2n });
  });

  it('does not change the snapshot it is given', () => {
    const versions = [v(1, AVAILABLE), v(2, START, 'aspired')];
    const copy = structuredClone(versions);
    nextActions({ policy: 'availability-preserving', versions });
    assert.deepEqual(versions, copy);
  });
});
