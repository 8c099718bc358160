/**
 * The rollout step planner, a pure decision like the label promotion planner: from spec.rollout,
 * the rollout status written last time, the version the label serves now, the clock and the gate
 * verdict for the current step, decide the canary weight and shadow rate to push, the next status,
 * whether to promote (move the label with the safe move) and what to tell the user.
 *
 * - A new candidate starts at the first step. Every `interval` it advances one step if no gate
 *   failed on any pod; reaching 100 promotes: the label moves to the candidate (every pod has it
 *   loaded: it served the canary) and the canary is cleared.
 * - A failing gate rolls back at once: weight 0, no shadow, Failed with the gate, the measured
 *   value and the threshold. It stays failed until the candidate changes.
 * - paused: true holds the current weight (the interval restarts on resume); abort: true sends
 *   everything back to the primary (Aborted).
 */
import type { GateFailure, GateVerdict } from './gates.js';

export type RolloutState = 'Progressing' | 'Paused' | 'Promoting' | 'Succeeded' | 'Failed' | 'Aborted';

export interface RolloutPlanSpec {
  readonly label: string;
  readonly candidate: number;
  /** Percent of the primary's traffic on the label copied to the candidate. */
  readonly shadowPercent: number;
  /** Canary percents, increasing; the last is 100. */
  readonly steps: readonly number[];
  readonly intervalMs: number;
  readonly paused: boolean;
  readonly abort: boolean;
}

export interface RolloutStatusState {
  readonly candidate: number;
  readonly label: string;
  readonly state: RolloutState;
  /** Index into steps. */
  readonly step: number;
  /** Canary percent now served. */
  readonly weight: number;
  readonly stepStartedAt: string;
  readonly failure?: GateFailure | undefined;
  readonly message?: string | undefined;
}

export interface RolloutInput {
  readonly spec: RolloutPlanSpec | undefined;
  readonly previous: RolloutStatusState | undefined;
  /** The version the label serves now (status), if it serves one. */
  readonly primary: number | undefined;
  readonly now: Date;
  /** Gates over the current step so far; undefined when nothing was measured yet. */
  readonly verdict: GateVerdict | undefined;
}

export interface RolloutEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: 'RolloutStarted' | 'RolloutAdvanced' | 'RolloutPromoted' | 'RolloutSucceeded' | 'RolloutFailed' | 'RolloutPaused' | 'RolloutResumed' | 'RolloutAborted';
  readonly message: string;
}

export interface RolloutPlan {
  readonly status: RolloutStatusState | undefined;
  /** What to route on the label: undefined = no canary, no shadow. */
  readonly routing: { readonly label: string; readonly candidate: number; readonly canaryPercent: number; readonly shadowPercent: number } | undefined;
  /** Serve the label at the candidate (the safe move). */
  readonly promote: boolean;
  /** A new step began: take a fresh metrics baseline. */
  readonly newStep: boolean;
  readonly event?: RolloutEvent | undefined;
  readonly requeueAfterMs?: number | undefined;
}

export function describeFailure(f: GateFailure): string {
  return `gate ${f.gate} failed on pod ${f.pod}: measured ${formatNumber(f.value)}, threshold ${formatNumber(f.threshold)}`;
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const { spec, previous, now } = input;
  if (!spec) return { status: undefined, routing: undefined, promote: false, newStep: false };
  const at = now.toISOString();
  const fresh = !previous || previous.candidate !== spec.candidate || previous.label !== spec.label;
  const base = { candidate: spec.candidate, label: spec.label };
  const routeAt = (weight: number) => ({ label: spec.label, candidate: spec.candidate, canaryPercent: weight, shadowPercent: spec.shadowPercent });
  const terminal = (state: RolloutState, extra: Partial<RolloutStatusState> = {}): RolloutStatusState =>
    ({ ...base, state, step: previous && !fresh ? previous.step : 0, weight: 0, stepStartedAt: previous && !fresh ? previous.stepStartedAt : at, ...extra });

  if (input.primary === spec.candidate && (fresh || previous.state === 'Promoting' || previous.state === 'Succeeded')) {
    const status = terminal('Succeeded', { step: spec.steps.length - 1, weight: 0, message: `label ${spec.label} serves version ${spec.candidate}` });
    const event = previous?.state === 'Promoting' && !fresh ? { type: 'Normal' as const, reason: 'RolloutSucceeded' as const, message: `version ${spec.candidate} is now ${spec.label}` } : undefined;
    return { status, routing: undefined, promote: true, newStep: false, event };
  }
  if (!fresh && (previous.state === 'Failed' || previous.state === 'Aborted')) {
    if (previous.state === 'Aborted' && !spec.abort) {
      // Un-aborting restarts the rollout from the first step.
      return start(spec, at, 'RolloutResumed', `rollout of version ${spec.candidate} restarted after abort`);
    }
    return { status: previous, routing: undefined, promote: false, newStep: false };
  }
  if (!fresh && previous.state === 'Succeeded') return { status: previous, routing: undefined, promote: true, newStep: false };
  if (spec.abort) {
    return {
      status: terminal('Aborted', { message: 'aborted by spec.rollout.abort' }),
      routing: undefined,
      promote: false,
      newStep: false,
      event: { type: 'Normal', reason: 'RolloutAborted', message: `rollout of version ${spec.candidate} aborted; all traffic on ${spec.label} goes to the primary` },
    };
  }
  if (input.primary === undefined) {
    // Nothing to compare with until the label serves a version: the rollout has not started.
    return { status: undefined, routing: undefined, promote: false, newStep: false, requeueAfterMs: Math.min(spec.intervalMs, 5000) };
  }
  if (fresh) return start(spec, at, 'RolloutStarted', `rollout of version ${spec.candidate} on ${spec.label} started at ${spec.steps[0]}%`);
  if (previous.state === 'Promoting') return { status: previous, routing: undefined, promote: true, newStep: false, requeueAfterMs: 2000 };

  // Progressing or Paused: a failing gate wins over everything else.
  const failure = input.verdict?.failures[0];
  if (failure) {
    return {
      status: { ...previous, state: 'Failed', weight: 0, failure, message: describeFailure(failure) },
      routing: undefined,
      promote: false,
      newStep: false,
      event: { type: 'Warning', reason: 'RolloutFailed', message: `version ${spec.candidate} rolled back at ${previous.weight}%: ${describeFailure(failure)}` },
    };
  }
  if (spec.paused) {
    const event = previous.state !== 'Paused' ? { type: 'Normal' as const, reason: 'RolloutPaused' as const, message: `rollout paused at ${previous.weight}%` } : undefined;
    return { status: { ...previous, state: 'Paused', message: 'paused by spec.rollout.paused' }, routing: routeAt(previous.weight), promote: false, newStep: false, event };
  }
  if (previous.state === 'Paused') {
    return {
      status: { ...previous, state: 'Progressing', stepStartedAt: at, message: undefined },
      routing: routeAt(previous.weight),
      promote: false,
      newStep: true,
      event: { type: 'Normal', reason: 'RolloutResumed', message: `rollout resumed at ${previous.weight}%` },
      requeueAfterMs: spec.intervalMs,
    };
  }
  const elapsed = now.getTime() - new Date(previous.stepStartedAt).getTime();
  if (elapsed < spec.intervalMs || input.verdict === undefined || input.verdict.unmeasured.length > 0) {
    return { status: previous, routing: routeAt(previous.weight), promote: false, newStep: false, requeueAfterMs: Math.max(500, Math.min(spec.intervalMs - elapsed, spec.intervalMs / 4)) };
  }
  // The interval passed with every gate holding on every measured pod: next step.
  const next = previous.step + 1;
  const weight = next < spec.steps.length ? spec.steps[next]! : 100;
  if (weight >= 100) {
    return {
      status: { ...previous, state: 'Promoting', step: Math.min(next, spec.steps.length - 1), weight: 100, stepStartedAt: at, message: `moving ${spec.label} to version ${spec.candidate}` },
      routing: routeAt(100),
      promote: true,
      newStep: false,
      event: { type: 'Normal', reason: 'RolloutPromoted', message: `every gate held at ${previous.weight}%: moving ${spec.label} to version ${spec.candidate}` },
      requeueAfterMs: 2000,
    };
  }
  return {
    status: { ...previous, state: 'Progressing', step: next, weight, stepStartedAt: at },
    routing: routeAt(weight),
    promote: false,
    newStep: true,
    event: { type: 'Normal', reason: 'RolloutAdvanced', message: `every gate held at ${previous.weight}% for ${Math.round(spec.intervalMs / 1000)}s: version ${spec.candidate} now at ${weight}%` },
    requeueAfterMs: spec.intervalMs,
  };
}

function start(spec: RolloutPlanSpec, at: string, reason: 'RolloutStarted' | 'RolloutResumed', message: string): RolloutPlan {
  const weight = spec.steps[0] ?? 100;
  return {
    status: { candidate: spec.candidate, label: spec.label, state: 'Progressing', step: 0, weight, stepStartedAt: at },
    routing: { label: spec.label, candidate: spec.candidate, canaryPercent: weight, shadowPercent: spec.shadowPercent },
    promote: false,
    newStep: true,
    event: { type: 'Normal', reason, message },
    requeueAfterMs: spec.intervalMs,
  };
}
