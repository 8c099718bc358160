import assert from 'node:assert/strict';
import { type MemorySnapshot, type TransitionPolicyKind, type VersionSnapshot, nextAction, nextActions, planTransitions } from './transition-policy.js';
import { VersionState } from './types.js';

const { START, LOADING, AVAILABLE, UNLOADING, END } = VersionState;

/** `v(2, AVAILABLE, 'aspired')` */
function v(version: number, state: VersionState, ...flags: Array<'aspired' | 'failed'>): VersionSnapshot {
  return { version: BigInt(version), state, aspired: flags.includes('aspired'), failed: flags.includes('failed') };
}

/** `sized(v(2, START, 'aspired'), 60, 'stable')`: with a footprint and labels. */
function sized(snapshot: VersionSnapshot, bytes: number, ...labels: string[]): VersionSnapshot {
  return { ...snapshot, bytes, labels };
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

const budget = (budgetBytes: number, otherModelsBytes = 0): MemorySnapshot => ({ budgetBytes, otherModelsBytes });

type MemoryRow = readonly [title: string, versions: readonly VersionSnapshot[], memory: MemorySnapshot, expected: string];

/** A plan as text: its actions, then [order; memory decision] when they are not the configured ones. */
function showPlan(versions: readonly VersionSnapshot[], memory: MemorySnapshot, policy: TransitionPolicyKind = 'availability-preserving'): string {
  const plan = planTransitions({ policy, versions, memory });
  const actions = plan.actions.map((a) => `${a.kind} ${a.version}`).join(', ');
  const decision = plan.memory
    ? ` [${plan.memory.kind} ${plan.memory.version}: ${plan.memory.neededBytes} > ${plan.memory.budgetBytes}` +
      `${plan.memory.labelled ? `; ${plan.memory.labelled.map((l) => `${l.version} as ${l.labels.join('+')}`).join(', ')}` : ''}]`
    : '';
  return `${actions}${decision}${plan.order === policy ? '' : ` (${plan.order})`}`;
}

// Ours: availability-preserving order until the memory budget says loading beside would not fit.
const MEMORY: readonly MemoryRow[] = [
  ['a reload that fits loads beside the old version', [sized(v(1, AVAILABLE), 40), sized(v(2, START, 'aspired'), 40)], budget(100), 'load 2'],
  ['exactly the budget still fits', [sized(v(1, AVAILABLE), 50), sized(v(2, START, 'aspired'), 50)], budget(100), 'load 2'],
  ['a reload that would not fit unloads the old version first',
    [sized(v(1, AVAILABLE), 60), sized(v(2, START, 'aspired'), 60)], budget(100),
    'unload 1 [unload-first 2: 120 > 100] (resource-preserving)'],
  ['other models count against the budget',
    [sized(v(1, AVAILABLE), 40), sized(v(2, START, 'aspired'), 40)], budget(100, 30),
    'unload 1 [unload-first 2: 110 > 100] (resource-preserving)'],
  ['while the old version unloads the new one waits for it',
    [sized(v(1, UNLOADING), 60), sized(v(2, START, 'aspired'), 60)], budget(100),
    ' [unload-first 2: 120 > 100] (resource-preserving)'],
  ['once the old version ended the new one loads', [sized(v(1, END), 60), sized(v(2, START, 'aspired'), 60)], budget(100), 'load 2'],
  ['an old version still labelled: the load waits and says which label',
    [sized(v(1, AVAILABLE), 60, 'stable'), sized(v(2, START, 'aspired'), 60)], budget(100),
    ' [wait 2: 120 > 100; 1 as stable]'],
  ['a labelled old version waits while unlabelled ones still unload',
    [sized(v(1, AVAILABLE), 10), sized(v(2, AVAILABLE), 60, 'stable', 'canary'), sized(v(3, START, 'aspired'), 60)], budget(100),
    'unload 1 [wait 3: 130 > 100; 2 as stable+canary]'],
  ['a label on the new version does not hold the old one',
    [sized(v(1, AVAILABLE), 60), sized(v(2, START, 'aspired'), 60, 'canary')], budget(100),
    'unload 1 [unload-first 2: 120 > 100] (resource-preserving)'],
  ['a first load over the budget still loads (nothing to make room with)',
    [sized(v(1, START, 'aspired'), 150)], budget(100), 'load 1 [over-budget 1: 150 > 100]'],
  ['old versions still aspired are not unloaded for a new one',
    [sized(v(1, AVAILABLE, 'aspired'), 60), sized(v(2, START, 'aspired'), 60)], budget(100), 'load 2 [over-budget 2: 120 > 100]'],
  ['an unaspired version still loading counts as held',
    [sized(v(1, LOADING), 60), sized(v(2, START, 'aspired'), 60)], budget(100),
    ' [unload-first 2: 120 > 100] (resource-preserving)'],
  ['failed and unloaded versions hold nothing',
    [sized(v(1, END, 'failed'), 60), sized(v(2, END), 60), sized(v(3, START, 'aspired'), 60)], budget(100), 'load 3'],
  ['two new versions: the second one over the budget switches the model',
    [sized(v(1, AVAILABLE), 30), sized(v(2, START, 'aspired'), 30), sized(v(3, START, 'aspired'), 30)], budget(80),
    'unload 1 [unload-first 2: 90 > 80] (resource-preserving)'],
  ['no version to load: no memory decision', [sized(v(1, AVAILABLE), 60), sized(v(2, AVAILABLE, 'aspired'), 60)], budget(100), 'unload 1'],
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

  describe('memory budget (planTransitions)', () => {
    for (const [title, versions, memory, expected] of MEMORY) {
      it(title, () => assert.equal(showPlan(versions, memory), expected));
    }

    it('resource-preserving order is kept as configured (no decision needed)', () => {
      assert.equal(showPlan([sized(v(1, AVAILABLE), 60, 'stable'), sized(v(2, START, 'aspired'), 60)], budget(100), 'resource-preserving'), 'unload 1');
    });

    it('without a memory snapshot it is nextActions', () => {
      const versions = [sized(v(1, AVAILABLE), 600), sized(v(2, START, 'aspired'), 600)];
      assert.deepEqual(planTransitions({ policy: 'availability-preserving', versions }), {
        actions: nextActions({ policy: 'availability-preserving', versions }),
        order: 'availability-preserving',
      });
    });
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
