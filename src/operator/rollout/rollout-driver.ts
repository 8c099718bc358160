/**
 * The reconciler's side of a rollout (kept out of reconciler.ts): reads every ready pod's metrics
 * endpoint, keeps each pod's baseline snapshot for the current step in memory, judges the gates,
 * runs the step planner, and renders the routing each pod must serve. Level-based: after an
 * operator restart the baselines are taken afresh (the step's interval restarts for them).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolvedSpec, RolloutStatus } from '../api/tfmodel.js';
import type { PodAddressResolver } from '../serving-client/pod-address.js';
import type { ServingClient } from '../serving-client/serving-client.js';
import { type IntervalMeasure, evaluateGates, measureInterval } from './gates.js';
import { parseMetricsText } from './metrics-text.js';
import { type RolloutSnapshot, rolloutSnapshot } from './rollout-metrics.js';
import { type RolloutPlan, type RolloutStatusState, planRollout } from './step-planner.js';

interface Baselines {
  readonly stepKey: string;
  readonly pods: Map<string, { readonly snapshot: RolloutSnapshot; readonly takenAt: number }>;
}

export interface RolloutDriverOptions {
  readonly serving: ServingClient;
  readonly addresses: PodAddressResolver;
}

export class RolloutDriver {
  /** Per TFModel UID. */
  private readonly baselines = new Map<string, Baselines>();

  constructor(private readonly options: RolloutDriverOptions) {}

  forget(uid: string): void {
    this.baselines.delete(uid);
  }

  async plan(uid: string, spec: ResolvedSpec, status: RolloutStatus | undefined, readyPods: readonly V1Pod[], primary: number | undefined, now: Date): Promise<RolloutPlan> {
    const rollout = spec.rollout;
    const previous = status ? fromStatus(status) : undefined;
    if (!rollout) {
      this.baselines.delete(uid);
      return planRollout({ spec: undefined, previous, primary, now, verdict: undefined });
    }
    const measuring = previous !== undefined && previous.candidate === rollout.plan.candidate && (previous.state === 'Progressing' || previous.state === 'Paused') && primary !== undefined;
    const snapshots = measuring ? await this.snapshots(spec, readyPods, primary!, rollout.plan.candidate) : new Map<string, RolloutSnapshot | undefined>();
    const stepKey = previous ? `${previous.candidate}/${previous.step}/${previous.stepStartedAt}` : '';
    let baselines = this.baselines.get(uid);
    if (!baselines || baselines.stepKey !== stepKey) {
      baselines = { stepKey, pods: new Map() };
      this.baselines.set(uid, baselines);
    }
    let verdict;
    if (measuring) {
      const measures: Array<IntervalMeasure | { pod: string; unmeasured: true }> = [];
      const young: string[] = [];
      for (const pod of readyPods) {
        const name = pod.metadata?.name ?? '?';
        const key = pod.metadata?.uid ?? name;
        const snapshot = snapshots.get(key);
        const baseline = baselines.pods.get(key);
        if (!snapshot) {
          measures.push({ pod: name, unmeasured: true });
          continue;
        }
        if (!baseline) {
          baselines.pods.set(key, { snapshot, takenAt: now.getTime() });
          measures.push({ pod: name, unmeasured: true });
          continue;
        }
        const measure = measureInterval(name, baseline.snapshot, snapshot, rollout.gates.minRequests);
        if (!measure) {
          baselines.pods.set(key, { snapshot, takenAt: now.getTime() }); // the pod restarted: start its interval again
          measures.push({ pod: name, unmeasured: true });
          continue;
        }
        measures.push(measure);
        if (now.getTime() - baseline.takenAt < rollout.plan.intervalMs) young.push(name);
      }
      const judged = evaluateGates(rollout.gates, measures);
      verdict = { ...judged, unmeasured: [...judged.unmeasured, ...young] };
    }
    const plan = planRollout({ spec: rollout.plan, previous, primary, now, verdict });
    if (plan.newStep && plan.status) {
      // The new step's baselines: what the pods count now.
      const next: Baselines = { stepKey: `${plan.status.candidate}/${plan.status.step}/${plan.status.stepStartedAt}`, pods: new Map() };
      const fresh = measuring ? snapshots : await this.snapshots(spec, readyPods, primary ?? 0, rollout.plan.candidate);
      for (const [key, snapshot] of fresh) if (snapshot) next.pods.set(key, { snapshot, takenAt: now.getTime() });
      this.baselines.set(uid, next);
    }
    return plan;
  }

  /** Each ready pod's snapshot by pod UID; undefined where the metrics could not be read. */
  private async snapshots(spec: ResolvedSpec, pods: readonly V1Pod[], primary: number, candidate: number): Promise<Map<string, RolloutSnapshot | undefined>> {
    const out = new Map<string, RolloutSnapshot | undefined>();
    await Promise.all(pods.map(async (pod) => {
      const key = pod.metadata?.uid ?? pod.metadata?.name ?? '?';
      const address = this.options.addresses.resolve(pod);
      if (!address || !spec.monitoring.enabled) return void out.set(key, undefined);
      try {
        const text = await this.options.serving.metrics(address, spec.monitoring.path);
        out.set(key, rolloutSnapshot(parseMetricsText(text), spec.modelName, primary, candidate));
      } catch {
        out.set(key, undefined);
      }
    }));
    return out;
  }
}

/** The routing a pod must serve for this plan, in the server's GET /v1/models form (undefined: none). */
export function desiredModelRouting(plan: RolloutPlan): Record<string, unknown> | undefined {
  const r = plan.routing;
  if (!r) return undefined;
  return {
    request_key: 'x-request-id',
    labels: {
      [r.label]: {
        canaries: r.canaryPercent > 0 ? [{ version: String(r.candidate), percent: r.canaryPercent }] : [],
        ...(r.shadowPercent > 0 ? { shadow: { version: String(r.candidate), percent: r.shadowPercent } } : {}),
      },
    },
  };
}

/** The body of PUT /tfmodel/routing for one model. */
export function routingBody(modelName: string, model: Record<string, unknown> | undefined): unknown {
  return model ? { models: { [modelName]: model } } : {};
}

export function toStatus(state: RolloutStatusState): RolloutStatus {
  return {
    candidate: state.candidate,
    label: state.label,
    state: state.state,
    step: state.step,
    weight: state.weight,
    stepStartedAt: state.stepStartedAt,
    ...(state.message ? { message: state.message } : {}),
    ...(state.failure ? { failure: { gate: state.failure.gate, pod: state.failure.pod, value: String(state.failure.value), threshold: String(state.failure.threshold) } } : {}),
  };
}

export function fromStatus(status: RolloutStatus): RolloutStatusState {
  return {
    candidate: status.candidate,
    label: status.label,
    state: status.state,
    step: status.step,
    weight: status.weight,
    stepStartedAt: status.stepStartedAt,
    ...(status.message ? { message: status.message } : {}),
    ...(status.failure ? { failure: { gate: status.failure.gate as 'maxErrorRate', pod: status.failure.pod, value: Number(status.failure.value), threshold: Number(status.failure.threshold) } } : {}),
  };
}
