/**
 * Safe label promotion as a pure decision, like TF Serving's AspiredVersionPolicy: given the
 * labels the spec asks for, the labels the pods were last told to serve, and what every ready pod
 * reports, decide which labels to serve now and which versions must stay loaded.
 *
 * A label moves to version N only when every ready pod reports N AVAILABLE, so no request through
 * the label can reach a pod that lacks N; moving back to a version still loaded is therefore
 * immediate. Until then the label keeps its old version, and the old and new versions both stay in
 * a specific policy. A version some pod failed to load, or that no pod reports within the grace
 * period, blocks the label (the old version keeps serving) until the situation changes.
 */
import type { LabelStatus, ResolvedPolicy } from '../api/tfmodel.js';
import { type PodReport, versionOf } from './pod-report.js';

export interface PromotionInput {
  /** spec.versionLabels. */
  readonly desired: ReadonlyMap<string, number>;
  /** The labels the current model.config serves (what the pods were last told). */
  readonly committed: ReadonlyMap<string, number>;
  readonly policy: ResolvedPolicy;
  /** One per ready serving pod. */
  readonly reports: readonly PodReport[];
  /** The previous status.labels, for when each label started waiting. */
  readonly previous: readonly LabelStatus[];
  readonly now: Date;
  /** How long a version may go unreported by every pod before the label is blocked. */
  readonly notFoundGraceMs: number;
}

export type LabelReason =
  | 'NoReadyReplicas' | 'PodUnreachable' | 'ModelNotLoaded' | 'VersionLoading' | 'VersionNotReported'
  | 'VersionNotFound' | 'VersionFailedToLoad' | 'VersionWaitingForMemory';

export interface PromotionPlan {
  /** The labels to render and push now. */
  readonly labels: ReadonlyMap<string, number>;
  /** Versions a specific policy must load besides its own (old and new label targets). */
  readonly extraVersions: readonly number[];
  readonly labelStatus: readonly LabelStatus[];
  /** Labels that moved in this plan (label -> [from, to]); from is undefined for a new label. */
  readonly moved: ReadonlyMap<string, readonly [number | undefined, number]>;
  readonly removed: readonly string[];
}

export function planPromotion(input: PromotionInput): PromotionPlan {
  const labels = new Map<string, number>();
  const moved = new Map<string, readonly [number | undefined, number]>();
  const labelStatus: LabelStatus[] = [];
  for (const [label, target] of [...input.desired].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const current = input.committed.get(label);
    if (current === target) {
      labels.set(label, target);
      labelStatus.push({ label, desiredVersion: target, servedVersion: target, state: 'Served' });
      continue;
    }
    const verdict = judgeTarget(input, target, sinceOf(input, label, target));
    if (verdict.kind === 'ready') {
      labels.set(label, target);
      moved.set(label, [current, target]);
      labelStatus.push({ label, desiredVersion: target, servedVersion: target, state: 'Served' });
      continue;
    }
    if (current !== undefined) labels.set(label, current);
    labelStatus.push({
      label,
      desiredVersion: target,
      ...(current !== undefined ? { servedVersion: current } : {}),
      state: verdict.kind === 'blocked' ? 'Blocked' : 'Promoting',
      reason: verdict.reason,
      message: verdict.message,
      since: verdict.since.toISOString(),
    });
  }
  const removed = [...input.committed.keys()].filter((label) => !input.desired.has(label)).sort();
  return { labels, extraVersions: extraVersions(input, labels), labelStatus, moved, removed };
}

type Verdict =
  | { readonly kind: 'ready' }
  | { readonly kind: 'waiting' | 'blocked'; readonly reason: LabelReason; readonly message: string; readonly since: Date };

function judgeTarget(input: PromotionInput, target: number, since: Date): Verdict {
  const waiting = (reason: LabelReason, message: string): Verdict => ({ kind: 'waiting', reason, message, since });
  const blocked = (reason: LabelReason, message: string): Verdict => ({ kind: 'blocked', reason, message, since });
  // A failed load anywhere blocks at once: waiting would not make it load.
  for (const report of input.reports) {
    const reported = versionOf(report, target);
    if (reported?.state === 'END' && reported.error) {
      return blocked('VersionFailedToLoad', `version ${target} failed to load on pod ${report.pod}: ${reported.error}`);
    }
  }
  if (input.reports.length === 0) return waiting('NoReadyReplicas', `waiting for a ready serving pod to load version ${target}`);
  const unreachable = input.reports.filter((r) => r.kind === 'unreachable');
  if (unreachable.length > 0) {
    const first = unreachable[0] as Extract<PodReport, { kind: 'unreachable' }>;
    return waiting('PodUnreachable', `cannot confirm version ${target} on ${podList(unreachable)}: ${first.error}`);
  }
  const missing = input.reports.filter((r) => r.kind === 'model-missing');
  if (missing.length > 0) return waiting('ModelNotLoaded', `${podList(missing)} do not serve the model yet`);
  const notAvailable = input.reports.filter((r) => versionOf(r, target)?.state !== 'AVAILABLE');
  if (notAvailable.length === 0) return { kind: 'ready' };
  // The server's memory budget holds the load back until a label lets go of the old version: it will not load by waiting.
  const held = notAvailable.find((r) => versionOf(r, target)?.waiting);
  if (held) return blocked('VersionWaitingForMemory', `version ${target} waits on pod ${held.pod}: ${versionOf(held, target)!.waiting}`);
  const loading = notAvailable.filter((r) => ['START', 'LOADING'].includes(versionOf(r, target)?.state ?? ''));
  if (loading.length > 0) return waiting('VersionLoading', `version ${target} is loading on ${podList(loading)}`);
  const seenAnywhere = input.reports.some((r) => versionOf(r, target) !== undefined && versionOf(r, target)!.state !== 'END');
  const waited = input.now.getTime() - since.getTime();
  if (!seenAnywhere && waited >= input.notFoundGraceMs) {
    return blocked('VersionNotFound', `no serving pod loaded version ${target} within ${Math.round(input.notFoundGraceMs / 1000)}s: ${notFoundHint(input.policy, target)}`);
  }
  return waiting('VersionNotReported', `version ${target} is not AVAILABLE on ${podList(notAvailable)} yet`);
}

function notFoundHint(policy: ResolvedPolicy, target: number): string {
  switch (policy.kind) {
    case 'specific':
      return `there is no version directory ${target} under the base path`;
    case 'latest':
      return `there is no version directory ${target} under the base path, or it is not among the ${policy.numVersions} newest the latest policy serves`;
    case 'all':
      return `there is no version directory ${target} under the base path`;
  }
}

function podList(reports: readonly PodReport[]): string {
  const names = reports.map((r) => r.pod);
  return names.length === 1 ? `pod ${names[0]}` : `pods ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/** When the label started waiting for this target: kept across reconciles while the target stays. */
function sinceOf(input: PromotionInput, label: string, target: number): Date {
  const previous = input.previous.find((s) => s.label === label);
  if (previous && previous.desiredVersion === target && previous.state !== 'Served' && previous.since) {
    const since = new Date(previous.since);
    if (!Number.isNaN(since.getTime())) return since;
  }
  return input.now;
}

/**
 * Only a specific policy can name extra versions. It keeps what the labels serve now (so moving a
 * label away never unloads the version still behind it) and what they are waiting for.
 */
function extraVersions(input: PromotionInput, served: ReadonlyMap<string, number>): number[] {
  if (input.policy.kind !== 'specific') return [];
  const policyVersions = new Set(input.policy.versions);
  const extra = new Set<number>();
  for (const version of [...served.values(), ...input.desired.values()]) if (!policyVersions.has(version)) extra.add(version);
  return [...extra].sort((a, b) => a - b);
}
