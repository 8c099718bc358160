/**
 * Rollout gates as pure functions over what each pod measured during a step's interval (the
 * difference of two metrics snapshots): the candidate's error rate (its canary requests and its
 * shadow copies), its p99 latency over the primary's, and the largest output difference its
 * shadow copies showed. A gate is judged on a pod once the pod has `minRequests` observations for
 * it; a pod whose counters went backwards (restarted) has no measurement for the interval.
 */
import type { Buckets, RolloutSnapshot } from './rollout-metrics.js';

export type GateName = 'maxErrorRate' | 'maxP99LatencyRatio' | 'maxOutputDivergence';

export interface RolloutGates {
  readonly maxErrorRate?: number | undefined;
  readonly maxP99LatencyRatio?: number | undefined;
  readonly maxOutputDivergence?: number | undefined;
  /** Observations a pod needs before a gate is judged on it (default 10). */
  readonly minRequests?: number | undefined;
}

/** One pod's interval. Undefined values: not enough data. */
export interface IntervalMeasure {
  readonly pod: string;
  /** Canary requests plus shadow copies the candidate served. */
  readonly observations: number;
  readonly errorRate?: number | undefined;
  readonly latencySamples: { readonly candidate: number; readonly primary: number };
  readonly p99LatencyRatio?: number | undefined;
  readonly shadowRuns: number;
  /** The upper bound of the largest max-abs-difference bucket any copy fell in (Infinity: a mismatch). */
  readonly divergence?: number | undefined;
}

export interface GateFailure {
  readonly gate: GateName;
  readonly pod: string;
  readonly value: number;
  readonly threshold: number;
}

export interface GateVerdict {
  readonly failures: readonly GateFailure[];
  /** Pods without a measurement (restarted, unreachable). */
  readonly unmeasured: readonly string[];
  readonly measures: readonly IntervalMeasure[];
}

export const DEFAULT_MIN_REQUESTS = 10;

/** The interval between two snapshots of one pod, or undefined when a counter went backwards. */
export function measureInterval(pod: string, start: RolloutSnapshot, end: RolloutSnapshot, minRequests = DEFAULT_MIN_REQUESTS): IntervalMeasure | undefined {
  const d = (a: number, b: number): number => b - a;
  const requests = d(start.candidate.requests, end.candidate.requests);
  const errors = d(start.candidate.errors, end.candidate.errors);
  const runs = d(start.shadow.run, end.shadow.run);
  const shadowErrors = d(start.shadow.shadowErrors, end.shadow.shadowErrors);
  const candidateLatency = deltaBuckets(start.candidate.latency, end.candidate.latency);
  const primaryLatency = deltaBuckets(start.primary.latency, end.primary.latency);
  const absDiff = deltaBuckets(start.shadow.absDiff, end.shadow.absDiff);
  if ([requests, errors, runs, shadowErrors].some((v) => v < 0) || !candidateLatency || !primaryLatency || !absDiff) return undefined;
  const observations = requests + runs;
  const candidateSamples = total(candidateLatency);
  const primarySamples = total(primaryLatency);
  const candidateP99 = candidateSamples >= minRequests && primarySamples >= minRequests ? quantile(0.99, candidateLatency) : undefined;
  const primaryP99 = candidateP99 === undefined ? undefined : quantile(0.99, primaryLatency);
  return {
    pod,
    observations,
    errorRate: observations >= minRequests ? (errors + shadowErrors) / observations : undefined,
    latencySamples: { candidate: candidateSamples, primary: primarySamples },
    p99LatencyRatio: candidateP99 !== undefined && primaryP99 !== undefined && primaryP99 > 0 ? candidateP99 / primaryP99 : undefined,
    shadowRuns: runs,
    divergence: runs > 0 && total(absDiff) > 0 ? largestBound(absDiff) : undefined,
  };
}

export function evaluateGates(gates: RolloutGates, measures: ReadonlyArray<IntervalMeasure | { pod: string; unmeasured: true }>): GateVerdict {
  const failures: GateFailure[] = [];
  const unmeasured: string[] = [];
  const measured: IntervalMeasure[] = [];
  for (const m of measures) {
    if ('unmeasured' in m) {
      unmeasured.push(m.pod);
      continue;
    }
    measured.push(m);
    const check = (gate: GateName, value: number | undefined, threshold: number | undefined): void => {
      if (value !== undefined && threshold !== undefined && value > threshold) failures.push({ gate, pod: m.pod, value, threshold });
    };
    check('maxErrorRate', m.errorRate, gates.maxErrorRate);
    check('maxP99LatencyRatio', m.p99LatencyRatio, gates.maxP99LatencyRatio);
    check('maxOutputDivergence', m.divergence, gates.maxOutputDivergence);
  }
  return { failures, unmeasured, measures: measured };
}

/** Per-bucket (non-cumulative is not needed: cumulative minus cumulative) difference, or undefined on a reset. */
function deltaBuckets(start: Buckets, end: Buckets): Buckets | undefined {
  const before = new Map(start);
  const out: Array<[number, number]> = [];
  for (const [bound, count] of end) {
    const delta = count - (before.get(bound) ?? 0);
    if (delta < 0) return undefined;
    out.push([bound, delta]);
  }
  return out;
}

const total = (buckets: Buckets): number => (buckets.length === 0 ? 0 : buckets[buckets.length - 1]![1]);

/** The smallest bucket bound that holds every observation. */
function largestBound(buckets: Buckets): number {
  const all = total(buckets);
  for (const [bound, count] of buckets) if (count >= all) return bound;
  return Infinity;
}

/** Prometheus' histogram_quantile over cumulative buckets: linear within the bucket; the +Inf bucket gives the largest finite bound. */
export function quantile(q: number, buckets: Buckets): number | undefined {
  const all = total(buckets);
  if (all === 0) return undefined;
  const rank = q * all;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Infinity) return previousBound;
      if (count === previousCount) return bound;
      return previousBound + ((bound - previousBound) * (rank - previousCount)) / (count - previousCount);
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}
