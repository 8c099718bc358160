import assert from 'node:assert/strict';
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ModelServerConfig } from '../gen/tensorflow_serving/config/model_server_config_pb.js';
import { memoryLogger } from '../server/logging.js';
import { ANNOTATION_LABELS, type TFModel, type TFModelStatus } from './api/tfmodel.js';
import type { ClusterWriter, EventType } from './kube/cluster-writer.js';
import type { PodReport } from './promotion/pod-report.js';
import { type ClusterReader, type ReconcilerOptions, TFModelReconciler } from './reconciler.js';
import { adminCredentials } from './render/admin-token.js';
import type { PodAddress } from './serving-client/pod-address.js';
import type { ServingClient } from './serving-client/serving-client.js';
import { pod, servingReport, tfmodel } from './test-support.js';
import { Code } from '../server/errors.js';
import { ServingMetrics } from '../server/metrics/index.js';

/** An in-memory cluster: applies land in the reader's view, like an informer cache that caught up. */
class FakeCluster implements ClusterReader, ClusterWriter {
  readonly objects = new Map<string, KubernetesObject>();
  readonly applied: KubernetesObject[] = [];
  readonly statuses: TFModelStatus[] = [];
  readonly events: Array<{ type: EventType; reason: string; message: string }> = [];
  readonly deleted: string[] = [];
  podList: V1Pod[] = [];
  failApplyWith?: Error;

  put(object: KubernetesObject): void {
    this.objects.set(`${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`, object);
  }
  private get<T>(kind: string, namespace: string, name: string): T | undefined {
    return this.objects.get(`${kind}/${namespace}/${name}`) as T | undefined;
  }
  tfmodel(namespace: string, name: string) { return this.get<TFModel>('TFModel', namespace, name); }
  configMap(namespace: string, name: string) { return this.get<V1ConfigMap>('ConfigMap', namespace, name); }
  deployment(namespace: string, name: string) { return this.get<V1Deployment>('Deployment', namespace, name); }
  service(namespace: string, name: string) { return this.get<V1Service>('Service', namespace, name); }
  pods(): V1Pod[] { return this.podList; }

  async apply<T extends KubernetesObject>(object: T): Promise<T> {
    if (this.failApplyWith) throw this.failApplyWith;
    this.applied.push(object);
    this.put(object);
    return object;
  }
  async writeStatus(model: TFModel, status: TFModelStatus): Promise<void> {
    this.statuses.push(status);
    this.put({ ...model, status } as KubernetesObject);
  }
  readonly created: KubernetesObject[] = [];
  async create(object: KubernetesObject): Promise<'created' | 'exists'> {
    if (this.objects.has(`${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`)) return 'exists';
    this.created.push(object);
    this.put(object);
    return 'created';
  }
  async deleteObject(object: KubernetesObject): Promise<void> {
    this.deleted.push(`${object.kind}/${object.metadata?.name}`);
    this.objects.delete(`${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`);
  }
  async read<T extends KubernetesObject>(header: KubernetesObject): Promise<T | undefined> {
    return this.get<T>(header.kind!, header.metadata!.namespace!, header.metadata!.name!);
  }
  async event(_model: TFModel, type: EventType, reason: string, message: string): Promise<void> {
    this.events.push({ type, reason, message });
  }
  get status(): TFModelStatus | undefined {
    return this.tfmodel('ml', 'iris')?.status;
  }
}

/** Pods' servers: each answers with a scripted report and records pushed configs. */
class FakeServers implements ServingClient {
  readonly reports = new Map<string, PodReport>();
  readonly pushes: Array<{ pod: string; labels: Record<string, bigint> }> = [];
  failPush = false;
  /** The pods' --admin_token_file: a push without it is refused as the server does. */
  requiredToken?: string;
  readonly tokens: Array<string | undefined> = [];

  /** Per pod: its metrics text; the routing each pod serves (set by pushRouting, reported back). */
  readonly metricsText = new Map<string, string>();
  readonly routing = new Map<string, unknown>();
  readonly routingPushes: Array<{ pod: string; body: unknown }> = [];

  async report(_address: PodAddress, podName: string): Promise<PodReport> {
    const report = this.reports.get(podName) ?? { pod: podName, kind: 'unreachable', error: 'ECONNREFUSED' };
    const routing = this.routing.get(podName);
    return report.kind === 'serving' && routing !== undefined ? { ...report, routing } : report;
  }
  async pushConfig(address: PodAddress, config: ModelServerConfig, adminToken?: string): Promise<void> {
    if (this.failPush) throw new Error('UNAVAILABLE: connection refused');
    this.tokens.push(adminToken);
    if (this.requiredToken !== undefined && adminToken !== this.requiredToken) {
      throw new Error(adminToken === undefined ? 'UNAUTHENTICATED: requires the admin token' : 'PERMISSION_DENIED: the admin token sent is not the server\'s');
    }
    const list = config.config.case === 'modelConfigList' ? config.config.value.config : [];
    this.pushes.push({ pod: address.host, labels: { ...list[0]!.versionLabels } });
  }
  async metrics(address: PodAddress): Promise<string> {
    return this.metricsText.get(address.host) ?? '';
  }
  readonly routingTokens: Array<string | undefined> = [];
  async pushRouting(address: PodAddress, body: unknown, adminToken?: string): Promise<void> {
    this.routingPushes.push({ pod: address.host, body });
    this.routingTokens.push(adminToken);
    const models = (body as { models?: Record<string, unknown> }).models ?? {};
    if (models['iris'] === undefined) this.routing.delete(address.host);
    else this.routing.set(address.host, models['iris']);
  }
  close(): void {}
}

const RENDER = { serverImage: 'server:1', serverGpuImage: 'server-gpu:1' };

function setup(
  model: TFModel, reader?: (cluster: FakeCluster) => ClusterReader, now: () => Date = () => new Date('2026-11-23T12:00:00Z'), extra: Partial<ReconcilerOptions> = {},
) {
  const cluster = new FakeCluster();
  const servers = new FakeServers();
  const log = memoryLogger();
  cluster.put(model);
  const reconciler = new TFModelReconciler({
    ...extra,
    reader: reader ? reader(cluster) : cluster,
    writer: cluster,
    serving: servers,
    addresses: { resolve: (p) => ({ host: p.metadata!.name!, restPort: 8501, grpcPort: 8500 }) },
    render: RENDER,
    log,
    now,
  });
  return { cluster, servers, reconciler, log };
}

/** Makes the Deployment report ready pods, as the deployment controller would. */
function runPods(cluster: FakeCluster, names: string[]): void {
  const deployment = cluster.deployment('ml', 'iris-server')!;
  cluster.put({ ...deployment, status: { replicas: names.length, readyReplicas: names.length } } as V1Deployment);
  cluster.podList = names.map((name) => pod(name));
}

describe('operator reconciler', () => {
  it('creates the ConfigMap, Deployment and Service, and reports the model as not ready yet', async () => {
    const { cluster, reconciler } = setup(tfmodel({ versionLabels: { stable: 1 }, versionPolicy: { specific: { versions: [1] } } }));
    const result = await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.applied.map((o) => `${o.kind}/${o.metadata?.name}`), ['ConfigMap/iris-server-config', 'Deployment/iris-server', 'Service/iris-server']);
    const status = cluster.status!;
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.modelName, 'iris');
    assert.equal(status.conditions!.find((c) => c.type === 'ConfigApplied')!.status, 'True');
    const ready = status.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'ReplicasNotReady');
    assert.equal(status.labels![0]!.reason, 'NoReadyReplicas');
    assert.equal(status.selector, 'app.kubernetes.io/name=tfmodel-server,app.kubernetes.io/instance=iris');
    assert.deepEqual(status.endpoints, {
      rest: 'http://iris-server.ml.svc:8501/v1/models/iris',
      grpc: 'iris-server.ml.svc:8500',
      v2Rest: 'http://iris-server.ml.svc:8501/v2/models/iris',
      v2Grpc: 'iris-server.ml.svc:8500',
    });
    assert.ok(result.requeueAfterMs! <= 1000, 'keeps watching the pods while they start');
  });

  it('serves a label once the pods report its version, pushing the config to each pod', async () => {
    const { cluster, servers, reconciler } = setup(tfmodel({ versionLabels: { stable: 1 }, versionPolicy: { specific: { versions: [1] } } }));
    await reconciler.reconcile('ml/iris');
    runPods(cluster, ['pod-a', 'pod-b']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }));
    servers.reports.set('pod-b', servingReport('pod-b', { 1: 'AVAILABLE' }));
    const pushedResult = await reconciler.reconcile('ml/iris');
    assert.deepEqual(servers.pushes, [{ pod: 'pod-a', labels: { stable: 1n } }, { pod: 'pod-b', labels: { stable: 1n } }]);
    // The status written with the push says what the pods took (not the reports read before it),
    // and the reconciler looks again soon to read the pods' own word.
    assert.deepEqual(cluster.status!.servedLabels, { stable: 1 });
    assert.ok(pushedResult.requeueAfterMs! <= 1000, 'requeued soon after a push');
    assert.deepEqual(JSON.parse(cluster.configMap('ml', 'iris-server-config')!.metadata!.annotations![ANNOTATION_LABELS]!), { stable: 1 });
    assert.deepEqual(cluster.events.filter((e) => e.reason === 'LabelMoved').map((e) => e.message), ['label stable now serves version 1']);

    // The pods now serve it: the status says so and nothing is re-applied or re-pushed.
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }, { stable: 1 }));
    servers.reports.set('pod-b', servingReport('pod-b', { 1: 'AVAILABLE' }, { stable: 1 }));
    const applies = cluster.applied.length;
    const result = await reconciler.reconcile('ml/iris');
    assert.equal(cluster.applied.length, applies, 'unchanged objects are not applied again');
    assert.equal(servers.pushes.length, 2);
    assert.deepEqual(cluster.status!.servedLabels, { stable: 1 });
    assert.equal(cluster.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
    assert.deepEqual(cluster.status!.versions, [{ version: 1, state: 'AVAILABLE', readyReplicas: 2 }]);
    assert.ok(result.requeueAfterMs! >= 10_000, 'settled: only the periodic check');
    assert.equal(cluster.events.filter((e) => e.reason === 'LabelMoved').length, 1);
  });

  it('re-pushes to a pod whose served labels drifted from the config', async () => {
    const { cluster, servers, reconciler } = setup(tfmodel({ versionLabels: { stable: 1 }, versionPolicy: { specific: { versions: [1, 2] } } }));
    await reconciler.reconcile('ml/iris');
    runPods(cluster, ['pod-a']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE', 2: 'AVAILABLE' }));
    await reconciler.reconcile('ml/iris');
    assert.equal(servers.pushes.length, 1);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE', 2: 'AVAILABLE' }, { stable: 2 }));
    await reconciler.reconcile('ml/iris');
    assert.equal(servers.pushes.length, 2);
    assert.deepEqual(servers.pushes[1], { pod: 'pod-a', labels: { stable: 1n } });
  });

  it('retries soon when a push fails', async () => {
    const { cluster, servers, reconciler } = setup(tfmodel({ versionLabels: { stable: 1 }, versionPolicy: { specific: { versions: [1] } } }));
    await reconciler.reconcile('ml/iris');
    runPods(cluster, ['pod-a']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }));
    servers.failPush = true;
    assert.ok((await reconciler.reconcile('ml/iris')).requeueAfterMs! <= 1000);
    const unpushed = cluster.status!.labels!.find((l) => l.label === 'stable')!;
    assert.equal(unpushed.state, 'Promoting', 'a label the pod was not told about is not Served');
    assert.equal(unpushed.reason, 'ConfigNotPushed');
    assert.match(unpushed.message!, /pod-a/);
    servers.failPush = false;
    await reconciler.reconcile('ml/iris');
    assert.equal(servers.pushes.length, 1);
    assert.equal(cluster.status!.labels!.find((l) => l.label === 'stable')!.state, 'Served');
  });

  it('refuses to take over an object with the same name that it does not own', async () => {
    const model = tfmodel();
    const { cluster, reconciler } = setup(model);
    cluster.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'iris-server', namespace: 'ml' } });
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.applied, []);
    const applied = cluster.status!.conditions!.find((c) => c.type === 'ConfigApplied')!;
    assert.equal(applied.status, 'False');
    assert.equal(applied.reason, 'NameConflict');
    assert.match(applied.message, /Service iris-server exists and is not owned/);
    assert.ok(cluster.events.some((e) => e.type === 'Warning' && e.reason === 'NameConflict'));
  });

  it('asks the apiserver before creating what the label-filtered cache does not show', async () => {
    const model = tfmodel();
    const { cluster, reconciler } = setup(model);
    const foreign = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'iris-server-config', namespace: 'ml' } };
    const cache = cluster.configMap.bind(cluster);
    cluster.configMap = (namespace, name) => (name === 'iris-server-config' ? undefined : cache(namespace, name));
    cluster.put(foreign);
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.applied, []);
    assert.equal(cluster.status!.conditions!.find((c) => c.type === 'ConfigApplied')!.reason, 'NameConflict');
  });

  it('does not read, apply or write status again while the cache lags its own writes', async () => {
    const model = tfmodel();
    // A cache that has seen none of our writes: no owned objects, the TFModel without status.
    const { cluster, reconciler } = setup(model, () => ({ tfmodel: () => model, configMap: () => undefined, deployment: () => undefined, service: () => undefined, pods: () => [] }));
    let reads = 0;
    const read = cluster.read.bind(cluster);
    cluster.read = async <T extends KubernetesObject>(header: KubernetesObject) => {
      reads++;
      return read<T>(header);
    };
    await reconciler.reconcile('ml/iris');
    const after = { reads, applied: cluster.applied.length, statuses: cluster.statuses.length, events: cluster.events.length };
    assert.equal(after.reads, 3, 'one uncached read per owned object, before creating it');
    await reconciler.reconcile('ml/iris');
    assert.deepEqual({ reads, applied: cluster.applied.length, statuses: cluster.statuses.length, events: cluster.events.length }, after);
  });

  it('reports an invalid spec without touching the cluster', async () => {
    const { cluster, reconciler } = setup(tfmodel({ basePath: 'relative/path', versionPolicy: { specific: { versions: [1] } }, versionLabels: { stable: 2 } }));
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.applied, []);
    const applied = cluster.status!.conditions!.find((c) => c.type === 'ConfigApplied')!;
    assert.equal(applied.reason, 'InvalidSpec');
    assert.match(applied.message, /absolute path/);
    assert.match(applied.message, /label "stable" points at version 2/);
  });

  it('reports an apply the apiserver refuses, and backs off on server errors', async () => {
    const { cluster, reconciler } = setup(tfmodel());
    cluster.failApplyWith = Object.assign(new Error('forbidden'), { code: 403, body: '{"message":"deployments.apps is forbidden"}' });
    await reconciler.reconcile('ml/iris');
    const applied = cluster.status!.conditions!.find((c) => c.type === 'ConfigApplied')!;
    assert.equal(applied.reason, 'ApplyFailed');
    assert.match(applied.message, /HTTP 403: deployments.apps is forbidden/);
    cluster.failApplyWith = Object.assign(new Error('etcd timeout'), { code: 500 });
    await assert.rejects(reconciler.reconcile('ml/iris'), /etcd timeout/);
  });

  it('deletes a ServiceMonitor it created once disabled, and never one it did not create', async () => {
    const model = tfmodel({ monitoring: { serviceMonitor: { enabled: true } } });
    const { cluster, reconciler } = setup(model);
    await reconciler.reconcile('ml/iris');
    assert.ok(cluster.applied.some((o) => o.kind === 'ServiceMonitor'));
    cluster.put({ ...model, spec: { ...model.spec, monitoring: { serviceMonitor: { enabled: false } } } } as KubernetesObject);
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.deleted, ['ServiceMonitor/iris-server']);

    const other = setup(tfmodel());
    other.cluster.put({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'iris-server', namespace: 'ml' } });
    await other.reconciler.reconcile('ml/iris');
    assert.deepEqual(other.cluster.deleted, []);
  });

  it('renders spec.autoscaling as an autoscaling/v2 HPA on the TFModel\'s scale subresource, and deletes it once removed', async () => {
    const model = tfmodel({ autoscaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 } });
    const { cluster, reconciler } = setup(model);
    await reconciler.reconcile('ml/iris');
    const hpa = cluster.applied.find((o) => o.kind === 'HorizontalPodAutoscaler') as KubernetesObject & { spec: Record<string, unknown> };
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.equal(hpa.metadata!.name, 'iris-server');
    assert.equal(hpa.metadata!.ownerReferences![0]!.uid, 'uid-iris');
    assert.deepEqual(hpa.spec, {
      scaleTargetRef: { apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', name: 'iris' },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    });
    const applies = cluster.applied.length;
    await reconciler.reconcile('ml/iris');
    assert.equal(cluster.applied.length, applies, 'an unchanged HPA is not applied again');
    cluster.put({ ...model, spec: { ...model.spec, autoscaling: undefined } } as KubernetesObject);
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.deleted, ['HorizontalPodAutoscaler/iris-server']);

    const other = setup(tfmodel());
    other.cluster.put({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'iris-server', namespace: 'ml' } });
    await other.reconciler.reconcile('ml/iris');
    await other.reconciler.reconcile('ml/iris');
    assert.deepEqual(other.cluster.deleted, [], 'never an HPA it did not create');
  });

  it('ignores a TFModel that is gone or being deleted', async () => {
    const { cluster, reconciler } = setup(tfmodel({}, { deletionTimestamp: new Date() }));
    assert.deepEqual(await reconciler.reconcile('ml/iris'), {});
    assert.deepEqual(await reconciler.reconcile('ml/missing'), {});
    assert.deepEqual(cluster.applied, []);
  });
});

describe('operator reconciler: spec.rollout', () => {
  const ROLLOUT_SPEC = {
    versionLabels: { stable: 1 },
    versionPolicy: { specific: { versions: [1, 2] } },
    rollout: { candidate: 2, shadowPercent: 50, steps: [20, 100], interval: '10s', gates: { maxErrorRate: '0.1', maxOutputDivergence: '0.01', minRequests: 5 } },
  };

  /** The pods' metrics endpoint, from tfmodel-server's own metrics code. */
  async function serve(servers: FakeServers, pods: string[], traffic: { canaryErrors?: number; divergence?: number }, metrics: Map<string, ServingMetrics>): Promise<void> {
    for (const name of pods) {
      const m = metrics.get(name) ?? new ServingMetrics({ processMetrics: false });
      metrics.set(name, m);
      for (let i = 0; i < 20; i++) {
        const status = i < (traffic.canaryErrors ?? 0) ? Code.INTERNAL : Code.OK;
        m.request({ model: 'iris', api: 'predict', entrypoint: 'REST', status, latencyMicros: 2000, label: 'stable', signature: 'serving_default', version: 2n });
        m.request({ model: 'iris', api: 'predict', entrypoint: 'REST', status: Code.OK, latencyMicros: 2000, label: 'stable', signature: 'serving_default', version: 1n });
        m.shadow({ model: 'iris', primary: 1n, shadow: 2n, outcome: 'run', primaryFailed: false, shadowFailed: false, comparisons: [{ output: 'y', maxAbsDiff: traffic.divergence ?? 0, maxRelDiff: 0 }] });
      }
      servers.metricsText.set(name, (await m.render()).body);
    }
  }

  function rolloutSetup() {
    let clock = new Date('2026-11-23T12:00:00Z').getTime();
    const env = setup(tfmodel(ROLLOUT_SPEC), undefined, () => new Date(clock));
    const tick = (seconds: number): void => void (clock += seconds * 1000);
    return { ...env, tick };
  }

  async function servingPods(env: ReturnType<typeof rolloutSetup>, stable: number): Promise<void> {
    runPods(env.cluster, ['pod-a', 'pod-b']);
    for (const name of ['pod-a', 'pod-b']) env.servers.reports.set(name, servingReport(name, { 1: 'AVAILABLE', 2: 'AVAILABLE' }, { stable }));
  }

  /** The first reconciles: objects created, then the label committed (no rollout before it serves). */
  async function started(env: ReturnType<typeof rolloutSetup>): Promise<void> {
    await env.reconciler.reconcile('ml/iris');
    await servingPods(env, 1);
    await env.reconciler.reconcile('ml/iris');
    assert.equal(env.cluster.status!.rollout, undefined, 'nothing to compare with before the label serves');
  }

  it('walks a good candidate through its steps, moves the label with the safe move and clears the canary', async () => {
    const env = rolloutSetup();
    const metrics = new Map<string, ServingMetrics>();
    await started(env);
    await serve(env.servers, ['pod-a', 'pod-b'], {}, metrics);
    await env.reconciler.reconcile('ml/iris');
    assert.deepEqual(env.cluster.status!.rollout, { candidate: 2, label: 'stable', state: 'Progressing', step: 0, weight: 20, stepStartedAt: '2026-11-23T12:00:00.000Z' });
    assert.deepEqual(env.servers.routing.get('pod-a'), {
      request_key: 'x-request-id',
      labels: { stable: { canaries: [{ version: '2', percent: 20 }], shadow: { version: '2', percent: 50 } } },
    });
    assert.equal(env.cluster.status!.conditions!.find((c) => c.type === 'RolloutFailed')!.status, 'False');

    // Healthy traffic for the interval: advance to 100 = promote.
    env.tick(5);
    await serve(env.servers, ['pod-a', 'pod-b'], {}, metrics);
    await env.reconciler.reconcile('ml/iris');
    assert.equal(env.cluster.status!.rollout!.weight, 20, 'not before the interval');
    env.tick(6);
    await serve(env.servers, ['pod-a', 'pod-b'], {}, metrics);
    await env.reconciler.reconcile('ml/iris');
    assert.equal(env.cluster.status!.rollout!.state, 'Promoting');
    assert.deepEqual(env.servers.pushes.at(-1), { pod: 'pod-b', labels: { stable: 2n } }, 'the label moved: every pod has version 2 AVAILABLE');
    await servingPods(env, 2);
    await env.reconciler.reconcile('ml/iris');
    assert.equal(env.cluster.status!.rollout!.state, 'Succeeded');
    assert.equal(env.cluster.status!.rollout!.weight, 0);
    assert.equal(env.servers.routing.get('pod-a'), undefined, 'the canary is cleared');
    assert.deepEqual(env.cluster.status!.servedLabels, { stable: 2 });
    assert.deepEqual(env.cluster.events.filter((e) => e.reason.startsWith('Rollout')).map((e) => e.reason), ['RolloutStarted', 'RolloutPromoted', 'RolloutSucceeded']);
  });

  for (const [what, traffic, gate, value] of [
    ['answers differently', { divergence: 0.5 }, 'maxOutputDivergence', '1'],
    ['fails a fraction of requests', { canaryErrors: 5 }, 'maxErrorRate', '0.125'],
  ] as const) {
    it(`rolls back a candidate that ${what} at the first step, with RolloutFailed and an event`, async () => {
      const env = rolloutSetup();
      const metrics = new Map<string, ServingMetrics>();
      await started(env);
      await serve(env.servers, ['pod-a', 'pod-b'], {}, metrics);
      await env.reconciler.reconcile('ml/iris');
      env.tick(3);
      await serve(env.servers, ['pod-a'], traffic, metrics);
      await env.reconciler.reconcile('ml/iris');
      const rollout = env.cluster.status!.rollout!;
      assert.equal(rollout.state, 'Failed');
      assert.equal(rollout.weight, 0);
      assert.deepEqual(rollout.failure, { gate, pod: 'pod-a', value, threshold: gate === 'maxErrorRate' ? '0.1' : '0.01' });
      const condition = env.cluster.status!.conditions!.find((c) => c.type === 'RolloutFailed')!;
      assert.equal(condition.status, 'True');
      assert.match(condition.message, new RegExp(`gate ${gate} failed on pod pod-a: measured ${value.replace('.', '\\.')}, threshold`));
      assert.equal(env.servers.routing.get('pod-a'), undefined, 'all traffic back to the primary');
      assert.equal(env.servers.routing.get('pod-b'), undefined);
      assert.ok(env.cluster.events.some((e) => e.type === 'Warning' && e.reason === 'RolloutFailed'));
      assert.deepEqual(env.cluster.status!.servedLabels, { stable: 1 });
    });
  }
});

describe('operator reconciler: admin token (issue 7 item 8)', () => {
  const KEY = Buffer.alloc(32, 9);
  const model = () => tfmodel({ versionLabels: { stable: 1 }, versionPolicy: { specific: { versions: [1] } } });
  const withKey = (key: { current: Buffer }) => setup(model(), undefined, undefined, { adminKey: async () => key.current });

  it('creates the token Secret once, before the Deployment that mounts it, and pushes with the token', async () => {
    const key = { current: KEY };
    const { cluster, servers, reconciler, log } = withKey(key);
    const { secretName, token } = adminCredentials(KEY, model());
    servers.requiredToken = token;
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(cluster.created.map((o) => `${o.kind}/${o.metadata?.name}`), [`Secret/${secretName}`]);
    const deployment = cluster.deployment('ml', 'iris-server')!;
    assert.ok(deployment.spec!.template.spec!.volumes!.some((v) => v.secret?.secretName === secretName));
    runPods(cluster, ['pod-a']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }));
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(servers.tokens, [token]);
    assert.deepEqual(servers.pushes, [{ pod: 'pod-a', labels: { stable: 1n } }]);
    assert.equal(cluster.status!.labels!.find((l) => l.label === 'stable')!.state, 'Served');
    await reconciler.reconcile('ml/iris');
    assert.equal(cluster.created.length, 1, 'created once, not on every reconcile');
    for (const [what, text] of [['status', JSON.stringify(cluster.statuses)], ['events', JSON.stringify(cluster.events)], ['log', JSON.stringify(log.events)], ['applied objects', JSON.stringify(cluster.applied)]] as const) {
      assert.equal(text.includes(token), false, `the token is not in the ${what}`);
      assert.equal(text.includes(KEY.toString('base64')), false, `the key is not in the ${what}`);
    }
  });

  it('finds its Secret from an earlier run without re-creating or reading it', async () => {
    const key = { current: KEY };
    const first = withKey(key);
    await first.reconciler.reconcile('ml/iris');
    const restarted = new TFModelReconciler({
      reader: first.cluster, writer: first.cluster, serving: first.servers, addresses: { resolve: (p) => ({ host: p.metadata!.name!, restPort: 8501, grpcPort: 8500 }) },
      render: RENDER, log: memoryLogger(), adminKey: async () => KEY,
    });
    await restarted.reconcile('ml/iris');
    assert.equal(first.cluster.created.length, 1);
  });

  it('sends the token with the rollout routing too', async () => {
    const key = { current: KEY };
    const { cluster, servers, reconciler } = withKey(key);
    const { token } = adminCredentials(KEY, model());
    await reconciler.reconcile('ml/iris');
    runPods(cluster, ['pod-a']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }, { stable: 1 }));
    servers.routing.set('pod-a', { stale: true }); // a pod still routing: cleared, with the token
    await reconciler.reconcile('ml/iris');
    assert.ok(servers.routingTokens.length >= 1);
    assert.ok(servers.routingTokens.every((t) => t === token));
  });

  it('shows a refused push (a pod holding another token) as ConfigNotPushed, and a new key rolls the pods onto a new Secret', async () => {
    const key = { current: KEY };
    const { cluster, servers, reconciler } = withKey(key);
    await reconciler.reconcile('ml/iris');
    runPods(cluster, ['pod-a']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }));
    servers.requiredToken = 'someone-elses';
    await reconciler.reconcile('ml/iris');
    const label = cluster.status!.labels!.find((l) => l.label === 'stable')!;
    assert.equal(label.reason, 'ConfigNotPushed');
    assert.match(label.message!, /PERMISSION_DENIED/);

    key.current = Buffer.alloc(32, 10);
    const renewed = adminCredentials(key.current, model());
    await reconciler.reconcile('ml/iris');
    assert.equal(cluster.created.at(-1)!.metadata!.name, renewed.secretName);
    const volumes = cluster.deployment('ml', 'iris-server')!.spec!.template.spec!.volumes!;
    assert.deepEqual(volumes.filter((v) => v.secret).map((v) => v.secret!.secretName), [renewed.secretName], 'the pod template changes, so the pods restart with the new token');
  });

  it('without a key, pods stay open and pushes carry no token (TF Serving\'s behaviour)', async () => {
    const { cluster, servers, reconciler } = setup(model());
    await reconciler.reconcile('ml/iris');
    assert.equal(cluster.created.length, 0);
    runPods(cluster, ['pod-a']);
    servers.reports.set('pod-a', servingReport('pod-a', { 1: 'AVAILABLE' }));
    await reconciler.reconcile('ml/iris');
    assert.deepEqual(servers.tokens, [undefined]);
    assert.equal(cluster.deployment('ml', 'iris-server')!.spec!.template.spec!.containers[0]!.args!.some((a) => a.startsWith('--admin_token_file')), false);
  });
});
