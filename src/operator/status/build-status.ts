/**
 * The TFModel status as a pure function of what the reconcile observed: the Deployment, the pods,
 * each ready pod's own report, the promotion plan and the outcome of applying the objects.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import {
  GRPC_PORT, REST_PORT, type ResolvedSpec, type RolloutStatus, type TFModel, type TFModelStatus, type VersionStatus, ownedNames, selectorString,
} from '../api/tfmodel.js';
import type { PodReport } from '../promotion/pod-report.js';
import type { PromotionPlan } from '../promotion/plan.js';
import { type ConditionUpdate, mergeConditions } from './conditions.js';

export type ApplyOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'InvalidSpec' | 'NameConflict' | 'ApplyFailed'; readonly message: string };

export interface StatusInput {
  readonly tfmodel: TFModel;
  /** Undefined when the spec is invalid (the outcome says why). */
  readonly spec?: ResolvedSpec;
  readonly plan?: PromotionPlan;
  readonly outcome: ApplyOutcome;
  readonly deployment?: V1Deployment;
  /** Every pod of the TFModel, ready or not. */
  readonly pods: readonly V1Pod[];
  /** One per ready pod. */
  readonly reports: readonly PodReport[];
  readonly now: Date;
  /** The hash of the model.config rendered in this reconcile. */
  readonly configHash?: string;
  /** spec.rollout's progress, when there is a rollout. */
  readonly rollout?: RolloutStatus;
}

export function buildStatus(input: StatusInput): TFModelStatus {
  const { tfmodel, spec, plan } = input;
  const name = tfmodel.metadata.name!;
  const namespace = tfmodel.metadata.namespace!;
  const previous = tfmodel.status ?? {};
  const generation = tfmodel.metadata.generation ?? 0;
  const replicas = input.deployment?.status?.replicas ?? 0;
  const readyReplicas = input.deployment?.status?.readyReplicas ?? 0;
  const versions = aggregateVersions(input.reports);
  const unschedulable = unschedulableMessage(input.pods);
  const crashing = crashLoopingPods(input.pods);
  const failedVersions = versions.filter((v) => v.error);

  const conditions: ConditionUpdate[] = [];
  conditions.push(input.outcome.ok
    ? { type: 'ConfigApplied', status: true, reason: 'Applied', message: 'ConfigMap, Deployment and Service match the spec' }
    : { type: 'ConfigApplied', status: false, reason: input.outcome.reason, message: input.outcome.message });
  conditions.push(readyCondition(input, readyReplicas, unschedulable));
  const promoting = plan?.labelStatus.filter((l) => l.state === 'Promoting') ?? [];
  const blocked = plan?.labelStatus.filter((l) => l.state === 'Blocked') ?? [];
  conditions.push(promoting.length > 0
    ? { type: 'Promoting', status: true, reason: promoting[0]!.reason!, message: promoting.map(labelLine).join('; ') }
    : { type: 'Promoting', status: false, reason: 'LabelsServed', message: 'every version label serves its desired version' });
  conditions.push(blocked.length > 0
    ? { type: 'PromotionBlocked', status: true, reason: blocked[0]!.reason!, message: blocked.map(labelLine).join('; ') }
    : { type: 'PromotionBlocked', status: false, reason: 'NotBlocked', message: 'no version label is blocked' });
  const degraded = [
    ...(unschedulable ? [`unschedulable: ${unschedulable}`] : []),
    ...(crashing.length > 0 ? [`crash-looping pods: ${crashing.join(', ')}`] : []),
    ...failedVersions.map((v) => `version ${v.version} failed to load: ${v.error}`),
  ];
  conditions.push(degraded.length > 0
    ? { type: 'Degraded', status: true, reason: unschedulable ? 'Unschedulable' : crashing.length > 0 ? 'CrashLoopBackOff' : 'VersionFailedToLoad', message: degraded.join('; ') }
    : { type: 'Degraded', status: false, reason: 'AsExpected', message: 'no problems observed' });

  if (input.rollout) {
    const r = input.rollout;
    conditions.push(r.state === 'Failed'
      ? { type: 'RolloutFailed', status: true, reason: 'GateFailed', message: r.message ?? `version ${r.candidate} failed a gate` }
      : { type: 'RolloutFailed', status: false, reason: `Rollout${r.state}`, message: r.message ?? `version ${r.candidate} on ${r.label} at ${r.weight}%` });
  }

  const names = ownedNames(name);
  const host = `${names.service}.${namespace}.svc`;
  const modelName = spec?.modelName ?? tfmodel.spec.modelName ?? name;
  return {
    observedGeneration: generation,
    modelName,
    conditions: mergeConditions(previous.conditions ?? [], conditions, generation, input.now),
    servedLabels: servedLabels(input.reports, previous.servedLabels),
    ...(plan ? { labels: [...plan.labelStatus] } : previous.labels ? { labels: previous.labels } : {}),
    versions,
    replicas,
    readyReplicas,
    selector: selectorString(name),
    endpoints: {
      rest: `http://${host}:${REST_PORT}/v1/models/${modelName}`,
      grpc: `${host}:${GRPC_PORT}`,
      // The Open Inference Protocol, on the same ports.
      v2Rest: `http://${host}:${REST_PORT}/v2/models/${modelName}`,
      v2Grpc: `${host}:${GRPC_PORT}`,
    },
    ...(input.configHash ?? previous.configHash ? { configHash: input.configHash ?? previous.configHash } : {}),
    ...(input.rollout ? { rollout: input.rollout } : {}),
  };
}

function readyCondition(input: StatusInput, readyReplicas: number, unschedulable: string | undefined): ConditionUpdate {
  if (!input.outcome.ok) return { type: 'Ready', status: false, reason: 'ConfigNotApplied', message: input.outcome.message };
  const desired = input.spec?.replicas ?? 0;
  if (desired === 0) return { type: 'Ready', status: false, reason: 'ScaledToZero', message: 'spec.replicas is 0' };
  if (readyReplicas < desired) {
    return {
      type: 'Ready',
      status: false,
      reason: unschedulable ? 'Unschedulable' : 'ReplicasNotReady',
      message: `${readyReplicas}/${desired} serving pods ready${unschedulable ? `; ${unschedulable}` : ''}`,
    };
  }
  return { type: 'Ready', status: true, reason: 'Serving', message: `${readyReplicas}/${desired} serving pods ready` };
}

function labelLine(label: { label: string; desiredVersion: number; servedVersion?: number; message?: string }): string {
  const from = label.servedVersion === undefined ? 'unassigned' : `version ${label.servedVersion}`;
  return `${label.label} -> ${label.desiredVersion} (serving ${from}): ${label.message ?? ''}`;
}

/**
 * The labels as the answering pods serve them: a label every such pod serves at the same version.
 * While they disagree (a push in flight) the previous value stays, so the columns do not flicker.
 */
function servedLabels(reports: readonly PodReport[], previous: Record<string, number | undefined> | undefined): Record<string, number> {
  const serving = reports.filter((r) => r.kind === 'serving');
  const result: Record<string, number> = {};
  const names = new Set(serving.flatMap((r) => [...r.labels.keys()]));
  for (const label of [...names].sort()) {
    const values = new Set(serving.map((r) => r.labels.get(label)));
    if (values.size === 1 && !values.has(undefined)) result[label] = [...values][0]!;
    else if (previous?.[label] !== undefined) result[label] = previous[label]!;
  }
  return result;
}

function aggregateVersions(reports: readonly PodReport[]): VersionStatus[] {
  const byVersion = new Map<number, { states: Set<string>; available: number; error?: string; message?: string }>();
  for (const report of reports) {
    if (report.kind !== 'serving') continue;
    for (const v of report.versions) {
      const entry = byVersion.get(v.version) ?? { states: new Set<string>(), available: 0 };
      entry.states.add(v.state);
      if (v.state === 'AVAILABLE') entry.available++;
      if (v.error && entry.error === undefined) entry.error = `${report.pod}: ${v.error}`;
      if (v.waiting && entry.message === undefined) entry.message = `${report.pod}: ${v.waiting}`;
      byVersion.set(v.version, entry);
    }
  }
  return [...byVersion].sort(([a], [b]) => b - a).map(([version, e]) => ({
    version,
    state: e.states.size === 1 ? [...e.states][0]! : 'Mixed',
    readyReplicas: e.available,
    ...(e.error ? { error: e.error } : {}),
    ...(e.message ? { message: e.message } : {}),
  }));
}

function unschedulableMessage(pods: readonly V1Pod[]): string | undefined {
  for (const pod of pods) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return `pod ${pod.metadata?.name}: ${scheduled.message ?? 'Unschedulable'}`;
  }
  return undefined;
}

function crashLoopingPods(pods: readonly V1Pod[]): string[] {
  return pods
    .filter((pod) => pod.status?.containerStatuses?.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff'))
    .map((pod) => pod.metadata?.name ?? '?');
}
