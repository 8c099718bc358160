/**
 * The TFModel API as the operator uses it: identifiers, the names of owned objects, and the spec
 * with every default applied (the CRD's structural defaults cover what the apiserver stores; this
 * covers the rest, such as modelName defaulting to metadata.name).
 */
import type { BatchingSpec, GpuSpec, RolloutSpec, TFModel, TFModelSpec } from './generated/tfmodel.js';
import type { RolloutGates } from '../rollout/gates.js';
import type { RolloutPlanSpec } from '../rollout/step-planner.js';

export type { TFModel, TFModelSpec, TFModelStatus, Condition, VersionStatus, LabelStatus, RolloutStatus } from './generated/tfmodel.js';

export const GROUP = 'serving.tfmodel.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'TFModel';
export const PLURAL = 'tfmodels';

/** Our server-side apply field manager. */
export const FIELD_MANAGER = 'tfmodel-operator';

export const GRPC_PORT = 8500;
export const REST_PORT = 8501;

/** Labels on everything the operator creates for a TFModel. */
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const SERVER_APP_NAME = 'tfmodel-server';

/** On the ConfigMap: the labels its model.config serves, as JSON (read back on the next reconcile). */
export const ANNOTATION_LABELS = `${GROUP}/version-labels`;
/** On owned objects: a hash of what we applied, so an unchanged object is not re-applied. */
export const ANNOTATION_APPLIED_HASH = `${GROUP}/applied-hash`;
/** On the pod template: a hash of the files the server reads only at start (batching, monitoring). */
export const ANNOTATION_POD_CONFIG_HASH = `${GROUP}/startup-config-hash`;

export type GpuSharing = NonNullable<GpuSpec['sharing']>;
export type Runtime = NonNullable<TFModelSpec['runtime']>;

export type ResolvedPolicy =
  | { readonly kind: 'latest'; readonly numVersions: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

export interface ResolvedGpu {
  readonly fraction: string;
  readonly fractionValue: number;
  readonly sharing: GpuSharing;
  readonly resourceName: string;
  readonly count: number;
  readonly schedulerName: string;
}

export interface ResolvedMonitoring {
  readonly enabled: boolean;
  readonly path: string;
  readonly serviceMonitor: { readonly enabled: boolean; readonly interval?: string; readonly labels: Readonly<Record<string, string>> };
}

/**
 * Where the model lives inside the pod, and the claim to mount for pvc:// paths. For s3://, gs://,
 * az:// and https:// archives the server reads the URL itself (podPath is the URL): the pod gets the Secret's keys as
 * references, a cache emptyDir, and no model volume.
 */
export type ResolvedStorage =
  | { readonly kind: 'path'; readonly podPath: string }
  | { readonly kind: 'pvc'; readonly claimName: string; readonly podPath: string }
  | { readonly kind: 'object'; readonly scheme: ObjectScheme; readonly podPath: string; readonly secretName?: string; readonly endpoint?: string; readonly cacheSizeLimit: string; readonly cacheMaxBytes: number };

/** Base paths the server reads itself into its download cache: object stores, and https:// archives. */
export type ObjectScheme = 's3' | 'gs' | 'az' | 'https';

/** The spec with defaults applied and types narrowed. */
export interface ResolvedSpec {
  readonly name: string;
  readonly namespace: string;
  readonly modelName: string;
  readonly storage: ResolvedStorage;
  readonly policy: ResolvedPolicy;
  readonly labels: ReadonlyMap<string, number>;
  readonly replicas: number;
  readonly gpu?: ResolvedGpu;
  readonly runtime: Runtime;
  readonly batching?: BatchingSpec;
  readonly monitoring: ResolvedMonitoring;
  readonly serverArgs: readonly string[];
  readonly rollout?: ResolvedRollout;
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCPUUtilizationPercentage: number };
}

export interface ResolvedRollout {
  readonly plan: RolloutPlanSpec;
  readonly gates: RolloutGates;
}

export const DEFAULT_METRICS_PATH = '/monitoring/prometheus/metrics';
export const DEFAULT_GPU_RESOURCE = 'nvidia.com/gpu';
export const DEFAULT_KAI_SCHEDULER = 'kai-scheduler';
/** Where a pvc:// claim is mounted in the serving pod. */
export const PVC_MOUNT_PATH = '/mnt/models';
/** The object-store download cache (an emptyDir) in the serving pod: --model_cache_dir. */
export const MODEL_CACHE_PATH = '/var/cache/tfmodel/models';
export const DEFAULT_CACHE_SIZE_LIMIT = '10Gi';
/** The server's cache bound, as a share of the emptyDir's sizeLimit (headroom for partial downloads before eviction). */
export const CACHE_MAX_BYTES_SHARE = 0.9;

/** A spec the CRD's rules should have refused; carries every problem found. */
export class InvalidSpecError extends Error {
  override readonly name = 'InvalidSpecError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

/** Names of the objects the operator owns for a TFModel. */
export function ownedNames(name: string): { readonly configMap: string; readonly deployment: string; readonly service: string; readonly serviceMonitor: string; readonly autoscaler: string } {
  return { configMap: `${name}-server-config`, deployment: `${name}-server`, service: `${name}-server`, serviceMonitor: `${name}-server`, autoscaler: `${name}-server` };
}

/** The labels selecting a TFModel's serving pods (immutable once a Deployment exists). */
export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL_NAME]: SERVER_APP_NAME, [LABEL_INSTANCE]: name };
}

export function selectorString(name: string): string {
  return Object.entries(selectorLabels(name)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** "namespace/name", the work queue's key. */
export function keyOf(object: { metadata?: { namespace?: string; name?: string } }): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * Applies defaults and re-checks what the CRD validates (the operator must not trust that every
 * apiserver ran the CEL rules, e.g. one older than them), returning every problem at once.
 */
export function resolveSpec(tfmodel: TFModel): ResolvedSpec {
  const problems: string[] = [];
  const name = tfmodel.metadata.name ?? '';
  const namespace = tfmodel.metadata.namespace ?? 'default';
  const spec = tfmodel.spec;
  const storage = resolveStorage(spec.basePath, spec.storage, problems);
  const policy = resolvePolicy(spec, problems);
  const labels = new Map<string, number>();
  for (const [label, version] of Object.entries(spec.versionLabels ?? {})) {
    if (version === undefined) continue;
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(label)) problems.push(`label "${label}" is not a valid label name`);
    if (!Number.isSafeInteger(version) || version < 0) problems.push(`label "${label}" points at ${version}, not a version number`);
    if (policy.kind === 'specific' && !policy.versions.includes(version)) {
      problems.push(`label "${label}" points at version ${version}, which versionPolicy.specific does not list`);
    }
    labels.set(label, version);
  }
  const gpu = spec.gpu ? resolveGpu(spec.gpu, problems) : undefined;
  const rollout = spec.rollout ? resolveRollout(spec.rollout, labels, policy, problems) : undefined;
  if (spec.autoscaling && (spec.autoscaling.minReplicas ?? 1) > spec.autoscaling.maxReplicas) problems.push('autoscaling.minReplicas must not exceed autoscaling.maxReplicas');
  if (problems.length > 0) throw new InvalidSpecError(problems);
  const monitoring = spec.monitoring ?? {};
  return {
    name,
    namespace,
    modelName: spec.modelName ?? name,
    storage,
    policy,
    labels,
    replicas: spec.replicas ?? 1,
    ...(gpu ? { gpu } : {}),
    runtime: spec.runtime ?? (gpu ? 'tensorflow' : 'wasm'),
    ...(spec.batching ? { batching: spec.batching } : {}),
    monitoring: {
      enabled: monitoring.enabled ?? true,
      path: monitoring.path ?? DEFAULT_METRICS_PATH,
      serviceMonitor: {
        enabled: monitoring.serviceMonitor?.enabled ?? false,
        ...(monitoring.serviceMonitor?.interval ? { interval: monitoring.serviceMonitor.interval } : {}),
        labels: definedEntries(monitoring.serviceMonitor?.labels),
      },
    },
    serverArgs: spec.serverArgs ?? [],
    ...(rollout ? { rollout } : {}),
    ...(spec.autoscaling
      ? { autoscaling: { minReplicas: spec.autoscaling.minReplicas ?? 1, maxReplicas: spec.autoscaling.maxReplicas, targetCPUUtilizationPercentage: spec.autoscaling.targetCPUUtilizationPercentage ?? 80 } }
      : {}),
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function resolveRollout(rollout: RolloutSpec, labels: ReadonlyMap<string, number>, policy: ResolvedPolicy, problems: string[]): ResolvedRollout {
  const label = rollout.label ?? 'stable';
  if (!labels.has(label)) problems.push(`rollout.label "${label}" is not one of versionLabels`);
  if (policy.kind === 'specific' && !policy.versions.includes(rollout.candidate)) problems.push(`rollout.candidate ${rollout.candidate} is not listed in versionPolicy.specific.versions`);
  const steps = rollout.steps ?? [5, 25, 50, 100];
  if (steps.length === 0 || steps.some((s, i) => !(s >= 0 && s <= 100) || (i > 0 && s <= steps[i - 1]!)) || steps[steps.length - 1] !== 100) {
    problems.push(`rollout.steps ${JSON.stringify(steps)} must increase, each from 0 to 100, and end at 100`);
  }
  const interval = /^(\d+)(ms|s|m|h)$/.exec(rollout.interval ?? '60s');
  if (!interval) problems.push(`rollout.interval "${rollout.interval}" must be a duration like 30s or 5m`);
  const threshold = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(text)) problems.push(`rollout.gates.${name} "${text}" must be a decimal like 0.01`);
    return Number(text);
  };
  const gates = rollout.gates ?? {};
  return {
    plan: {
      label,
      candidate: rollout.candidate,
      shadowPercent: rollout.shadowPercent ?? 0,
      steps,
      intervalMs: interval ? Number(interval[1]) * DURATION_UNITS[interval[2]!]! : 60_000,
      paused: rollout.paused ?? false,
      abort: rollout.abort ?? false,
    },
    gates: {
      maxErrorRate: threshold('maxErrorRate', gates.maxErrorRate),
      maxP99LatencyRatio: threshold('maxP99LatencyRatio', gates.maxP99LatencyRatio),
      maxOutputDivergence: threshold('maxOutputDivergence', gates.maxOutputDivergence),
      minRequests: gates.minRequests ?? 10,
    },
  };
}

function resolveStorage(basePath: string, storage: TFModelSpec['storage'], problems: string[]): ResolvedStorage {
  if (basePath.split('/').includes('..')) problems.push(`basePath "${basePath}" must not contain '..' segments`);
  const object = /^(s3|gs):\/\/([a-z0-9][a-z0-9._-]*[a-z0-9])(\/.*)?$/.exec(basePath);
  const azure = /^az:\/\/([a-z0-9]{3,24})\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])(\/.*)?$/.exec(basePath);
  const archive = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/[^?#]*[.](tar[.]gz|tgz|tar|zip)([?][^#]*)?(#sha256=[0-9a-fA-F]{64})?$/.exec(basePath);
  if (object || azure || archive) {
    const scheme: ObjectScheme = object ? (object[1] as 's3' | 'gs') : azure ? 'az' : 'https';
    if (scheme === 's3' && (object![2]!.length > 63 || object![2]!.includes('_'))) problems.push(`basePath "${basePath}": "${object![2]}" is not an S3 bucket name`);
    if (scheme === 'https' && (storage?.secretName || storage?.endpoint)) problems.push('an https:// archive basePath takes only storage.cacheSizeLimit (no secretName or endpoint)');
    const cacheSizeLimit = String(storage?.cacheSizeLimit ?? DEFAULT_CACHE_SIZE_LIMIT);
    const bytes = quantityBytes(cacheSizeLimit);
    if (bytes === undefined || bytes < 1) problems.push(`storage.cacheSizeLimit "${cacheSizeLimit}" must be a positive quantity like 10Gi`);
    return {
      kind: 'object',
      scheme,
      podPath: scheme === 'https' ? basePath : basePath.replace(/\/+$/, ''),
      ...(storage?.secretName ? { secretName: storage.secretName } : {}),
      ...(storage?.endpoint ? { endpoint: storage.endpoint } : {}),
      cacheSizeLimit,
      cacheMaxBytes: Math.max(1, Math.floor((bytes ?? 0) * CACHE_MAX_BYTES_SHARE)),
    };
  }
  if (storage) problems.push('storage applies only to an s3://, gs://, az:// or https:// basePath');
  const pvc = /^pvc:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\/.*)?$/.exec(basePath);
  if (pvc) {
    const rest = (pvc[3] ?? '').replace(/\/+$/, '');
    return { kind: 'pvc', claimName: pvc[1]!, podPath: `${PVC_MOUNT_PATH}${rest}` };
  }
  if (!basePath.startsWith('/')) {
    problems.push(`basePath "${basePath}" must be an absolute path, pvc://<claim>/<path>, s3://<bucket>/<prefix>, gs://<bucket>/<prefix>, az://<account>/<container>/<prefix> or https://<host>/<path>.tar.gz|.tgz|.tar|.zip`);
  }
  return { kind: 'path', podPath: basePath };
}

const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity (the forms the CRD's pattern admits) in bytes, or undefined. */
export function quantityBytes(text: string): number | undefined {
  const match = /^\+?((?:[0-9]+(?:\.[0-9]*)?)|(?:\.[0-9]+))([KMGTPE]i|[kMGTPE])?$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * QUANTITY_SUFFIX[match[2] ?? '']!;
}

function resolvePolicy(spec: TFModelSpec, problems: string[]): ResolvedPolicy {
  const policy = spec.versionPolicy;
  if (!policy) return { kind: 'latest', numVersions: 1 };
  const chosen = [policy.latest && 'latest', policy.all && 'all', policy.specific && 'specific'].filter(Boolean);
  if (chosen.length !== 1) {
    problems.push('versionPolicy must set exactly one of latest, all, specific');
    return { kind: 'latest', numVersions: 1 };
  }
  if (policy.latest) return { kind: 'latest', numVersions: policy.latest.numVersions ?? 1 };
  if (policy.all) return { kind: 'all' };
  const versions = [...new Set(policy.specific!.versions)].sort((a, b) => a - b);
  if (versions.length === 0) problems.push('versionPolicy.specific.versions is empty');
  return { kind: 'specific', versions };
}

function resolveGpu(gpu: GpuSpec, problems: string[]): ResolvedGpu {
  const fractionValue = Number(gpu.fraction);
  if (!/^\d+(\.\d+)?$/.test(gpu.fraction) || !(fractionValue > 0 && fractionValue <= 1)) {
    problems.push(`gpu.fraction "${gpu.fraction}" must be a decimal in (0, 1]`);
  }
  const sharing = gpu.sharing ?? 'Exclusive';
  if (sharing === 'MIG' && !gpu.resourceName) problems.push('gpu.sharing MIG needs gpu.resourceName, e.g. nvidia.com/mig-1g.10gb');
  const count = gpu.count ?? 1;
  if (count > 1 && !(sharing === 'Exclusive' && fractionValue === 1)) problems.push("gpu.count above 1 needs sharing Exclusive and fraction '1'");
  return {
    fraction: gpu.fraction,
    fractionValue,
    sharing,
    resourceName: gpu.resourceName ?? DEFAULT_GPU_RESOURCE,
    count,
    schedulerName: gpu.schedulerName ?? DEFAULT_KAI_SCHEDULER,
  };
}

function definedEntries(record: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
