/**
 * Proves the e2e harness: real etcd, kube-apiserver, controller-manager, scheduler and kwok, driven
 * with the real kubectl. Each test would fail if the component it relies on were missing or
 * misconfigured.
 */
import { CoreV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  type ControlPlane,
  controlPlaneBinaries,
  gpuNodeSpec,
  KWOK_TOLERATION,
  listeningAddresses,
  poll,
  processGroupAlive,
  startControlPlane,
} from './harness/index.js';

const KUBERNETES_VERSION = 'v1.34.4';

describe('e2e control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)', function () {
  let plane: ControlPlane | undefined;

  before(async function () {
    this.timeout(50 * 60_000); // a cold build of the binaries, then the start
    const { binaries, skipReason } = controlPlaneBinaries(); // throws under CI=true
    if (!binaries) {
      console.warn(`skipping: ${skipReason}`);
      this.skip();
    }
    plane = await startControlPlane({
      binaries,
      nodes: [{ name: 'cpu-0' }, gpuNodeSpec('gpu-0'), gpuNodeSpec('gpu-1', { product: 'NVIDIA-A100-SXM4-40GB' })],
    });
  });

  after(async function () {
    this.timeout(60_000);
    await plane?.stop();
  });

  const cp = (): ControlPlane => plane!;

  async function createNamespace(name: string): Promise<void> {
    await cp().kubectl(['create', 'namespace', name], { check: true });
    // Pods are rejected until the controller-manager has created the namespace's default SA.
    await poll(async () => ((await cp().kubectl(['get', 'serviceaccount', 'default', '-n', name])).code === 0 ? true : undefined), {
      what: `ServiceAccount ${name}/default`,
      timeoutMs: 60_000,
    });
  }

  async function apply(object: object): Promise<void> {
    await cp().kubectl(['apply', '-f', '-'], { input: JSON.stringify(object), check: true });
  }

  async function pods(namespace: string, selector: string): Promise<V1Pod[]> {
    const { stdout } = await cp().kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'], { check: true });
    return (JSON.parse(stdout) as { items: V1Pod[] }).items;
  }

  async function waitForRunningPods(namespace: string, selector: string, count: number): Promise<V1Pod[]> {
    return poll(
      async () => {
        const found = await pods(namespace, selector);
        const running = found.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
        if (running.length === count) return running;
        throw new Error(`${running.length}/${count} Running: ${found.map((p) => `${p.metadata?.name}=${p.status?.phase}@${p.spec?.nodeName ?? '-'}`).join(', ')}`);
      },
      { what: `${count} Running pods ${selector} in ${namespace}`, timeoutMs: 120_000, intervalMs: 500 },
    );
  }

  function deployment(namespace: string, name: string, replicas: number): V1Deployment {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            tolerations: [KWOK_TOLERATION],
            // kwok deletes a pod at a random point of its grace period, and the namespace
            // controller re-checks only after the longest one: 30 s would slow deletions down.
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'main', image: 'registry.invalid/never-pulled:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
          },
        },
      },
    };
  }

  function gpuPod(namespace: string, name: string, gpus: number): V1Pod {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { app: name } },
      spec: {
        nodeSelector: { 'nvidia.com/gpu.present': 'true' },
        tolerations: [KWOK_TOLERATION, { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'main', image: 'registry.invalid/never-pulled:1', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }],
      },
    };
  }

  it(`serves ${KUBERNETES_VERSION} to kubectl and @kubernetes/client-node over CA-verified TLS`, async () => {
    const { stdout } = await cp().kubectl(['version', '-o', 'json'], { check: true });
    const version = JSON.parse(stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    assert.equal(version.serverVersion.gitVersion, KUBERNETES_VERSION);
    assert.equal(version.clientVersion.gitVersion, KUBERNETES_VERSION);
    assert.match(cp().server, /^https:\/\/127\.0\.0\.1:\d+$/);

    const core = cp().kubeConfig().makeApiClient(CoreV1Api);
    const namespaces = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(namespaces.includes('default') && namespaces.includes('kube-system'), namespaces.join(','));
  });

  // Debian's etcd 3.4 lacks RequestWatchProgress: watch-list clients (kwok) fell back to re-listing
  // and lagged by tens of seconds. The harness now runs etcd built from the Go module proxy.
  it('runs etcd 3.5 or later (built by scripts/control-plane/build.sh)', async () => {
    const response = await fetch(`${cp().etcdUrl}/version`);
    const version = (await response.json()) as { etcdserver: string; etcdcluster: string };
    const [major, minor] = version.etcdserver.split('.').map(Number);
    assert.ok(major! > 3 || (major === 3 && minor! >= 5), `etcd ${version.etcdserver}`);
    assert.equal(cp().binaries.etcd.startsWith('/usr/'), false, `etcd from ${cp().binaries.etcd}, not the build's`);
  });

  it('listens on 127.0.0.1 only', () => {
    const listening = new Map(cp().processes().map((p) => [p.name, listeningAddresses(p.pid)]));
    for (const name of ['etcd', 'kube-apiserver', 'kube-scheduler', 'kwok']) assert.ok(listening.get(name)?.length, `${name} listens nowhere?`);
    for (const [name, addresses] of listening) {
      assert.deepEqual(addresses.filter((a) => !a.startsWith('127.0.0.1:')), [], `${name} listens beyond loopback: ${addresses.join(', ')}`);
    }
  });

  it('registers the fake nodes with their capacity, labels and taints, Ready under kwok', async () => {
    const { stdout } = await cp().kubectl(['get', 'node', 'gpu-1', '-o', 'json'], { check: true });
    const node = JSON.parse(stdout) as { metadata: { labels: Record<string, string> }; spec: { taints: Array<{ key: string }> }; status: { allocatable: Record<string, string>; conditions: Array<{ type: string; status: string }> } };
    assert.equal(node.status.allocatable['nvidia.com/gpu'], '8');
    assert.equal(node.metadata.labels['nvidia.com/gpu.product'], 'NVIDIA-A100-SXM4-40GB');
    assert.deepEqual(node.spec.taints.map((t) => t.key).sort(), ['kwok.x-k8s.io/node', 'nvidia.com/gpu']);
    assert.equal(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('runs a Deployment: ReplicaSet and Pod from the controller-manager, bound by the scheduler, Running under kwok', async () => {
    await createNamespace('e2e-deploy');
    await apply(deployment('e2e-deploy', 'web', 1));
    const [pod] = await waitForRunningPods('e2e-deploy', 'app=web', 1);
    // The GPU nodes carry a taint this pod does not tolerate, so only cpu-0 fits.
    assert.equal(pod!.spec?.nodeName, 'cpu-0');
    assert.ok(pod!.status?.podIP, 'kwok assigns a pod IP');
    const owner = pod!.metadata?.ownerReferences?.[0];
    assert.equal(owner?.kind, 'ReplicaSet');
    const { stdout } = await cp().kubectl(['get', 'replicaset', owner!.name, '-n', 'e2e-deploy', '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'], { check: true });
    assert.equal(stdout, 'Deployment/web');
    const rollout = await cp().kubectl(['rollout', 'status', 'deployment/web', '-n', 'e2e-deploy', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(rollout.code, 0, rollout.stderr);
  });

  it('schedules nvidia.com/gpu as an extended resource: 1 GPU runs, 16 GPUs stay Pending as Unschedulable', async () => {
    await createNamespace('e2e-gpu');
    await apply(gpuPod('e2e-gpu', 'one-gpu', 1));
    await apply(gpuPod('e2e-gpu', 'sixteen-gpus', 16));
    const [small] = await waitForRunningPods('e2e-gpu', 'app=one-gpu', 1);
    assert.match(small!.spec?.nodeName ?? '', /^gpu-[01]$/);

    const unschedulable = await poll(
      async () => {
        const [big] = await pods('e2e-gpu', 'app=sixteen-gpus');
        const condition = big?.status?.conditions?.find((c) => c.type === 'PodScheduled');
        return condition?.status === 'False' ? { pod: big!, condition } : undefined;
      },
      { what: 'PodScheduled=False on sixteen-gpus', timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.equal(unschedulable.condition.reason, 'Unschedulable');
    assert.match(unschedulable.condition.message ?? '', /Insufficient nvidia\.com\/gpu/);
    assert.equal(unschedulable.pod.status?.phase, 'Pending');
    assert.equal(unschedulable.pod.spec?.nodeName, undefined);
    const events = await poll(
      async () => {
        const { stdout } = await cp().kubectl(['get', 'events', '-n', 'e2e-gpu', '--field-selector', 'involvedObject.name=sixteen-gpus,reason=FailedScheduling', '-o', 'name'], { check: true });
        return stdout.trim() ? stdout : undefined;
      },
      { what: 'a FailedScheduling event for sixteen-gpus', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.match(events, /event/);
  });

  it('garbage-collects the ReplicaSet and Pods of a deleted Deployment', async function () {
    this.timeout(240_000);
    await createNamespace('e2e-gc');
    await apply(deployment('e2e-gc', 'owned', 2));
    await waitForRunningPods('e2e-gc', 'app=owned', 2);
    await cp().kubectl(['delete', 'deployment', 'owned', '-n', 'e2e-gc', '--cascade=background', '--wait=false'], { check: true });
    await poll(
      async () => {
        const { stdout } = await cp().kubectl(['get', 'replicasets,pods', '-n', 'e2e-gc', '-l', 'app=owned', '-o', 'name'], { check: true });
        if (stdout.trim() === '') return true;
        throw new Error(`still there: ${stdout.trim().replace(/\n/g, ' ')}`);
      },
      { what: 'the garbage collector to delete the dependents', timeoutMs: 180_000, intervalMs: 500 },
    );
  });

  // The namespace controller waits for kwok to see the pod go. With Debian's etcd 3.4 (no
  // RequestWatchProgress, so kwok's watch-list requests failed and it re-listed) this took 1-2
  // minutes; with etcd 3.6 a few seconds. The limit stays generous for loaded machines.
  it('deletes a namespace with everything in it', async function () {
    this.timeout(300_000);
    await createNamespace('e2e-ns');
    await apply(deployment('e2e-ns', 'doomed', 1));
    await waitForRunningPods('e2e-ns', 'app=doomed', 1);
    const deleted = await cp().kubectl(['delete', 'namespace', 'e2e-ns', '--wait=true', '--timeout=240s'], { timeoutMs: 250_000 });
    assert.equal(deleted.code, 0, deleted.stderr);
    const get = await cp().kubectl(['get', 'namespace', 'e2e-ns']);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /NotFound/);
  });

  it('authenticates a ServiceAccount token from `kubectl create token`, authorised by RBAC', async () => {
    await createNamespace('e2e-rbac');
    await cp().kubectl(['create', 'serviceaccount', 'reader', '-n', 'e2e-rbac'], { check: true });
    await cp().kubectl(['create', 'rolebinding', 'reader-view', '-n', 'e2e-rbac', '--clusterrole=view', '--serviceaccount=e2e-rbac:reader'], { check: true });
    const token = (await cp().kubectl(['create', 'token', 'reader', '-n', 'e2e-rbac', '--duration=10m'], { check: true })).stdout.trim();
    const kubeconfig = cp().kubeconfigForToken(token);

    const whoami = await cp().kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig, check: true });
    assert.equal(whoami.stdout, 'system:serviceaccount:e2e-rbac:reader');
    const canList = await cp().kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'e2e-rbac'], { kubeconfig });
    assert.deepEqual([canList.code, canList.stdout.trim()], [0, 'yes']);
    const canCreate = await cp().kubectl(['auth', 'can-i', 'create', 'deployments', '-n', 'e2e-rbac'], { kubeconfig });
    assert.deepEqual([canCreate.code, canCreate.stdout.trim()], [1, 'no']);
    const forbidden = await cp().kubectl(['get', 'pods', '-n', 'default'], { kubeconfig });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /Forbidden/);
    // The admin impersonating the same account gets the same answers.
    const impersonated = await cp().kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'e2e-rbac'], { asUser: 'system:serviceaccount:e2e-rbac:reader' });
    assert.equal(impersonated.stdout.trim(), 'yes');

    const bogus = await cp().kubectl(['get', 'pods', '-n', 'e2e-rbac'], { kubeconfig: cp().kubeconfigForToken('not-a-token') });
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /Unauthorized|must be logged in/);
  });

  it('restarts kube-apiserver on the same port and data; kubectl and the controllers carry on', async function () {
    this.timeout(180_000);
    await createNamespace('e2e-restart');
    await cp().kubectl(['create', 'configmap', 'before', '-n', 'e2e-restart', '--from-literal=k=v'], { check: true });
    const apiservers = () => cp().processes().filter((p) => p.name === 'kube-apiserver');
    const [old] = apiservers();

    await cp().restartApiserver();

    const [first, second] = apiservers();
    assert.equal(first!.pid, old!.pid);
    assert.equal(first!.running, false);
    assert.ok(second!.running && second!.pid !== old!.pid);
    const kept = await cp().kubectl(['get', 'configmap', 'before', '-n', 'e2e-restart', '-o', 'jsonpath={.data.k}'], { check: true });
    assert.equal(kept.stdout, 'v');
    // Controller-manager, scheduler and kwok reconnect on their own.
    await apply(deployment('e2e-restart', 'after', 1));
    await waitForRunningPods('e2e-restart', 'app=after', 1);
  });

  it('stop() kills every process group it started and removes its dir; a second stop() is harmless', async function () {
    this.timeout(90_000);
    const started = cp().processes();
    assert.deepEqual([...new Set(started.map((p) => p.name))].sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']);
    await cp().stop();
    const alive = started.filter((p) => processGroupAlive(p.pid));
    assert.deepEqual(alive, [], 'process groups left behind');
    assert.ok(cp().processes().every((p) => !p.running));
    assert.equal(existsSync(cp().dir), false);
    await cp().stop();
  });
});
