import assert from 'node:assert/strict';
import type { GateVerdict } from './gates.js';
import { type RolloutInput, type RolloutPlanSpec, type RolloutStatusState, planRollout } from './step-planner.js';

const SPEC: RolloutPlanSpec = { label: 'stable', candidate: 2, shadowPercent: 20, steps: [5, 25, 50, 100], intervalMs: 60_000, paused: false, abort: false };
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const HOLDS: GateVerdict = { failures: [], unmeasured: [], measures: [] };
const FAILS: GateVerdict = { failures: [{ gate: 'maxOutputDivergence', pod: 'm-server-0', value: 1, threshold: 0.01 }], unmeasured: [], measures: [] };

const input = (over: Partial<RolloutInput>): RolloutInput => ({ spec: SPEC, previous: undefined, primary: 1, now: T0, verdict: undefined, ...over });

/** Walks the planner the way the reconciler does, feeding each status back. */
function walk(steps: Array<Partial<RolloutInput>>): ReturnType<typeof planRollout>[] {
  let previous: RolloutStatusState | undefined;
  return steps.map((step) => {
    const plan = planRollout(input({ previous, ...step }));
    previous = plan.status;
    return plan;
  });
}

describe('rollout step planner', () => {
  it('walks 5 -> 25 -> 50 -> promote -> Succeeded when every gate holds for each interval', () => {
    const plans = walk([
      { now: at(0) },
      { now: at(30), verdict: HOLDS },
      { now: at(60), verdict: HOLDS },
      { now: at(120), verdict: HOLDS },
      { now: at(180), verdict: HOLDS },
      { now: at(185), primary: 1 },
      { now: at(190), primary: 2 },
      { now: at(300), primary: 2 },
    ]);
    assert.deepEqual(plans.map((p) => [p.status?.state, p.status?.weight, p.routing?.canaryPercent ?? null, p.promote, p.event?.reason ?? null]), [
      ['Progressing', 5, 5, false, 'RolloutStarted'],
      ['Progressing', 5, 5, false, null],
      ['Progressing', 25, 25, false, 'RolloutAdvanced'],
      ['Progressing', 50, 50, false, 'RolloutAdvanced'],
      ['Promoting', 100, 100, true, 'RolloutPromoted'],
      ['Promoting', 100, null, true, null],
      ['Succeeded', 0, null, true, 'RolloutSucceeded'],
      ['Succeeded', 0, null, true, null],
    ]);
    assert.equal(plans[0]!.routing!.shadowPercent, 20);
    assert.ok(plans[0]!.newStep && plans[2]!.newStep && !plans[1]!.newStep);
  });

  it('does not advance before the interval, nor without a measurement', () => {
    const [, early, unmeasured, podMissing] = walk([
      { now: at(0) },
      { now: at(59), verdict: HOLDS },
      { now: at(61), verdict: undefined },
      { now: at(62), verdict: { ...HOLDS, unmeasured: ['m-server-1'] } },
    ]);
    assert.equal(early!.status!.weight, 5);
    assert.equal(unmeasured!.status!.weight, 5);
    assert.equal(podMissing!.status!.weight, 5, 'every pod must have been measured over the interval');
    assert.ok(early!.requeueAfterMs! > 0 && early!.requeueAfterMs! <= 15_000);
  });

  it('rolls back at once on a failing gate, with the gate, value and threshold, and stays failed', () => {
    const plans = walk([{ now: at(0) }, { now: at(10), verdict: FAILS }, { now: at(200), verdict: HOLDS }]);
    const failed = plans[1]!;
    assert.equal(failed.status!.state, 'Failed');
    assert.equal(failed.status!.weight, 0);
    assert.equal(failed.routing, undefined);
    assert.deepEqual(failed.status!.failure, FAILS.failures[0]);
    assert.equal(failed.status!.message, 'gate maxOutputDivergence failed on pod m-server-0: measured 1, threshold 0.01');
    assert.deepEqual(failed.event, { type: 'Warning', reason: 'RolloutFailed', message: 'version 2 rolled back at 5%: gate maxOutputDivergence failed on pod m-server-0: measured 1, threshold 0.01' });
    assert.equal(plans[2]!.status!.state, 'Failed');
    assert.equal(plans[2]!.routing, undefined);
    // A new candidate starts over.
    const next = planRollout(input({ spec: { ...SPEC, candidate: 3 }, previous: plans[2]!.status, now: at(300) }));
    assert.deepEqual([next.status!.state, next.status!.candidate, next.status!.weight], ['Progressing', 3, 5]);
  });

  it('pauses holding the weight, restarts the interval on resume, and aborts to the primary', () => {
    const plans = walk([
      { now: at(0) },
      { now: at(70), verdict: HOLDS },
      { now: at(80), verdict: HOLDS, spec: { ...SPEC, paused: true } },
      { now: at(500), verdict: HOLDS, spec: { ...SPEC, paused: true } },
      { now: at(510), verdict: HOLDS },
      { now: at(520), verdict: HOLDS },
      { now: at(530), spec: { ...SPEC, abort: true } },
      { now: at(540), spec: { ...SPEC, abort: true } },
      { now: at(550) },
    ]);
    assert.deepEqual(plans.map((p) => [p.status?.state, p.status?.weight, p.routing?.canaryPercent ?? null, p.event?.reason ?? null]), [
      ['Progressing', 5, 5, 'RolloutStarted'],
      ['Progressing', 25, 25, 'RolloutAdvanced'],
      ['Paused', 25, 25, 'RolloutPaused'],
      ['Paused', 25, 25, null],
      ['Progressing', 25, 25, 'RolloutResumed'],
      ['Progressing', 25, 25, null],
      ['Aborted', 0, null, 'RolloutAborted'],
      ['Aborted', 0, null, null],
      ['Progressing', 5, 5, 'RolloutResumed'],
    ]);
    assert.equal(plans[4]!.status!.stepStartedAt, at(510).toISOString());
  });

  it('has nothing to do without spec.rollout, and succeeds at once when the label already serves the candidate', () => {
    assert.deepEqual(planRollout(input({ spec: undefined })), { status: undefined, routing: undefined, promote: false, newStep: false });
    const done = planRollout(input({ primary: 2 }));
    assert.equal(done.status!.state, 'Succeeded');
    assert.equal(done.routing, undefined);
  });
});
