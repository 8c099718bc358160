/**
 * What one serving pod's metrics say about a rollout: cumulative counters and histogram buckets
 * for the candidate and the primary of one model (tfmodel_version_* and tfmodel_shadow_* from
 * tfmodel-server's metrics endpoint). Gates work on the difference of two snapshots (the step's
 * interval), so counter resets (a restarted pod) are detected and read as "no data".
 */
import type { Sample } from './metrics-text.js';

/** Cumulative bucket counts by upper bound (ascending; the last is +Inf). */
export type Buckets = ReadonlyArray<readonly [number, number]>;

export interface VersionSnapshot {
  readonly requests: number;
  readonly errors: number;
  readonly latency: Buckets;
}

export interface ShadowSnapshot {
  readonly run: number;
  readonly dropped: number;
  readonly primaryErrors: number;
  readonly shadowErrors: number;
  /** Per-request max abs difference over every output (bucket counts summed over outputs). */
  readonly absDiff: Buckets;
}

export interface RolloutSnapshot {
  readonly candidate: VersionSnapshot;
  readonly primary: VersionSnapshot;
  /** Copies of the primary's requests to the candidate. */
  readonly shadow: ShadowSnapshot;
}

export function rolloutSnapshot(samples: readonly Sample[], model: string, primary: number, candidate: number): RolloutSnapshot {
  const forModel = samples.filter((s) => s.labels['model_name'] === model);
  return {
    candidate: versionSnapshot(forModel, String(candidate)),
    primary: versionSnapshot(forModel, String(primary)),
    shadow: shadowSnapshot(forModel, String(primary), String(candidate)),
  };
}

function versionSnapshot(samples: readonly Sample[], version: string): VersionSnapshot {
  let requests = 0;
  let errors = 0;
  for (const s of samples) {
    if (s.name !== 'tfmodel_version_requests_total' || s.labels['version'] !== version) continue;
    requests += s.value;
    if (s.labels['status'] !== 'OK') errors += s.value;
  }
  return { requests, errors, latency: buckets(samples, 'tfmodel_version_request_duration_seconds_bucket', (l) => l['version'] === version) };
}

function shadowSnapshot(samples: readonly Sample[], primary: string, shadow: string): ShadowSnapshot {
  const pair = (l: Readonly<Record<string, string>>): boolean => l['primary_version'] === primary && l['shadow_version'] === shadow;
  const sum = (name: string, extra: (l: Readonly<Record<string, string>>) => boolean): number =>
    samples.filter((s) => s.name === name && pair(s.labels) && extra(s.labels)).reduce((total, s) => total + s.value, 0);
  return {
    run: sum('tfmodel_shadow_requests_total', (l) => l['outcome'] === 'run'),
    dropped: sum('tfmodel_shadow_requests_total', (l) => l['outcome'] === 'dropped'),
    primaryErrors: sum('tfmodel_shadow_errors_total', (l) => l['side'] === 'primary'),
    shadowErrors: sum('tfmodel_shadow_errors_total', (l) => l['side'] === 'shadow'),
    absDiff: buckets(samples, 'tfmodel_shadow_max_abs_diff_bucket', pair),
  };
}

/** Sums the cumulative buckets of every series of a histogram matching `match`, by bound. */
function buckets(samples: readonly Sample[], name: string, match: (labels: Readonly<Record<string, string>>) => boolean): Buckets {
  const byBound = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== name || !match(s.labels)) continue;
    const le = s.labels['le'];
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (Number.isNaN(bound)) continue;
    byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
  }
  return [...byBound].sort(([a], [b]) => a - b);
}

export const EMPTY_VERSION: VersionSnapshot = { requests: 0, errors: 0, latency: [] };
export const EMPTY_SNAPSHOT: RolloutSnapshot = {
  candidate: EMPTY_VERSION,
  primary: EMPTY_VERSION,
  shadow: { run: 0, dropped: 0, primaryErrors: 0, shadowErrors: 0, absDiff: [] },
};
