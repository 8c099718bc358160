import assert from 'node:assert/strict';
import { parseBatchingParameters } from '../../server/config/batching-config.js';
import { modelConfigListOf, parseModelServerConfig } from '../../server/config/model-config.js';
import { parseMonitoringConfig } from '../../server/config/monitoring-config.js';
import { parseServerFlags } from '../../server/config/flags.js';
import { ANNOTATION_LABELS, ANNOTATION_POD_CONFIG_HASH, type TFModelSpec, resolveSpec } from '../api/tfmodel.js';
import { tfmodel } from '../test-support.js';
import {
  BATCHING_CONFIG_FILE, CONFIG_DIR, MODEL_CONFIG_FILE, MONITORING_CONFIG_FILE, type ServingPlan, desiredConfigMap, desiredDeployment,
  desiredService, desiredServiceMonitor, STARTUP_PROBE_WINDOW_SECONDS,
} from './owned-objects.js';

const RENDER = { serverImage: 'example.com/tfmodel-server:1', serverGpuImage: 'example.com/tfmodel-server-gpu:1' };
const noLabels: ServingPlan = { labels: new Map(), extraVersions: [] };

/** The model.config the ConfigMap carries, parsed by the server's own parser. */
function servedConfig(model = tfmodel(), plan: ServingPlan = noLabels) {
  const text = desiredConfigMap(model, resolveSpec(model), plan).data![MODEL_CONFIG_FILE]!;
  return modelConfigListOf(parseModelServerConfig(text)).config;
}

describe('operator render: model.config', () => {
  it('defaults to the latest version under the base path, named after the TFModel', () => {
    const [config] = servedConfig();
    assert.equal(config!.name, 'iris');
    assert.equal(config!.basePath, '/models/iris');
    assert.equal(config!.modelPlatform, 'tensorflow');
    const policy = config!.modelVersionPolicy?.policyChoice;
    assert.equal(policy?.case, 'latest');
    assert.equal((policy!.value as { numVersions: number }).numVersions, 1);
    assert.deepEqual(config!.versionLabels, {});
  });

  it('renders a specific policy with the extra versions a promotion keeps loaded, and the labels', () => {
    const model = tfmodel({ modelName: 'flowers', versionPolicy: { specific: { versions: [3, 2] } }, versionLabels: { stable: 2, test: 3 } });
    const [config] = servedConfig(model, { labels: new Map([['stable', 1], ['test', 3]]), extraVersions: [1] });
    assert.equal(config!.name, 'flowers');
    const policy = config!.modelVersionPolicy?.policyChoice;
    assert.equal(policy?.case, 'specific');
    assert.deepEqual((policy!.value as { versions: bigint[] }).versions, [1n, 2n, 3n]);
    assert.deepEqual(config!.versionLabels, { stable: 1n, test: 3n });
  });

  it('renders the all policy and a pvc:// base path as the mount path inside the pod', () => {
    const [config] = servedConfig(tfmodel({ basePath: 'pvc://models/iris/', versionPolicy: { all: {} } }));
    assert.equal(config!.basePath, '/mnt/models/iris');
    assert.equal(config!.modelVersionPolicy?.policyChoice.case, 'all');
  });

  it('records the served labels on the ConfigMap for the next reconcile', () => {
    const model = tfmodel({ versionPolicy: { specific: { versions: [1, 2] } }, versionLabels: { stable: 1 } });
    const map = desiredConfigMap(model, resolveSpec(model), { labels: new Map([['stable', 1]]), extraVersions: [] });
    assert.deepEqual(JSON.parse(map.metadata!.annotations![ANNOTATION_LABELS]!), { stable: 1 });
  });

  it('writes batching and monitoring files the server parses', () => {
    const model = tfmodel({ batching: { maxBatchSize: 32, batchTimeoutMicros: 2000, numBatchThreads: 2, allowedBatchSizes: [8, 32] } });
    const data = desiredConfigMap(model, resolveSpec(model), noLabels).data!;
    const batching = parseBatchingParameters(data[BATCHING_CONFIG_FILE]!);
    assert.equal(batching.maxBatchSize, 32n);
    assert.equal(batching.batchTimeoutMicros, 2000n);
    assert.equal(batching.numBatchThreads, 2n);
    assert.deepEqual(batching.allowedBatchSizes, [8n, 32n]);
    const monitoring = parseMonitoringConfig(data[MONITORING_CONFIG_FILE]!);
    assert.equal(monitoring.prometheusConfig?.enable, true);
    assert.equal(monitoring.prometheusConfig?.path, '/monitoring/prometheus/metrics');
    const off = tfmodel({ monitoring: { enabled: false } });
    assert.equal(desiredConfigMap(off, resolveSpec(off), noLabels).data![MONITORING_CONFIG_FILE], undefined);
  });
});

describe('operator render: Deployment', () => {
  it('runs tfmodel-server with flags the server accepts, reading the mounted config directory', () => {
    const model = tfmodel({ batching: { maxBatchSize: 8 }, serverArgs: ['--enable_model_warmup=false'] });
    const deployment = desiredDeployment(model, resolveSpec(model), RENDER);
    const container = deployment.spec!.template.spec!.containers[0]!;
    assert.equal(container.image, RENDER.serverImage);
    const parsed = parseServerFlags(container.args!);
    assert.equal(parsed.kind, 'serve');
    if (parsed.kind !== 'serve') return;
    assert.equal(parsed.flags.port, 8500);
    assert.equal(parsed.flags.restApiPort, 8501);
    assert.equal(parsed.flags.modelConfigFile, `${CONFIG_DIR}/${MODEL_CONFIG_FILE}`);
    // The operator's pushes are the one writer after start: a poll of the late ConfigMap volume
    // would re-apply an older config over a newer push.
    assert.equal(parsed.flags.modelConfigFilePollSeconds, 0);
    assert.equal(parsed.flags.enableBatching, true);
    assert.equal(parsed.flags.batchingParametersFile, `${CONFIG_DIR}/${BATCHING_CONFIG_FILE}`);
    assert.equal(parsed.flags.monitoringConfigFile, `${CONFIG_DIR}/${MONITORING_CONFIG_FILE}`);
    assert.equal(parsed.flags.enableModelWarmup, false);
    const mount = container.volumeMounts!.find((m) => m.mountPath === CONFIG_DIR)!;
    assert.equal(mount.subPath, undefined, 'a subPath mount would never see ConfigMap updates');
    assert.equal(mount.readOnly, true);
    const volume = deployment.spec!.template.spec!.volumes!.find((v) => v.name === mount.name)!;
    assert.equal(volume.configMap?.name, 'iris-server-config');
  });

  it('is locked down: non-root, read-only root filesystem, no privilege escalation, RuntimeDefault seccomp', () => {
    const deployment = desiredDeployment(tfmodel(), resolveSpec(tfmodel()), RENDER);
    const pod = deployment.spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok((pod.securityContext?.runAsUser ?? 0) > 0);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(pod.automountServiceAccountToken, false);
    const sc = pod.containers[0]!.securityContext!;
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities?.drop, ['ALL']);
    assert.ok(pod.containers[0]!.volumeMounts!.some((m) => m.mountPath === '/tmp'), 'a writable /tmp on a read-only root');
  });

  it('probes readiness on /readyz (all models AVAILABLE) and liveness on /healthz', () => {
    const container = desiredDeployment(tfmodel(), resolveSpec(tfmodel()), RENDER).spec!.template.spec!.containers[0]!;
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.readinessProbe?.httpGet?.port, 'http');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
  });

  it('holds the liveness probe off with a startup probe for up to an hour of model loading (the ports open after loading)', () => {
    const container = desiredDeployment(tfmodel(), resolveSpec(tfmodel()), RENDER).spec!.template.spec!.containers[0]!;
    const startup = container.startupProbe!;
    assert.deepEqual(startup.httpGet, { path: '/healthz', port: 'http' });
    assert.equal(startup.periodSeconds! * startup.failureThreshold!, STARTUP_PROBE_WINDOW_SECONDS);
    assert.equal(STARTUP_PROBE_WINDOW_SECONDS, 3600);
    // After start-up, a hung server is restarted within a minute.
    assert.ok(container.livenessProbe!.periodSeconds! * container.livenessProbe!.failureThreshold! <= 60);
  });

  it('owns what it creates, with the TFModel as the controller', () => {
    const model = tfmodel();
    for (const object of [desiredDeployment(model, resolveSpec(model), RENDER), desiredService(model, resolveSpec(model)), desiredConfigMap(model, resolveSpec(model), noLabels)]) {
      const [owner] = object.metadata!.ownerReferences!;
      assert.deepEqual(owner, { apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', name: 'iris', uid: 'uid-iris', controller: true, blockOwnerDeletion: true });
    }
  });

  it('rolls pods when files read at start change, but not when labels or the policy change', () => {
    const hash = (spec: Parameters<typeof tfmodel>[0]) => desiredDeployment(tfmodel(spec), resolveSpec(tfmodel(spec)), RENDER).spec!.template.metadata!.annotations![ANNOTATION_POD_CONFIG_HASH];
    const base = hash({ versionPolicy: { specific: { versions: [1, 2] } }, versionLabels: { stable: 1 } });
    assert.equal(hash({ versionPolicy: { specific: { versions: [2, 3] } }, versionLabels: { stable: 3 } }), base);
    assert.notEqual(hash({ versionPolicy: { specific: { versions: [1, 2] } }, versionLabels: { stable: 1 }, batching: { maxBatchSize: 4 } }), base);
    assert.notEqual(hash({ versionPolicy: { specific: { versions: [1, 2] } }, versionLabels: { stable: 1 }, monitoring: { path: '/metrics' } }), base);
  });

  it('mounts a pvc:// claim read-only and forces user mounts read-only', () => {
    const model = tfmodel({
      basePath: 'pvc://model-store/iris',
      volumes: [{ name: 'extra', emptyDir: {} }],
      volumeMounts: [{ name: 'extra', mountPath: '/extra' }],
    });
    const pod = desiredDeployment(model, resolveSpec(model), RENDER).spec!.template.spec!;
    const claim = pod.volumes!.find((v) => v.persistentVolumeClaim)!;
    assert.deepEqual(claim.persistentVolumeClaim, { claimName: 'model-store', readOnly: true });
    const mounts = pod.containers[0]!.volumeMounts!;
    assert.equal(mounts.find((m) => m.name === claim.name)?.readOnly, true);
    assert.equal(mounts.find((m) => m.name === 'extra')?.readOnly, true);
  });

  it('keeps the serving capacity while rolling (maxUnavailable 0)', () => {
    const deployment = desiredDeployment(tfmodel({ replicas: 3 }), resolveSpec(tfmodel({ replicas: 3 })), RENDER);
    assert.equal(deployment.spec!.replicas, 3);
    assert.equal(deployment.spec!.strategy?.rollingUpdate?.maxUnavailable, 0);
  });
});

describe('operator render: GPU sharing', () => {
  const gpuPod = (gpu: TFModelSpec['gpu']) => {
    const model = tfmodel({ gpu });
    return desiredDeployment(model, resolveSpec(model), RENDER).spec!.template;
  };
  const limits = (gpu: TFModelSpec['gpu']) => gpuPod(gpu).spec!.containers[0]!.resources!.limits;

  it('uses the GPU image, the native runtime, the memory cap and the GPU taint toleration on every backend', () => {
    for (const sharing of ['Exclusive', 'TimeSlicing', 'MPS', 'HAMi', 'KAI'] as const) {
      const template = gpuPod({ fraction: '0.25', sharing });
      const container = template.spec!.containers[0]!;
      assert.equal(container.image, RENDER.serverGpuImage, sharing);
      assert.ok(container.args!.includes('--runtime=tensorflow'), sharing);
      assert.ok(container.args!.includes('--per_process_gpu_memory_fraction=0.25'), sharing);
      assert.ok(template.spec!.tolerations!.some((t) => t.key === 'nvidia.com/gpu' && t.operator === 'Exists'), sharing);
    }
  });

  it('maps each backend to its resources', () => {
    assert.deepEqual(limits({ fraction: '1', sharing: 'Exclusive', count: 2 }), { 'nvidia.com/gpu': '2' });
    assert.deepEqual(limits({ fraction: '0.5', sharing: 'Exclusive' }), { 'nvidia.com/gpu': '1' });
    assert.deepEqual(limits({ fraction: '0.25', sharing: 'TimeSlicing', resourceName: 'nvidia.com/gpu.shared' }), { 'nvidia.com/gpu.shared': '1' });
    assert.deepEqual(limits({ fraction: '0.25', sharing: 'MPS' }), { 'nvidia.com/gpu': '1' });
    assert.deepEqual(limits({ fraction: '0.14', sharing: 'MIG', resourceName: 'nvidia.com/mig-1g.10gb' }), { 'nvidia.com/mig-1g.10gb': '1' });
    assert.deepEqual(limits({ fraction: '0.25', sharing: 'HAMi' }), { 'nvidia.com/gpu': '1', 'nvidia.com/gpumem-percentage': '25', 'nvidia.com/gpucores': '25' });
  });

  it('leaves KAI fractions to the KAI scheduler through its annotation', () => {
    const template = gpuPod({ fraction: '0.5', sharing: 'KAI' });
    assert.equal(template.metadata!.annotations!['gpu-fraction'], '0.5');
    assert.equal(template.spec!.schedulerName, 'kai-scheduler');
    assert.equal(template.spec!.containers[0]!.resources!.limits?.['nvidia.com/gpu'], undefined);
  });

  it('keeps user CPU and memory settings beside the GPU limit', () => {
    const model = tfmodel({ gpu: { fraction: '0.5' }, resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } } });
    const resources = desiredDeployment(model, resolveSpec(model), RENDER).spec!.template.spec!.containers[0]!.resources!;
    assert.deepEqual(resources.requests, { cpu: '2', memory: '4Gi' });
    assert.deepEqual(resources.limits, { memory: '8Gi', 'nvidia.com/gpu': '1' });
  });
});

describe('operator render: Service and ServiceMonitor', () => {
  it('exposes gRPC on 8500 and REST on 8501 for the serving pods', () => {
    const service = desiredService(tfmodel(), resolveSpec(tfmodel()));
    assert.deepEqual(service.spec!.ports!.map((p) => [p.name, p.port]), [['grpc', 8500], ['http', 8501]]);
    assert.deepEqual(service.spec!.selector, { 'app.kubernetes.io/name': 'tfmodel-server', 'app.kubernetes.io/instance': 'iris' });
  });

  it('points a ServiceMonitor at the metrics path, with the labels a Prometheus selects by', () => {
    const model = tfmodel({ monitoring: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } } } });
    const monitor = desiredServiceMonitor(model, resolveSpec(model));
    assert.equal(monitor.metadata!.labels!['release'], 'prom');
    assert.deepEqual(monitor.spec.endpoints, [{ port: 'http', path: '/monitoring/prometheus/metrics', scheme: 'http', interval: '15s' }]);
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['ml'] });
  });
});
