/**
 * The desired ConfigMap, Deployment, Service and ServiceMonitor of a TFModel: pure functions of the
 * resolved spec and the serving plan (which labels to serve, which extra versions to keep loaded).
 */
import type { V1ConfigMap, V1Container, V1EnvVar, V1Deployment, V1PodSpec, V1Service, V1Volume, V1VolumeMount, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import {
  ANNOTATION_LABELS, ANNOTATION_POD_CONFIG_HASH, API_VERSION, GRPC_PORT, KIND, MODEL_CACHE_PATH, REST_PORT, type ResolvedSpec, type TFModel, ownedNames, selectorLabels,
} from '../api/tfmodel.js';
import { adminTokenPodSettings } from './admin-token.js';
import { gpuPodSettings } from './gpu.js';
import { contentHash, ownedLabels, ownedMetadata } from './metadata.js';
import { batchingConfigText, modelConfigText, modelServerConfig, monitoringConfigText } from './server-config.js';

/** What promotion planning decided the pods should serve now. */
export interface ServingPlan {
  readonly labels: ReadonlyMap<string, number>;
  readonly extraVersions: readonly number[];
}

export interface RenderOptions {
  readonly serverImage: string;
  readonly serverGpuImage: string;
}

/** A minimal typed ServiceMonitor (monitoring.coreos.com/v1); its CRD is optional in a cluster. */
export interface ServiceMonitor {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'ServiceMonitor';
  metadata: V1ConfigMap['metadata'];
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: Array<{ port: string; path: string; interval?: string; scheme: 'http' }>;
  };
}

export const CONFIG_DIR = '/etc/tfmodel/config';
export const MODEL_CONFIG_FILE = 'model.config';
export const BATCHING_CONFIG_FILE = 'batching.config';
export const MONITORING_CONFIG_FILE = 'monitoring.config';
const SERVER_UID = 1000;
/** How long a serving pod may take to load its models before the kubelet restarts it. */
export const STARTUP_PROBE_WINDOW_SECONDS = 3600;
const STARTUP_PROBE_PERIOD_SECONDS = 5;

export function servedModel(spec: ResolvedSpec, plan: ServingPlan) {
  return modelServerConfig({ modelName: spec.modelName, basePath: spec.storage.podPath, policy: spec.policy, extraVersions: plan.extraVersions, labels: plan.labels });
}

export function desiredConfigMap(tfmodel: TFModel, spec: ResolvedSpec, plan: ServingPlan): V1ConfigMap {
  const data: Record<string, string> = { [MODEL_CONFIG_FILE]: modelConfigText(servedModel(spec, plan)) };
  Object.assign(data, startupConfigFiles(spec));
  const labels = Object.fromEntries([...plan.labels].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ownedMetadata(tfmodel, ownedNames(spec.name).configMap, 'config', { [ANNOTATION_LABELS]: JSON.stringify(labels) }),
    data,
  };
}

/** The files the server reads only when it starts; a change to them must roll the pods. */
function startupConfigFiles(spec: ResolvedSpec): Record<string, string> {
  const files: Record<string, string> = {};
  if (spec.monitoring.enabled) files[MONITORING_CONFIG_FILE] = monitoringConfigText(spec.monitoring);
  if (spec.batching) files[BATCHING_CONFIG_FILE] = batchingConfigText(spec.batching);
  return files;
}

/** `adminTokenSecret`: the TFModel's token Secret (admin-token.ts); the server then requires the token for model management. */
export function serverArgs(spec: ResolvedSpec, adminTokenSecret?: string): string[] {
  const args = [
    `--port=${GRPC_PORT}`,
    `--rest_api_port=${REST_PORT}`,
    `--model_config_file=${CONFIG_DIR}/${MODEL_CONFIG_FILE}`,
    // No --model_config_file_poll_wait_seconds: the operator pushes every config change, and a
    // poll of the (late-updating) ConfigMap volume would re-apply older configs over newer pushes.
    `--runtime=${spec.runtime}`,
  ];
  if (spec.monitoring.enabled) args.push(`--monitoring_config_file=${CONFIG_DIR}/${MONITORING_CONFIG_FILE}`);
  if (spec.batching) args.push('--enable_batching=true', `--batching_parameters_file=${CONFIG_DIR}/${BATCHING_CONFIG_FILE}`);
  if (spec.gpu) args.push(...gpuPodSettings(spec.gpu).serverArgs);
  if (spec.storage.kind === 'object') args.push(`--model_cache_dir=${MODEL_CACHE_PATH}`, `--model_cache_max_bytes=${spec.storage.cacheMaxBytes}`);
  if (adminTokenSecret) args.push(adminTokenPodSettings(adminTokenSecret).serverArg);
  args.push(...spec.serverArgs);
  return args;
}

/**
 * `adminTokenSecret`: the name of the TFModel's admin token Secret (admin-token.ts), mounted
 * read-only and passed as --admin_token_file; absent: model management stays open, as TF Serving.
 */
export function desiredDeployment(tfmodel: TFModel, spec: ResolvedSpec, options: RenderOptions, adminTokenSecret?: string): V1Deployment {
  const names = ownedNames(spec.name);
  const gpu = spec.gpu ? gpuPodSettings(spec.gpu) : undefined;
  const podAnnotations: Record<string, string> = { [ANNOTATION_POD_CONFIG_HASH]: contentHash(startupConfigFiles(spec)), ...gpu?.podAnnotations };
  if (spec.monitoring.enabled) {
    Object.assign(podAnnotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(REST_PORT), 'prometheus.io/path': spec.monitoring.path });
  }
  const { volumes, mounts } = podVolumes(tfmodel, spec, adminTokenSecret);
  const container: V1Container = {
    name: 'tfmodel-server',
    image: tfmodel.spec.image ?? (spec.gpu ? options.serverGpuImage : options.serverImage),
    args: serverArgs(spec, adminTokenSecret),
    ...(spec.storage.kind === 'object' ? { env: objectStoreEnv(spec.storage) } : {}),
    ports: [
      { name: 'grpc', containerPort: GRPC_PORT, protocol: 'TCP' },
      { name: 'http', containerPort: REST_PORT, protocol: 'TCP' },
    ],
    // Like tensorflow_model_server, tfmodel-server opens its ports only once the initial model
    // versions have loaded, which for a large model takes minutes. The startup probe holds the
    // liveness probe off for up to STARTUP_PROBE_WINDOW_SECONDS (an hour), so a loading pod is
    // never killed; after it succeeds the liveness probe restarts a hung server within a minute.
    startupProbe: {
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      failureThreshold: STARTUP_PROBE_WINDOW_SECONDS / STARTUP_PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
    },
    // /readyz answers 200 only once every configured model has an AVAILABLE version, so no traffic
    // reaches a pod that is still loading; /healthz answers as soon as the server listens.
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 5 },
    // Keeps serving while endpoints drop the pod, before SIGTERM starts the graceful shutdown.
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
    resources: containerResources(tfmodel, gpu?.limits ?? {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: mounts,
  };
  const podSpec: V1PodSpec = {
    containers: [container],
    volumes,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 35,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: SERVER_UID,
      runAsGroup: SERVER_UID,
      fsGroup: SERVER_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(tfmodel.spec.serviceAccountName ? { serviceAccountName: tfmodel.spec.serviceAccountName } : {}),
    ...(tfmodel.spec.nodeSelector ? { nodeSelector: definedStrings(tfmodel.spec.nodeSelector) } : {}),
    ...(tfmodel.spec.affinity ? { affinity: tfmodel.spec.affinity } : {}),
    ...(gpu?.schedulerName ? { schedulerName: gpu.schedulerName } : {}),
  };
  const tolerations = [...(gpu?.tolerations ?? []), ...(tfmodel.spec.tolerations ?? [])];
  if (tolerations.length > 0) podSpec.tolerations = tolerations;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: ownedMetadata(tfmodel, names.deployment, 'server'),
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(spec.name) },
      // Never below the desired serving capacity while pods roll.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...ownedLabels(spec.name, 'server') }, annotations: podAnnotations },
        spec: podSpec,
      },
    },
  };
}

function podVolumes(tfmodel: TFModel, spec: ResolvedSpec, adminTokenSecret: string | undefined): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const names = ownedNames(spec.name);
  // A directory mount (never subPath): the kubelet updates it in place when the ConfigMap changes.
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: names.configMap, defaultMode: 0o444 } },
    { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (spec.storage.kind === 'pvc') {
    volumes.push({ name: 'models', persistentVolumeClaim: { claimName: spec.storage.claimName, readOnly: true } });
    mounts.push({ name: 'models', mountPath: '/mnt/models', readOnly: true });
  }
  if (spec.storage.kind === 'object') {
    // The download cache: writable, bounded by the kubelet (the root filesystem stays read-only).
    volumes.push({ name: 'model-cache', emptyDir: { sizeLimit: spec.storage.cacheSizeLimit } });
    mounts.push({ name: 'model-cache', mountPath: MODEL_CACHE_PATH });
    if (spec.storage.scheme === 'gs' && spec.storage.secretName) {
      volumes.push({
        name: 'storage-credentials',
        secret: { secretName: spec.storage.secretName, items: [{ key: GCS_KEY_FILE, path: GCS_KEY_FILE }], defaultMode: 0o440, optional: true },
      });
      mounts.push({ name: 'storage-credentials', mountPath: STORAGE_CREDENTIALS_DIR, readOnly: true });
    }
  }
  if (adminTokenSecret) {
    const admin = adminTokenPodSettings(adminTokenSecret);
    volumes.push(admin.volume);
    mounts.push(admin.mount);
  }
  for (const volume of tfmodel.spec.volumes ?? []) volumes.push(volume);
  for (const mount of tfmodel.spec.volumeMounts ?? []) mounts.push({ ...mount, readOnly: true });
  return { volumes, mounts };
}

/** The Secret keys that become the server's environment for an s3:// or gs:// basePath (TF Serving's names). */
export const STORAGE_SECRET_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'S3_ENDPOINT', 'S3_USE_HTTPS', 'S3_VERIFY_SSL', 'STORAGE_EMULATOR_HOST'] as const;
/** The Secret keys that become the server's environment for an az:// basePath (the Azure CLI's names). */
export const AZURE_SECRET_KEYS = ['AZURE_STORAGE_CONNECTION_STRING', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_SAS_TOKEN', 'AZURE_STORAGE_BLOB_ENDPOINT'] as const;
const ENDPOINT_VARIABLE = { s3: 'S3_ENDPOINT', gs: 'STORAGE_EMULATOR_HOST', az: 'AZURE_STORAGE_BLOB_ENDPOINT' } as const;
/** For gs://: the Secret key holding a service-account JSON key, mounted as a file. */
export const GCS_KEY_FILE = 'GOOGLE_APPLICATION_CREDENTIALS';
export const STORAGE_CREDENTIALS_DIR = '/var/run/secrets/tfmodel.dev/storage';

/**
 * The server container's environment for an s3://, gs:// or az:// basePath: every credential as a
 * secretKeyRef (optional, so a Secret with only some keys works), never a value; only the
 * endpoint from the spec, which is not a secret, is a literal. An https:// archive gets none.
 */
export function objectStoreEnv(storage: Extract<ResolvedSpec['storage'], { kind: 'object' }>): V1EnvVar[] {
  const env: V1EnvVar[] = [];
  if (storage.scheme === 'https') return env;
  const endpointVar = ENDPOINT_VARIABLE[storage.scheme];
  if (storage.secretName) {
    for (const key of storage.scheme === 'az' ? AZURE_SECRET_KEYS : STORAGE_SECRET_KEYS) {
      if (storage.endpoint && key === endpointVar) continue;
      env.push({ name: key, valueFrom: { secretKeyRef: { name: storage.secretName, key, optional: true } } });
    }
    if (storage.scheme === 'gs') env.push({ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: `${STORAGE_CREDENTIALS_DIR}/${GCS_KEY_FILE}` });
  }
  if (storage.endpoint) env.push({ name: endpointVar, value: storage.endpoint });
  return env;
}

const DEFAULT_REQUESTS = { cpu: '500m', memory: '512Mi' };

function containerResources(tfmodel: TFModel, gpuLimits: Readonly<Record<string, string>>): V1Container['resources'] {
  const given = tfmodel.spec.resources;
  const requests = given ? quantities(given.requests) : { ...DEFAULT_REQUESTS };
  const limits = { ...quantities(given?.limits), ...gpuLimits };
  return {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

function quantities(record: Record<string, number | string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
}

function definedStrings(record: Record<string, string | undefined>): Record<string, string> {
  return quantities(record);
}

export function desiredService(tfmodel: TFModel, spec: ResolvedSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMetadata(tfmodel, ownedNames(spec.name).service, 'server'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(spec.name),
      ports: [
        { name: 'grpc', port: GRPC_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'http', port: REST_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
      ],
    },
  };
}

export function desiredServiceMonitor(tfmodel: TFModel, spec: ResolvedSpec): ServiceMonitor {
  const monitor = spec.monitoring.serviceMonitor;
  const metadata = ownedMetadata(tfmodel, ownedNames(spec.name).serviceMonitor, 'metrics');
  metadata.labels = { ...metadata.labels, ...monitor.labels };
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata,
    spec: {
      selector: { matchLabels: { ...selectorLabels(spec.name), 'app.kubernetes.io/component': 'server' } },
      namespaceSelector: { matchNames: [spec.namespace] },
      endpoints: [{ port: 'http', path: spec.monitoring.path, scheme: 'http', ...(monitor.interval ? { interval: monitor.interval } : {}) }],
    },
  };
}

/**
 * spec.autoscaling: an autoscaling/v2 HPA whose target is the TFModel itself (its scale
 * subresource), so the HPA moves spec.replicas and the Deployment follows the TFModel as usual.
 */
export function desiredHorizontalPodAutoscaler(tfmodel: TFModel, spec: ResolvedSpec): V2HorizontalPodAutoscaler {
  const autoscaling = spec.autoscaling ?? { minReplicas: 1, maxReplicas: 1, targetCPUUtilizationPercentage: 80 };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: ownedMetadata(tfmodel, ownedNames(spec.name).autoscaler, 'autoscaler'),
    spec: {
      scaleTargetRef: { apiVersion: API_VERSION, kind: KIND, name: spec.name },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage } } }],
    },
  };
}
