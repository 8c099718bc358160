/**
 * The operator end to end: the real tfmodel-operator binary against a real control plane (etcd,
 * kube-apiserver, controller-manager, scheduler, kwok nodes), driven with the real kubectl. The
 * serving pods' containers are real tfmodel-server processes on loopback (ServingPods), serving
 * TensorFlow-made SavedModels, so label moves are checked against what the servers really serve.
 */
import { CoreV1Api, type V1ConfigMap, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { ModelServerConfigSchema } from '../../src/gen/tensorflow_serving/config/model_server_config_pb.js';
import { ADMIN_TOKEN_FILE, ADMIN_TOKEN_KEY } from '../../src/operator/render/admin-token.js';
import { TfmodelServerClient } from '../../src/operator/serving-client/serving-client.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/corpus.js';
import { HALF_PLUS_THREE_BASE, HALF_PLUS_TWO_BASE } from '../support/test-models.js';
import type { TFModel } from '../../src/operator/api/tfmodel.js';
import { type ControlPlane, controlPlaneBinaries, gpuNodeSpec, KWOK_TOLERATION, poll, startControlPlane } from './harness/index.js';
import { type OperatorProcess, ServingPods, startOperatorProcess } from './harness/operator.js';

const NAMESPACE = 'e2e';
/** y = 0.5x + 2 and y = 0.5x + 3: which version answered is plain from the number. */
const HALF_PLUS_TWO = join(HALF_PLUS_TWO_BASE, '00000123');
const HALF_PLUS_THREE = join(HALF_PLUS_THREE_BASE, '00000123');

describe('e2e operator: TFModels on a real control plane', function () {
  let plane: ControlPlane | undefined;
  let operator: OperatorProcess | undefined;
  let work: string;
  let addressMap: string;
  let modelsDir: string;
  const servingPods: ServingPods[] = [];

  before(async function () {
    this.timeout(50 * 60_000);
    const { binaries, skipReason } = controlPlaneBinaries(); // throws under CI=true
    if (!binaries) {
      console.warn(`skipping: ${skipReason}`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'tfmodel-e2e-operator-'));
    addressMap = join(work, 'pod-addresses.json');
    modelsDir = join(work, 'models');
    mkdirSync(join(modelsDir, 'half'), { recursive: true });
    cpSync(HALF_PLUS_TWO, join(modelsDir, 'half', '1'), { recursive: true });
    plane = await startControlPlane({
      binaries,
      nodes: [{ name: 'cpu-0' }, { name: 'cpu-1' }, gpuNodeSpec('gpu-0', { count: 2 }), gpuNodeSpec('gpu-1', { count: 2 })],
    });
    await plane.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { check: true });
    await plane.kubectl(['wait', '--for=condition=Established', 'crd/tfmodels.serving.tfmodel.dev', '--timeout=60s'], { check: true });
    await plane.kubectl(['create', 'namespace', NAMESPACE], { check: true });
    await poll(async () => ((await cp().kubectl(['get', 'serviceaccount', 'default', '-n', NAMESPACE])).code === 0 ? true : undefined), {
      what: `ServiceAccount ${NAMESPACE}/default`,
      timeoutMs: 60_000,
    });
    operator = await startOperator();
  });

  after(async function () {
    this.timeout(120_000);
    await Promise.all(servingPods.map((pods) => pods.stop()));
    await operator?.process.stop();
    await plane?.stop();
    if (work && !process.env['TFMODEL_E2E_KEEP_DIR']) rmSync(work, { recursive: true, force: true });
  });

  const cp = (): ControlPlane => plane!;

  /**
   * With one kube-apiserver, a restart of it outlasts client-go's default 10 s renew deadline (the
   * leader would exit, as kube-controller-manager does); give the operator room to ride it out.
   */
  function startOperator(): Promise<OperatorProcess> {
    return startOperatorProcess({
      logPath: join(work, 'operator.log'),
      kubeconfig: cp().kubeconfigPath,
      podAddressMap: addressMap,
      args: ['--version-not-found-grace-seconds=5', '--leader-elect-lease-duration=45s', '--leader-elect-renew-deadline=40s'],
    });
  }

  function tfmodel(name: string, spec: Record<string, unknown>): TFModel {
    return {
      apiVersion: 'serving.tfmodel.dev/v1alpha1',
      kind: 'TFModel',
      metadata: { name, namespace: NAMESPACE },
      spec: { tolerations: [KWOK_TOLERATION], ...spec } as TFModel['spec'],
    };
  }

  async function kubectlApply(object: object): Promise<{ code: number; stderr: string }> {
    return cp().kubectl(['apply', '-f', '-'], { input: JSON.stringify(object) });
  }

  async function mergePatch(name: string, patch: object): Promise<void> {
    await cp().kubectl(['patch', 'tfmodel', name, '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify(patch)], { check: true });
  }

  async function get<T>(kind: string, name: string): Promise<T | undefined> {
    const result = await cp().kubectl(['get', kind, name, '-n', NAMESPACE, '-o', 'json']);
    if (result.code !== 0) {
      if (/NotFound/.test(result.stderr)) return undefined;
      throw new Error(result.stderr);
    }
    return JSON.parse(result.stdout) as T;
  }

  function condition(model: TFModel | undefined, type: string) {
    return model?.status?.conditions?.find((c) => c.type === type);
  }

  /** Polls the TFModel until `done` holds; the last status goes into the timeout message. */
  async function waitForTFModel(name: string, what: string, done: (model: TFModel) => boolean, timeoutMs = 60_000): Promise<TFModel> {
    return poll(
      async () => {
        const model = await get<TFModel>('tfmodel', name);
        if (model && done(model)) return model;
        throw new Error(JSON.stringify(model?.status ?? null));
      },
      { what: `TFModel ${name}: ${what}`, timeoutMs, intervalMs: 250, process: operator?.process },
    );
  }

  const labelServed = (label: string, version: number) => (model: TFModel) =>
    model.status?.labels?.some((l) => l.label === label && l.state === 'Served' && l.servedVersion === version) ?? false;

  async function predict(pod: { restPort: number }, label: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${pod.restPort}/v1/models/half/labels/${label}:predict`, { method: 'POST', body: '{"instances":[1.0]}' });
    const body = (await response.json()) as { predictions?: number[]; error?: string };
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
    return body.predictions![0]!;
  }

  async function podsOf(name: string): Promise<V1Pod[]> {
    const api = cp().kubeConfig().makeApiClient(CoreV1Api);
    const list = await api.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app.kubernetes.io/instance=${name}` });
    return list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
  }

  describe('serving a model and moving its labels', () => {
    let pods: ServingPods;

    it('kubectl apply of a TFModel creates its ConfigMap, Deployment and Service, and it becomes Ready on the real servers', async function () {
      this.timeout(180_000);
      const applied = await kubectlApply(tfmodel('half', {
        modelName: 'half',
        basePath: join(modelsDir, 'half'),
        versionPolicy: { specific: { versions: [1] } },
        versionLabels: { stable: 1 },
        replicas: 2,
      }));
      assert.equal(applied.code, 0, applied.stderr);
      pods = new ServingPods({ plane: cp(), namespace: NAMESPACE, tfmodel: 'half', dir: join(work, 'pods', 'half'), addressMapPath: addressMap });
      servingPods.push(pods);
      pods.start();

      const model = await waitForTFModel('half', 'Ready with stable on version 1', (m) => condition(m, 'Ready')?.status === 'True' && labelServed('stable', 1)(m), 120_000);
      assert.equal(model.status!.readyReplicas, 2);
      assert.deepEqual(model.status!.versions, [{ version: 1, state: 'AVAILABLE', readyReplicas: 2 }]);
      assert.equal(model.status!.observedGeneration, model.metadata.generation);

      const configMap = (await get<V1ConfigMap>('configmap', 'half-server-config'))!;
      const deployment = (await get<V1Deployment>('deployment', 'half-server'))!;
      assert.ok(await get('service', 'half-server'));
      for (const owned of [configMap, deployment]) {
        assert.equal(owned.metadata!.ownerReferences![0]!.uid, model.metadata.uid);
        assert.equal(owned.metadata!.ownerReferences![0]!.controller, true);
      }
      const config = configMap.data!['model.config']!;
      assert.match(config, /name: "half"/);
      assert.match(config, new RegExp(`base_path: "${join(modelsDir, 'half')}"`));
      assert.match(config, /version_labels \{\s*key: "stable"\s*value: 1\s*\}/);
      const container = deployment.spec!.template.spec!.containers[0]!;
      assert.equal(container.securityContext!.readOnlyRootFilesystem, true);
      assert.equal(deployment.spec!.template.spec!.securityContext!.runAsNonRoot, true);

      // Every pod's real server answers through the label.
      assert.equal(pods.pods.size, 2);
      for (const pod of pods.pods.values()) assert.equal(await predict(pod, 'stable'), 2.5);

      const columns = await cp().kubectl(['get', 'tfm', 'half', '-n', NAMESPACE], { check: true });
      assert.match(columns.stdout, /MODEL\s+STABLE\s+TEST\s+READY/);
      const yamlNow = async (): Promise<string> => (await cp().kubectl(['get', 'tfm', 'half', '-n', NAMESPACE, '-o', 'yaml'])).stdout;
      assert.match(columns.stdout, /half\s+half\s+1\s+.*True/, `kubectl get tfm:\n${columns.stdout}\n${await yamlNow()}`);
    });

    it('moves labels with kubectl patch --type=merge only once every pod has the version, and rolls back, with no failed request', async function () {
      this.timeout(180_000);
      const load = new LabelLoad([...pods.pods.values()], 'stable', (pod) => predict(pod, 'stable'));
      load.start();

      // A new version appears on disk; the test label goes to it.
      cpSync(HALF_PLUS_THREE, join(modelsDir, 'half', '2'), { recursive: true });
      await mergePatch('half', { spec: { versionPolicy: { specific: { versions: [1, 2] } }, versionLabels: { test: 2 } } });
      await waitForTFModel('half', 'test served on version 2', labelServed('test', 2));
      for (const pod of pods.pods.values()) assert.equal(await predict(pod, 'test'), 3.5, `pod ${pod.name} serves test`);

      // Promote: stable follows test.
      await mergePatch('half', { spec: { versionLabels: { stable: 2 } } });
      await waitForTFModel('half', 'stable served on version 2', labelServed('stable', 2));
      for (const pod of pods.pods.values()) assert.equal(await predict(pod, 'stable'), 3.5, `pod ${pod.name} serves stable`);

      // Roll back: version 1 is still loaded, so stable moves back at once.
      await mergePatch('half', { spec: { versionLabels: { stable: 1 } } });
      await waitForTFModel('half', 'stable back on version 1', labelServed('stable', 1));
      for (const pod of pods.pods.values()) assert.equal(await predict(pod, 'stable'), 2.5);

      const result = await load.stop();
      assert.ok(result.ok > 20, `only ${result.ok} requests completed`);
      assert.deepEqual(result.failures, [], 'requests through the stable label failed during the moves');
      assert.ok(result.answers.has(2.5) && result.answers.has(3.5), `stable answered ${[...result.answers]}`);

      const events = await cp().kubectl(['get', 'events', '-n', NAMESPACE, '--field-selector', 'involvedObject.name=half,reason=LabelMoved', '-o', 'json'], { check: true });
      const messages = (JSON.parse(events.stdout) as { items: Array<{ message: string }> }).items.map((e) => e.message);
      assert.ok(messages.some((m) => /label stable now serves version 2 \(was 1\)/.test(m)), messages.join('\n'));
      assert.ok(messages.some((m) => /label stable now serves version 1 \(was 2\)/.test(m)), messages.join('\n'));
    });

    it('protects model management: pods hold the TFModel\'s token, the operator\'s pushes carry it, a reload without it is refused (issue 7 item 8)', async function () {
      this.timeout(120_000);
      const model = (await get<TFModel>('tfmodel', 'half'))!;
      const deployment = (await get<V1Deployment>('deployment', 'half-server'))!;
      const podSpec = deployment.spec!.template.spec!;
      assert.ok(podSpec.containers[0]!.args!.includes(`--admin_token_file=${ADMIN_TOKEN_FILE}`));
      const secretName = podSpec.volumes!.find((v) => v.secret)!.secret!.secretName!;
      const api = cp().kubeConfig().makeApiClient(CoreV1Api);
      const secret = await api.readNamespacedSecret({ namespace: NAMESPACE, name: secretName });
      assert.equal(secret.metadata!.ownerReferences![0]!.uid, model.metadata.uid, 'owned by the TFModel');
      assert.equal(secret.immutable, true);
      const token = Buffer.from(secret.data![ADMIN_TOKEN_KEY]!, 'base64').toString('utf8');
      const key = await api.readNamespacedSecret({ namespace: 'default', name: 'tfmodel-operator-admin-key' });
      assert.equal(Buffer.from(key.data!['key']!, 'base64').length, 32, 'the operator made its key next to its Lease');

      // An anonymous client of a pod's gRPC port: the 4-byte "unload everything" is refused.
      const client = new TfmodelServerClient({ timeoutMs: 5000 });
      const unloadAll = create(ModelServerConfigSchema, { config: { case: 'modelConfigList', value: { config: [] } } });
      try {
        for (const pod of pods.pods.values()) {
          const address = { host: '127.0.0.1', restPort: pod.restPort, grpcPort: pod.grpcPort };
          await assert.rejects(client.pushConfig(address, unloadAll), /UNAUTHENTICATED/);
          await assert.rejects(client.pushConfig(address, unloadAll, `${token}x`), /PERMISSION_DENIED/);
          await assert.rejects(client.pushRouting(address, {}), /HTTP 401/);
          assert.equal(await predict(pod, 'stable'), 2.5, `pod ${pod.name} still serves`);
        }
      } finally {
        client.close();
      }
      // The label moves before this test went through the operator's pushes, which carried the
      // token: it never appears in the status, the events or the operator's log.
      const visible = [
        JSON.stringify(model),
        (await cp().kubectl(['get', 'events', '-n', NAMESPACE, '-o', 'json'], { check: true })).stdout,
        readFileSync(join(work, 'operator.log'), 'utf8'),
      ];
      for (const text of visible) assert.equal(text.includes(token), false);
    });

    it('blocks a label whose version never appears, and keeps serving the last good one', async function () {
      this.timeout(120_000);
      await mergePatch('half', { spec: { versionPolicy: { specific: { versions: [1, 2, 3] } }, versionLabels: { test: 3 } } });
      const model = await waitForTFModel('half', 'PromotionBlocked', (m) => condition(m, 'PromotionBlocked')?.status === 'True');
      assert.equal(condition(model, 'PromotionBlocked')!.reason, 'VersionNotFound');
      const test = model.status!.labels!.find((l) => l.label === 'test')!;
      assert.equal(test.state, 'Blocked');
      assert.equal(test.desiredVersion, 3);
      assert.equal(test.servedVersion, 2);
      for (const pod of pods.pods.values()) assert.equal(await predict(pod, 'test'), 3.5);

      const events = await cp().kubectl(['get', 'events', '-n', NAMESPACE, '--field-selector', 'involvedObject.name=half,reason=PromotionBlocked'], { check: true });
      assert.match(events.stdout, /PromotionBlocked/);

      await mergePatch('half', { spec: { versionPolicy: { specific: { versions: [1, 2] } }, versionLabels: { test: 2 } } });
      await waitForTFModel('half', 'unblocked', (m) => condition(m, 'PromotionBlocked')?.status === 'False' && labelServed('test', 2)(m));
    });

    it('scales with kubectl scale through the scale subresource; new pods get the labels before they count', async function () {
      this.timeout(180_000);
      await cp().kubectl(['scale', 'tfmodel', 'half', '-n', NAMESPACE, '--replicas=3'], { check: true });
      const allThree = (m: TFModel) => m.status?.versions?.length === 2 && m.status.versions.every((v) => v.state === 'AVAILABLE' && v.readyReplicas === 3);
      const model = await waitForTFModel('half', 'both versions on 3 pods, stable served', (m) => allThree(m) && labelServed('stable', 1)(m) && condition(m, 'Ready')?.status === 'True', 120_000);
      assert.equal(model.status!.readyReplicas, 3);
      assert.equal(pods.pods.size, 3);
      for (const pod of pods.pods.values()) assert.equal(await predict(pod, 'stable'), 2.5);
    });
  });

  describe('GPU scheduling', () => {
    it('puts a GPU-fraction TFModel on a GPU node with a time-sliced GPU and the memory cap', async function () {
      this.timeout(240_000);
      const applied = await kubectlApply(tfmodel('gpu-half', {
        modelName: 'half',
        basePath: join(modelsDir, 'half'),
        gpu: { fraction: '0.5', sharing: 'TimeSlicing' },
      }));
      assert.equal(applied.code, 0, applied.stderr);
      const [pod] = await poll(async () => {
        const found = (await podsOf('gpu-half')).filter((p) => p.status?.phase === 'Running');
        return found.length === 1 ? found : undefined;
      }, { what: 'the gpu-half pod Running', timeoutMs: 180_000 }); // kwok is slow here: see control-plane.test.ts
      assert.match(pod!.spec!.nodeName!, /^gpu-/);
      const container = pod!.spec!.containers[0]!;
      assert.equal(container.resources!.limits!['nvidia.com/gpu'], '1');
      assert.ok(container.args!.includes('--per_process_gpu_memory_fraction=0.5'), container.args!.join(' '));
      assert.ok(pod!.spec!.tolerations!.some((t) => t.key === 'nvidia.com/gpu'));
    });

    it('reports a TFModel whose GPUs no node has as Pending, with the scheduler\'s reason', async function () {
      this.timeout(120_000);
      const applied = await kubectlApply(tfmodel('gpu-huge', {
        modelName: 'half',
        basePath: join(modelsDir, 'half'),
        gpu: { fraction: '1', sharing: 'Exclusive', count: 4 },
      }));
      assert.equal(applied.code, 0, applied.stderr);
      const model = await waitForTFModel('gpu-huge', 'Degraded: Unschedulable', (m) => /Insufficient nvidia\.com\/gpu/.test(condition(m, 'Degraded')?.message ?? ''));
      assert.equal(condition(model, 'Ready')!.status, 'False');
      const pods = await podsOf('gpu-huge');
      assert.ok(pods.length > 0 && pods.every((p) => p.status?.phase === 'Pending'));
      await cp().kubectl(['delete', 'tfmodel', 'gpu-huge', '-n', NAMESPACE, '--wait=false'], { check: true });
    });
  });

  describe('admission and ownership', () => {
    it('the CRD\'s validation rejects invalid TFModels with a message naming the field', async () => {
      const base = { modelName: 'm', basePath: '/models/m' };
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['bad-fraction', { ...base, gpu: { fraction: '1.5' } }, /fraction/],
        ['two-policies', { ...base, versionPolicy: { latest: { numVersions: 1 }, all: {} } }, /exactly one/i],
        ['label-outside', { ...base, versionPolicy: { specific: { versions: [1] } }, versionLabels: { stable: 2 } }, /stable|versionLabels/],
        ['managed-flag', { ...base, serverArgs: ['--port=9000'] }, /serverArgs/],
        ['escape', { ...base, basePath: '/models/../etc' }, /basePath/],
      ];
      for (const [name, spec, message] of cases) {
        const result = await kubectlApply(tfmodel(name, spec));
        assert.notEqual(result.code, 0, `${name} was accepted`);
        assert.match(result.stderr, /Invalid value|invalid/i, name);
        assert.match(result.stderr, message, `${name}: ${result.stderr}`);
      }
    });

    it('refuses to take over an object of the same name it did not create', async function () {
      this.timeout(60_000);
      await cp().kubectl(['create', 'configmap', 'taken-server-config', '-n', NAMESPACE, '--from-literal=owner=someone-else'], { check: true });
      await kubectlApply(tfmodel('taken', { modelName: 'half', basePath: join(modelsDir, 'half') }));
      const model = await waitForTFModel('taken', 'NameConflict', (m) => condition(m, 'ConfigApplied')?.reason === 'NameConflict');
      assert.match(condition(model, 'ConfigApplied')!.message, /ConfigMap taken-server-config exists and is not owned/);
      const configMap = (await get<V1ConfigMap>('configmap', 'taken-server-config'))!;
      assert.deepEqual(configMap.data, { owner: 'someone-else' });
      assert.equal(configMap.metadata!.ownerReferences, undefined);
      assert.equal(await get('deployment', 'taken-server'), undefined);
      await cp().kubectl(['delete', 'tfmodel', 'taken', '-n', NAMESPACE], { check: true });
      assert.ok(await get('configmap', 'taken-server-config'), 'the operator must not delete what it did not create');
    });

    it('deleting a TFModel garbage-collects what the operator created for it', async function () {
      this.timeout(120_000);
      await cp().kubectl(['delete', 'tfmodel', 'gpu-half', '-n', NAMESPACE], { check: true });
      await poll(async () => {
        const left = await Promise.all([get('configmap', 'gpu-half-server-config'), get('deployment', 'gpu-half-server'), get('service', 'gpu-half-server')]);
        const secrets = await cp().kubectl(['get', 'secrets', '-n', NAMESPACE, '-l', 'app.kubernetes.io/instance=gpu-half', '-o', 'name'], { check: true });
        return left.every((o) => o === undefined) && secrets.stdout.trim() === '' ? true : undefined;
      }, { what: 'gpu-half owned objects garbage-collected', timeoutMs: 90_000, intervalMs: 1000 });
    });
  });

  describe('failures of the operator and the apiserver', () => {
    it('an operator killed mid-reconcile is replaced: the new one takes the Lease and converges on what changed meanwhile', async function () {
      this.timeout(180_000);
      const before = await leaseHolder();
      const replicas = (await get<TFModel>('tfmodel', 'half'))!.spec.replicas === 2 ? 3 : 2;
      // Killed right after a change, so most likely in the middle of reconciling it; a second
      // change arrives while no operator runs.
      await mergePatch('half', { spec: { replicas } });
      process.kill(-operator!.process.pid, 'SIGKILL'); // no graceful Lease release
      await operator!.process.exited;
      await mergePatch('half', { spec: { versionLabels: { test: 1 } } });
      operator = await startOperator();
      const after = await poll(async () => {
        const holder = await leaseHolder();
        return holder !== before ? holder : undefined;
      }, { what: 'the new operator to take the Lease', timeoutMs: 90_000, intervalMs: 1000, process: operator.process });
      assert.ok(after);
      const model = await waitForTFModel('half', `scaled to ${replicas} and test on 1 by the new operator`,
        (m) => m.status?.replicas === replicas && m.status?.readyReplicas === replicas && labelServed('test', 1)(m), 120_000);
      assert.equal(condition(model, 'Ready')!.status, 'True');
      for (const pod of servingPods[0]!.pods.values()) assert.equal(await predict(pod, 'test'), 2.5);
      const metrics = await (await fetch(`${operator.url}/metrics`)).text();
      assert.match(metrics, /^tfmodel_operator_leader 1$/m);
    });

    it('carries on after kube-apiserver restarts: a change made afterwards is reconciled', async function () {
      this.timeout(180_000);
      await cp().restartApiserver();
      await mergePatch('half', { spec: { versionLabels: { stable: 2 } } });
      await waitForTFModel('half', 'stable on 2 after the apiserver restart', labelServed('stable', 2), 120_000);
      for (const pod of servingPods[0]!.pods.values()) assert.equal(await predict(pod, 'stable'), 3.5);
      const ready = await fetch(`${operator!.url}/readyz`);
      assert.equal(ready.status, 200);
    });
  });

  async function leaseHolder(): Promise<string | undefined> {
    const lease = await cp().kubectl(['get', 'lease', 'tfmodel-operator', '-n', 'default', '-o', 'jsonpath={.spec.holderIdentity}'], { check: true });
    return lease.stdout || undefined;
  }
});

/** Requests through a label on every pod, back to back, until stopped; records every failure. */
class LabelLoad {
  private running = false;
  private loops: Array<Promise<void>> = [];
  readonly failures: string[] = [];
  readonly answers = new Set<number>();
  ok = 0;

  constructor(
    private readonly pods: ReadonlyArray<{ name: string; restPort: number }>,
    private readonly label: string,
    private readonly call: (pod: { restPort: number }) => Promise<number>,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.pods.map(async (pod) => {
      while (this.running) {
        try {
          this.answers.add(await this.call(pod));
          this.ok++;
        } catch (error) {
          this.failures.push(`${pod.name} ${this.label}: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
  }

  async stop(): Promise<{ ok: number; failures: string[]; answers: Set<number> }> {
    this.running = false;
    await Promise.all(this.loops);
    return { ok: this.ok, failures: this.failures, answers: this.answers };
  }
}
