/**
 * One reconcile of one TFModel, level-based: re-read everything, plan, apply what differs, push
 * the model config to pods that do not serve it yet, write the status. Retries and backoff belong
 * to the controller loop; a throw here means "try again later".
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  ANNOTATION_APPLIED_HASH, ANNOTATION_LABELS, InvalidSpecError, type LabelStatus, type ResolvedSpec, type RolloutStatus, type TFModel, type TFModelStatus, ownedNames, resolveSpec,
  selectorLabels,
} from './api/tfmodel.js';
import type { ClusterWriter } from './kube/cluster-writer.js';
import { describeKubeError, httpStatusOf } from './kube/cluster-writer.js';
import type { PodReport } from './promotion/pod-report.js';
import { type PromotionPlan, planPromotion } from './promotion/plan.js';
import { type AdminCredentials, adminCredentials, desiredAdminTokenSecret } from './render/admin-token.js';
import { contentHash, withAppliedHash } from './render/metadata.js';
import type { AdminKeySource } from './kube/admin-key.js';
import {
  MODEL_CONFIG_FILE, type RenderOptions, desiredConfigMap, desiredDeployment, desiredHorizontalPodAutoscaler, desiredService, desiredServiceMonitor, servedModel,
} from './render/owned-objects.js';
import type { PodAddressResolver } from './serving-client/pod-address.js';
import type { ServingClient } from './serving-client/serving-client.js';
import { type ApplyOutcome, buildStatus } from './status/build-status.js';
import { conditionOf } from './status/conditions.js';
import type { Logger } from '../server/logging.js';
import { RolloutDriver, desiredModelRouting, routingBody, toStatus } from './rollout/rollout-driver.js';
import type { RolloutPlan } from './rollout/step-planner.js';

/** What the reconciler reads, normally from informer caches. */
export interface ClusterReader {
  tfmodel(namespace: string, name: string): TFModel | undefined;
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  deployment(namespace: string, name: string): V1Deployment | undefined;
  service(namespace: string, name: string): V1Service | undefined;
  pods(namespace: string, selector: Readonly<Record<string, string>>): V1Pod[];
}

export interface ReconcilerOptions {
  readonly reader: ClusterReader;
  readonly writer: ClusterWriter;
  readonly serving: ServingClient;
  readonly addresses: PodAddressResolver;
  readonly render: RenderOptions;
  readonly log: Logger;
  readonly now?: () => Date;
  /** How long a label waits for a version no pod reports before it is blocked (default 60 s). */
  readonly notFoundGraceMs?: number;
  /** Re-check interval while something is in progress (default 1 s). */
  readonly busyRequeueMs?: number;
  /** Re-check interval when all is settled: catches pods that drifted (default 30 s). */
  readonly idleRequeueMs?: number;
  /**
   * The operator's admin key (kube/admin-key.ts): each TFModel's pods then run with
   * --admin_token_file and every config and routing push carries the token. Absent: model
   * management on the pods stays open, as with TF Serving.
   */
  readonly adminKey?: AdminKeySource;
  /** Called for each label move, with the time the change was first seen (for metrics). */
  readonly onLabelMoved?: (tfmodel: TFModel, label: string, from: number | undefined, to: number) => void;
}

export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

export class TFModelReconciler {
  /** Per pod UID: the hash of the model.config we last pushed and the server accepted. */
  private readonly pushed = new Map<string, string>();
  /**
   * Per TFModel UID: the labels of the last ConfigMap we applied. The informer cache can lag our
   * own write by a moment, and reading the old labels back would announce the same move twice.
   */
  private readonly committed = new Map<string, ReadonlyMap<string, number>>();
  /** Per TFModel UID: the applied-hash of each kind we applied last (for when the cache lags). */
  private readonly applied = new Map<string, Map<string, string>>();
  /** Per TFModel UID: the status we wrote last. */
  private readonly statuses = new Map<string, TFModelStatus>();
  /** Per TFModel UID: the generation whose disabled ServiceMonitor we made sure is gone. */
  private readonly monitorChecked = new Map<string, number | undefined>();
  /** Per TFModel UID: the admin token Secret we created (or found there) last. */
  private readonly adminSecrets = new Map<string, string>();
  /** Per TFModel UID: the generation whose removed spec.autoscaling we made sure has no HPA left. */
  private readonly autoscalerChecked = new Map<string, number | undefined>();
  private readonly now: () => Date;
  private readonly rollouts: RolloutDriver;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.rollouts = new RolloutDriver({ serving: options.serving, addresses: options.addresses });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const cached = this.options.reader.tfmodel(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return {}; // owned objects go with it (garbage collection)
    // The cache can lag our own status write by a moment; what we wrote last is the truth then
    // (the status is ours alone), so the next reconcile neither rewrites it nor repeats events.
    const remembered = this.statuses.get(cached.metadata.uid ?? '');
    const tfmodel: TFModel = remembered ? { ...cached, status: remembered } : cached;


    let spec: ResolvedSpec;
    try {
      spec = resolveSpec(tfmodel);
    } catch (error) {
      if (!(error instanceof InvalidSpecError)) throw error;
      await this.finish(tfmodel, { outcome: { ok: false, reason: 'InvalidSpec', message: error.message }, pods: [], reports: [] });
      return {};
    }

    const names = ownedNames(name);
    const reader = this.options.reader;
    const uid = tfmodel.metadata.uid ?? '';
    const existing = {
      configMap: reader.configMap(namespace, names.configMap) ?? await this.readUncached(uid, 'v1', 'ConfigMap', namespace, names.configMap),
      deployment: reader.deployment(namespace, names.deployment) ?? await this.readUncached(uid, 'apps/v1', 'Deployment', namespace, names.deployment),
      service: reader.service(namespace, names.service) ?? await this.readUncached(uid, 'v1', 'Service', namespace, names.service),
    };
    const conflict = Object.values(existing).find((object) => object && !isControlledBy(object, tfmodel));
    if (conflict) {
      const message = `${conflict.kind ?? 'object'} ${conflict.metadata?.name} exists and is not owned by this TFModel; the operator will not take it over`;
      await this.finish(tfmodel, { spec, outcome: { ok: false, reason: 'NameConflict', message }, pods: [], reports: [] });
      return { requeueAfterMs: this.options.idleRequeueMs ?? 30_000 };
    }

    // Derived from the key: nothing to read per TFModel (the Secret is created, never read back).
    const admin = this.options.adminKey ? adminCredentials(await this.options.adminKey(), tfmodel) : undefined;
    const pods = reader.pods(namespace, selectorLabels(name)).filter((pod) => isControlledByDeployment(pod, existing.deployment));
    const readyPods = pods.filter(isReadyPod);
    const reports = await Promise.all(readyPods.map((pod) => this.report(pod, spec.modelName)));
    const committed = this.committed.get(uid) ?? committedLabels(existing.configMap);
    const rollout = await this.rollouts.plan(uid, spec, tfmodel.status?.rollout, readyPods, spec.rollout ? committed.get(spec.rollout.plan.label) : undefined, this.now());
    // At 100% the rollout's label moves to the candidate, with the same safe move as a spec edit.
    const desired = rollout.promote && spec.rollout ? new Map([...spec.labels, [spec.rollout.plan.label, spec.rollout.plan.candidate]]) : spec.labels;
    const plan = planPromotion({
      desired,
      committed,
      policy: spec.policy,
      reports,
      previous: tfmodel.status?.labels ?? [],
      now: this.now(),
      notFoundGraceMs: this.options.notFoundGraceMs ?? 60_000,
    });

    const configMap = desiredConfigMap(tfmodel, spec, plan);
    const outcome = await this.applyAll(tfmodel, spec, admin, [
      [configMap, existing.configMap],
      [desiredDeployment(tfmodel, spec, this.options.render, admin?.secretName), existing.deployment],
      [desiredService(tfmodel, spec), existing.service],
    ]);
    if (outcome.ok) this.committed.set(tfmodel.metadata.uid ?? '', plan.labels);
    const configHash = contentHash(configMap.data![MODEL_CONFIG_FILE]);
    const push = outcome.ok ? await this.pushConfig(readyPods, reports, spec, plan, configHash, admin?.token) : NOTHING_PUSHED;
    const pushFailures = push.failures;
    const shownPlan = pushFailures.size === 0 ? plan : { ...plan, labelStatus: withUnpushedLabels(plan, reports, pushFailures, this.now()) };
    // A pod that took the config serves its labels now: the status says so (not the report read before the push).
    const observedReports = reports.map((report, index) => (push.pushed.has(index) && report.kind === 'serving' ? { ...report, labels: plan.labels } : report));
    for (const [label, [from, to]] of plan.moved) {
      this.options.onLabelMoved?.(tfmodel, label, from, to);
      await this.event(tfmodel, 'Normal', 'LabelMoved', `label ${label} now serves version ${to}${from === undefined ? '' : ` (was ${from})`}`);
    }
    const routingFailures = outcome.ok ? await this.pushRouting(readyPods, reports, spec, rollout, admin?.token) : 0;
    if (rollout.event) await this.event(tfmodel, rollout.event.type, rollout.event.reason, rollout.event.message);
    const status = await this.finish(tfmodel, {
      spec, plan: shownPlan, outcome, deployment: existing.deployment, pods, reports: observedReports, configHash, ...(rollout.status ? { rollout: toStatus(rollout.status) } : {}),
    });

    // After a push, look again soon: the pods' own reports confirm it.
    const settled = outcome.ok && pushFailures.size === 0 && push.pushed.size === 0 && plan.moved.size === 0 && routingFailures === 0
      && plan.labelStatus.every((l) => l.state === 'Served')
      && reports.every((r) => r.kind === 'serving')
      && (status.readyReplicas ?? 0) >= spec.replicas;
    const requeueAfterMs = settled ? this.options.idleRequeueMs ?? 30_000 : this.options.busyRequeueMs ?? 1000;
    return { requeueAfterMs: rollout.requeueAfterMs === undefined ? requeueAfterMs : Math.min(requeueAfterMs, rollout.requeueAfterMs) };
  }

  /**
   * The caches hold only objects carrying our managed-by label. Before creating an object the
   * cache does not show, ask the apiserver: someone else's object of that name must be refused,
   * not taken over by a forced apply.
   */
  private async readUncached<T extends KubernetesObject>(uid: string, apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined> {
    if (this.applied.get(uid)?.has(kind)) return undefined; // we created it; the cache has not caught up yet
    return this.options.writer.read<T>({ apiVersion, kind, metadata: { namespace, name } });
  }

  /** Forgets a pod that is gone (the controller calls this on pod deletion). */
  forgetPod(uid: string): void {
    this.pushed.delete(uid);
  }

  /**
   * Pushes the rollout's routing (canary weight, shadow rate) to each ready pod whose report shows
   * another; with no rollout, clears what a pod still routes. Returns how many pushes failed.
   */
  private async pushRouting(readyPods: readonly V1Pod[], reports: readonly PodReport[], spec: ResolvedSpec, rollout: RolloutPlan, adminToken: string | undefined): Promise<number> {
    const desired = desiredModelRouting(rollout);
    const wanted = JSON.stringify(desired ?? null);
    let failures = 0;
    await Promise.all(readyPods.map(async (pod, index) => {
      const report = reports[index]!;
      if (report.kind !== 'serving' || JSON.stringify(report.routing ?? null) === wanted) return;
      const address = this.options.addresses.resolve(pod);
      if (!address) return;
      try {
        await this.options.serving.pushRouting(address, routingBody(spec.modelName, desired), adminToken);
      } catch (error) {
        failures++;
        this.options.log.warn('routing_push_failed', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: (error as Error).message });
      }
    }));
    return failures;
  }

  /** Forgets a TFModel that is gone. */
  forgetTFModel(uid: string): void {
    this.rollouts.forget(uid);
    this.autoscalerChecked.delete(uid);
    this.adminSecrets.delete(uid);
    this.committed.delete(uid);
    this.monitorChecked.delete(uid);
    this.applied.delete(uid);
    this.statuses.delete(uid);
  }

  private async report(pod: V1Pod, modelName: string): Promise<PodReport> {
    const name = pod.metadata?.name ?? '?';
    const address = this.options.addresses.resolve(pod);
    if (!address) return { pod: name, kind: 'unreachable', error: 'the pod has no address yet' };
    return this.options.serving.report(address, name, modelName);
  }

  private async applyAll(tfmodel: TFModel, spec: ResolvedSpec, admin: AdminCredentials | undefined, pairs: Array<[KubernetesObject, KubernetesObject | undefined]>): Promise<ApplyOutcome> {
    try {
      const applied = this.applied.get(tfmodel.metadata.uid ?? '') ?? new Map<string, string>();
      this.applied.set(tfmodel.metadata.uid ?? '', applied);
      if (admin) await this.ensureAdminTokenSecret(tfmodel, admin); // before the pods that mount it
      for (const [desired, current] of pairs) await this.applyIfChanged(desired, current, applied);
      await this.reconcileServiceMonitor(tfmodel, spec);
      await this.reconcileAutoscaler(tfmodel, spec, applied);
      return { ok: true };
    } catch (error) {
      const message = describeKubeError(error);
      this.options.log.warn('apply_failed', { tfmodel: `${tfmodel.metadata.namespace}/${tfmodel.metadata.name}`, error: message });
      if (httpStatusOf(error) === undefined || (httpStatusOf(error) ?? 500) >= 500) throw error; // transient: back off and retry
      return { ok: false, reason: 'ApplyFailed', message };
    }
  }

  /**
   * Creates the TFModel's token Secret once (per operator process and key). One already there is
   * ours from an earlier run: the name holds the key's id and the content is derived from the key.
   * Someone else's of that name would hold another token, and the pods' refusal of every push
   * says so in the status (ConfigNotPushed, PERMISSION_DENIED): the operator may not read it.
   */
  private async ensureAdminTokenSecret(tfmodel: TFModel, admin: AdminCredentials): Promise<void> {
    const uid = tfmodel.metadata.uid ?? '';
    if (this.adminSecrets.get(uid) === admin.secretName) return;
    await this.options.writer.create(desiredAdminTokenSecret(tfmodel, admin));
    this.adminSecrets.set(uid, admin.secretName);
  }

  /** Applies only when what we would write differs from what we last wrote (the hash annotation). */
  private async applyIfChanged(desired: KubernetesObject, current: KubernetesObject | undefined, applied: Map<string, string>): Promise<void> {
    const stamped = withAppliedHash(desired);
    const hash = stamped.metadata!.annotations![ANNOTATION_APPLIED_HASH]!;
    const currentHash = current?.metadata?.annotations?.[ANNOTATION_APPLIED_HASH];
    if (currentHash === hash || (current === undefined && applied.get(desired.kind!) === hash)) return;
    await this.options.writer.apply(stamped);
    applied.set(desired.kind!, hash);
  }

  private async reconcileServiceMonitor(tfmodel: TFModel, spec: ResolvedSpec): Promise<void> {
    const monitor = desiredServiceMonitor(tfmodel, spec);
    if (spec.monitoring.enabled && spec.monitoring.serviceMonitor.enabled) {
      await this.options.writer.apply(withAppliedHash(monitor));
      this.monitorChecked.delete(tfmodel.metadata.uid ?? '');
      return;
    }
    // Delete one we created earlier (and only one we created). No informer watches
    // ServiceMonitors, so read once per spec generation rather than on every reconcile.
    const uid = tfmodel.metadata.uid ?? '';
    if (this.monitorChecked.get(uid) === tfmodel.metadata.generation) return;
    if (tfmodel.status?.observedGeneration === undefined) {
      // Never reconciled: no ServiceMonitor of ours can exist (we write status in the same pass).
      this.monitorChecked.set(uid, tfmodel.metadata.generation);
      return;
    }
    let current: KubernetesObject | undefined;
    try {
      current = await this.options.writer.read(monitor);
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error; // 404: no ServiceMonitor CRD in this cluster
    }
    if (current && isControlledBy(current, tfmodel)) await this.options.writer.deleteObject(current);
    this.monitorChecked.set(uid, tfmodel.metadata.generation);
  }

  /**
   * spec.autoscaling: apply the HPA (only when what we would write changed). Without it, delete an
   * HPA we created (never someone else's), checked once per spec generation as for ServiceMonitors.
   */
  private async reconcileAutoscaler(tfmodel: TFModel, spec: ResolvedSpec, applied: Map<string, string>): Promise<void> {
    const uid = tfmodel.metadata.uid ?? '';
    const hpa = desiredHorizontalPodAutoscaler(tfmodel, spec);
    if (spec.autoscaling) {
      await this.applyIfChanged(hpa, undefined, applied);
      this.autoscalerChecked.delete(uid);
      return;
    }
    if (this.autoscalerChecked.get(uid) === tfmodel.metadata.generation) return;
    applied.delete(hpa.kind!);
    if (tfmodel.status?.observedGeneration === undefined) {
      this.autoscalerChecked.set(uid, tfmodel.metadata.generation);
      return;
    }
    const current = await this.options.writer.read(hpa);
    if (current && isControlledBy(current, tfmodel)) await this.options.writer.deleteObject(current);
    this.autoscalerChecked.set(uid, tfmodel.metadata.generation);
  }

  /**
   * Pushes the config to each ready pod that was not yet sent this config, or whose labels differ
   * from it (a pod that restarted from a stale ConfigMap file). Returns the pods it could not
   * push to, with the error.
   */
  /** Pushes the config to every ready pod that lacks it; by index into readyPods, which took it and which failed (why). */
  private async pushConfig(
    readyPods: readonly V1Pod[], reports: readonly PodReport[], spec: ResolvedSpec, plan: PromotionPlan, configHash: string, adminToken: string | undefined,
  ): Promise<PushOutcome> {
    const config = servedModel(spec, plan);
    const failures = new Map<number, string>();
    const pushed = new Set<number>();
    await Promise.all(readyPods.map(async (pod, index) => {
      const uid = pod.metadata?.uid ?? '';
      const report = reports[index]!;
      const labelsDiffer = report.kind !== 'serving' || !sameLabels(report.labels, plan.labels);
      if (this.pushed.get(uid) === configHash && !labelsDiffer) return;
      const address = this.options.addresses.resolve(pod);
      if (!address) return;
      try {
        await this.options.serving.pushConfig(address, config, adminToken);
        this.pushed.set(uid, configHash);
        pushed.add(index);
      } catch (error) {
        failures.set(index, (error as Error).message);
        this.options.log.warn('config_push_failed', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: (error as Error).message });
      }
    }));
    return { failures, pushed };
  }

  private async finish(
    tfmodel: TFModel,
    observed: { spec?: ResolvedSpec; plan?: PromotionPlan; outcome: ApplyOutcome; deployment?: V1Deployment; pods: V1Pod[]; reports: PodReport[]; configHash?: string; rollout?: RolloutStatus },
  ): Promise<TFModelStatus> {
    const status = buildStatus({ tfmodel, ...observed, now: this.now() });
    await this.recordTransitions(tfmodel, status);
    if (!sameStatus(tfmodel.status, status)) {
      await this.options.writer.writeStatus(tfmodel, status);
      this.statuses.set(tfmodel.metadata.uid ?? '', status);
    }
    return status;
  }

  /** Events for conditions that flipped to a state worth telling `kubectl describe` about. */
  private async recordTransitions(tfmodel: TFModel, status: TFModelStatus): Promise<void> {
    const before = tfmodel.status?.conditions;
    const after = status.conditions;
    const flipped = (type: Parameters<typeof conditionOf>[1], to: 'True' | 'False') => {
      const next = conditionOf(after, type);
      return next?.status === to && (conditionOf(before, type)?.status !== to || conditionOf(before, type)?.reason !== next.reason) ? next : undefined;
    };
    const blocked = flipped('PromotionBlocked', 'True');
    if (blocked) await this.event(tfmodel, 'Warning', 'PromotionBlocked', blocked.message);
    const applyFailed = flipped('ConfigApplied', 'False');
    if (applyFailed) await this.event(tfmodel, 'Warning', applyFailed.reason, applyFailed.message);
    const ready = flipped('Ready', 'True');
    if (ready) await this.event(tfmodel, 'Normal', 'Ready', ready.message);
    const degraded = flipped('Degraded', 'True');
    if (degraded) await this.event(tfmodel, 'Warning', degraded.reason, degraded.message);
  }

  private async event(tfmodel: TFModel, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await this.options.writer.event(tfmodel, type, reason, message);
    } catch (error) {
      // An event is a courtesy; failing to record one must not fail the reconcile.
      this.options.log.warn('event_failed', { reason, error: describeKubeError(error) });
    }
  }
}

/**
 * A label is not Served while a pod that did not take the config still serves it differently:
 * status must never claim what some pod does not do.
 */
interface PushOutcome {
  readonly failures: ReadonlyMap<number, string>;
  readonly pushed: ReadonlySet<number>;
}

const NOTHING_PUSHED: PushOutcome = { failures: new Map(), pushed: new Set() };

function withUnpushedLabels(plan: PromotionPlan, reports: readonly PodReport[], failures: ReadonlyMap<number, string>, now: Date): LabelStatus[] {
  return plan.labelStatus.map((label) => {
    if (label.state !== 'Served') return label;
    const lagging = [...failures].filter(([index]) => {
      const report = reports[index]!;
      return report.kind !== 'serving' || report.labels.get(label.label) !== plan.labels.get(label.label);
    });
    if (lagging.length === 0) return label;
    const pods = lagging.map(([index, error]) => `${reports[index]!.pod} (${error})`).join(', ');
    return { ...label, state: 'Promoting', reason: 'ConfigNotPushed', message: `the new config could not be pushed to ${pods}; retrying`, since: now.toISOString() };
  });
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function isControlledBy(object: KubernetesObject, tfmodel: TFModel): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.controller && ref.uid === tfmodel.metadata.uid);
}

/** Pods of the Deployment's ReplicaSets (the selector alone could match someone else's pods). */
function isControlledByDeployment(pod: V1Pod, deployment: V1Deployment | undefined): boolean {
  if (!deployment) return false;
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller);
  return owner?.kind === 'ReplicaSet' && (owner.name ?? '').startsWith(`${deployment.metadata?.name}-`);
}

function isReadyPod(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The labels the ConfigMap's model.config serves (our annotation), empty when there is none. */
function committedLabels(configMap: V1ConfigMap | undefined): Map<string, number> {
  const text = configMap?.metadata?.annotations?.[ANNOTATION_LABELS];
  if (!text) return new Map();
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return new Map(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'));
  } catch {
    return new Map();
  }
}

function sameLabels(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([label, version]) => b.get(label) === version);
}

/** Status equality ignoring key order (the apiserver may reorder). */
function sameStatus(a: TFModelStatus | undefined, b: TFModelStatus): boolean {
  return a !== undefined && contentHash(a) === contentHash(b);
}
