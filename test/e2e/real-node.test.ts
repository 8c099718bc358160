/**
 * The operator and its serving pods on a real node: containerd + the kubelet (harness/real-node.ts)
 * joined to the e2e control plane, running the images built from docker/*.Dockerfile
 * (scripts/images/build.sh, imported from their tarballs). Nothing here is simulated: the kubelet
 * pulls nothing, mounts the ConfigMap, emptyDir and hostPath-backed PVC volumes, runs the real
 * startup/readiness/liveness probes and preStop hooks, and applies the security context; clients
 * reach the pods on their pod IPs on the node's private bridge. Answers are checked against real
 * TensorFlow on the same SavedModels.
 *
 * Without kube-proxy (and with `--endpoint-reconciler-type=none`) the in-cluster `kubernetes`
 * Service leads nowhere, so the operator pod runs with hostNetwork (a Helm post-renderer) and
 * KUBERNETES_SERVICE_HOST/PORT point at the loopback apiserver; its API credentials are still only
 * its ServiceAccount's token, mounted by the kubelet.
 */
import { CoreV1Api, DiscoveryV1Api, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, readdirSync, renameSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import yaml from 'js-yaml';
import type { TFModel } from '../../src/operator/api/tfmodel.js';
import { CHART_DIR, NAMESPACE as RELEASE_NAMESPACE, RELEASE } from '../packaging/helm.js';
import { REPO_ROOT } from '../support/corpus.js';
import { requirePrerequisite } from '../support/prerequisites.js';
import { servingTestModels } from '../support/test-models.js';
import { askTensorFlow, jsonTensor, oraclePython } from '../support/tf-oracle.js';
import { type BuiltImages, builtImages, PAUSE_IMAGE } from '../images/images.js';
import { type ControlPlane, controlPlaneBinaries, poll, startControlPlane } from './harness/index.js';
import { freePorts } from './harness/processes.js';
import { checkRealNodePrerequisites, REAL_NODE_APISERVER_ARGS, type RealNode, startRealNode } from './harness/real-node.js';

const NAMESPACE = 'e2e';
const EXAMPLES = join(REPO_ROOT, 'deploy', 'examples');
const X = [1, 2, 5];

interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('e2e on a real node (containerd + kubelet): the chart, the operator and its pods in their images', function () {
  this.timeout(300_000);
  let plane: ControlPlane | undefined;
  let node: RealNode | undefined;
  let images: BuiltImages;
  let modelsDir: string;
  let operatorPort: number;
  /** What TensorFlow answers for X: y of version `v` of model `m`. */
  const expected = new Map<string, number[]>();

  before(async function () {
    this.timeout(60 * 60_000); // cold builds of the binaries and the images, then the start
    const { binaries, skipReason } = controlPlaneBinaries(); // these throw under CI=true
    const built = builtImages();
    const nodeTools = requirePrerequisite('A real node', 'it needs root, containerd, runc and the CNI plugins (apt-get install containerd runc containernetworking-plugins)', checkRealNodePrerequisites);
    const oracle = oraclePython();
    const reason = skipReason ?? built.skipReason ?? nodeTools.skipReason ?? oracle.skipReason;
    if (reason !== undefined || !binaries || !built.images || !oracle.python) {
      console.warn(`skipping: ${reason}`);
      this.skip();
    }
    images = built.images;

    plane = await startControlPlane({ binaries, apiserverArgs: REAL_NODE_APISERVER_ARGS });
    node = await startRealNode({ plane, imageTarballs: [images.tarballs.pause, images.tarballs.server, images.tarballs.operator], pauseImage: PAUSE_IMAGE });

    // The models the examples name: half_plus_two (TF Serving's version 123) and classifier
    // versions 1 and 2 (half_plus_two and half_plus_three: the labels are told apart by value).
    const models = servingTestModels();
    modelsDir = join(plane.dir, 'models');
    const version = (base: string) => join(base, readdirSync(base).filter((v) => /^\d+$/.test(v)).sort()[0]!);
    const sources = { 'half_plus_two/123': version(models.halfPlusTwo), 'classifier/1': version(models.halfPlusTwo), 'classifier/2': version(models.halfPlusThree) };
    for (const [target, source] of Object.entries(sources)) cpSync(source, join(modelsDir, target), { recursive: true });
    readableByAll(modelsDir);
    const answers = askTensorFlow(oracle.python!, Object.values(sources).map((dir) => ({ dir, signature: 'serving_default', inputs: { x: jsonTensor('float32', [X.length, 1], X) } })));
    Object.keys(sources).forEach((target, i) => {
      const outputs = answers[i]!.outputs;
      assert.ok(outputs, `TensorFlow on ${target}: ${answers[i]!.error}`);
      expected.set(target, outputs['y']!.values.map(Number));
      assert.equal(outputs['y']!.values.length, X.length);
    });

    await cp().kubectl(['create', 'namespace', NAMESPACE], { check: true });
    await poll(async () => ((await cp().kubectl(['get', 'serviceaccount', 'default', '-n', NAMESPACE])).code === 0 ? true : undefined), { what: 'the default ServiceAccount', timeoutMs: 60_000 });
    [operatorPort] = await freePorts(1);
  });

  after(async function () {
    this.timeout(180_000);
    await node?.stop();
    await plane?.stop();
  });

  const cp = (): ControlPlane => plane!;

  function helm(args: readonly string[]): Promise<CommandResult> {
    const home = join(cp().dir, 'helm');
    const env: NodeJS.ProcessEnv = { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
    delete env['KUBECONFIG'];
    return new Promise((resolve) => {
      execFile(cp().binaries.helm, [...args, `--kubeconfig=${cp().kubeconfigPath}`], { env, timeout: 300_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  async function kubectlJson<T>(args: readonly string[]): Promise<T> {
    const { stdout } = await cp().kubectl([...args, '-o', 'json'], { check: true });
    return JSON.parse(stdout) as T;
  }

  const tfmodel = (name: string): Promise<TFModel> => kubectlJson<TFModel>(['get', 'tfmodel', name, '-n', NAMESPACE]);
  const condition = (model: TFModel, type: string) => model.status?.conditions?.find((c) => c.type === type);

  async function waitForTFModel(name: string, what: string, done: (model: TFModel) => boolean, timeoutMs = 240_000): Promise<TFModel> {
    return poll(
      async () => {
        const model = await tfmodel(name);
        if (done(model)) return model;
        throw new Error(JSON.stringify(model.status ?? null));
      },
      { what: `TFModel ${name}: ${what}`, timeoutMs, intervalMs: 500 },
    );
  }

  const labelServed = (label: string, version: number) => (model: TFModel) =>
    model.status?.labels?.some((l) => l.label === label && l.state === 'Served' && l.servedVersion === version) ?? false;

  async function servingPods(name: string): Promise<V1Pod[]> {
    const api = cp().kubeConfig().makeApiClient(CoreV1Api);
    const list = await api.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app.kubernetes.io/instance=${name}` });
    return list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
  }

  async function predict(ip: string, path: string): Promise<number[]> {
    const response = await fetch(`http://${ip}:8501/v1/models/${path}:predict`, { method: 'POST', body: JSON.stringify({ instances: X.map((v) => [v]) }), signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${ip} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    // x is float32 [None, 1]: one [value] per instance, one [y] per prediction.
    return (JSON.parse(text) as { predictions: number[][] }).predictions.flat();
  }

  /** The operator's pod (there is one replica). */
  async function operatorPod(): Promise<V1Pod> {
    const api = cp().kubeConfig().makeApiClient(CoreV1Api);
    const list = await api.listNamespacedPod({ namespace: RELEASE_NAMESPACE, labelSelector: 'app.kubernetes.io/name=tfmodel-operator' });
    const live = list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
    assert.equal(live.length, 1, live.map((p) => p.metadata?.name).join(','));
    return live[0]!;
  }

  describe('1. helm install and every example TFModel', () => {
    it('helm install runs the operator from its image on the real node, Ready through its probes, using its ServiceAccount token', async function () {
      this.timeout(420_000);
      const postRenderer = writePostRenderer(cp().dir);
      const values = {
        httpPort: operatorPort,
        // Probes reach a hostNetwork pod on the node IP; nothing else of this machine should.
        extraArgs: [`--http-address=${node!.ip}:${operatorPort}`, '--version-not-found-grace-seconds=10'],
        extraEnv: [
          { name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' },
          { name: 'KUBERNETES_SERVICE_PORT', value: new URL(cp().server).port },
        ],
      };
      const valuesPath = join(cp().dir, 'values.yaml');
      writeFileSync(valuesPath, yaml.dump(values));
      const install = await helm(['install', RELEASE, CHART_DIR, '--namespace', RELEASE_NAMESPACE, '--create-namespace', '--values', valuesPath, '--post-renderer', postRenderer]);
      assert.equal(install.code, 0, `helm install: ${install.stderr}`);
      const pod = await poll(async () => {
        const current = await operatorPod();
        return current.status?.containerStatuses?.[0]?.ready ? current : undefined;
      }, { what: 'the operator pod Ready', timeoutMs: 300_000, intervalMs: 1_000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await kubectlDescribe('pods', RELEASE_NAMESPACE)}`);
      });
      assert.equal(pod.spec!.nodeName, node!.name);
      const container = pod.status!.containerStatuses![0]!;
      assert.equal(container.ready, true);
      assert.equal(container.restartCount, 0);
      assert.match(container.imageID ?? '', /sha256:/);
      assert.equal(pod.spec!.containers[0]!.image, 'ghcr.io/tfmodel/tfmodel-operator:0.1.0');
      // The readiness probe is the kubelet's: the operator's /readyz on the node IP.
      const ready = await fetch(`http://${node!.ip}:${operatorPort}/readyz`);
      assert.equal(ready.status, 200);
      // Its credentials are the projected ServiceAccount token the kubelet mounted.
      const logs = await cp().kubectl(['logs', '-n', RELEASE_NAMESPACE, pod.metadata!.name!], { check: true });
      assert.doesNotMatch(logs.stdout, /forbidden/i, logs.stdout.slice(-2000));
    });

    it('kubectl apply of each deploy/examples TFModel: the CPU ones Ready through the real readiness probes, answering on their pod IPs what TensorFlow answers; the GPU ones Pending for want of GPUs', async function () {
      this.timeout(600_000);
      await cp().kubectl(['apply', '-f', '-'], { check: true, input: JSON.stringify(modelsVolume(modelsDir)) });
      for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort()) {
        for (const doc of yaml.loadAll(readFileSync(join(EXAMPLES, file), 'utf8')) as TFModel[]) {
          if (!doc) continue;
          // The node has 2 CPUs: the classifier's 3 x 500m would leave one replica Pending.
          if (doc.metadata.name === 'classifier') doc.spec.replicas = 1;
          const applied = await cp().kubectl(['apply', '-n', NAMESPACE, '-f', '-'], { input: JSON.stringify(doc) });
          assert.equal(applied.code, 0, `${file}: ${applied.stderr}`);
        }
      }
      const half = await waitForTFModel('half-plus-two', 'Ready', (m) => condition(m, 'Ready')?.status === 'True', 420_000);
      assert.equal(half.status!.readyReplicas, 2);
      await waitForTFModel('classifier', 'Ready with stable 1 and test 2', (m) => condition(m, 'Ready')?.status === 'True' && labelServed('stable', 1)(m) && labelServed('test', 2)(m));

      const halfPods = await servingPods('half-plus-two');
      assert.equal(halfPods.length, 2);
      for (const pod of halfPods) {
        assert.equal(pod.spec!.nodeName, node!.name);
        assert.ok(inSubnet(pod.status!.podIP!, node!.podSubnet), `${pod.status!.podIP} in ${node!.podSubnet}`);
        assert.equal(pod.status!.containerStatuses![0]!.restartCount, 0);
        assert.deepEqual(await predict(pod.status!.podIP!, 'half_plus_two'), expected.get('half_plus_two/123'));
      }
      const [classifier] = await servingPods('classifier');
      assert.deepEqual(await predict(classifier!.status!.podIP!, 'classifier/labels/stable'), expected.get('classifier/1'));
      assert.deepEqual(await predict(classifier!.status!.podIP!, 'classifier/labels/test'), expected.get('classifier/2'));

      // gpu-fraction.yaml: this node has no nvidia.com/gpu (nor MIG slices); the operator says so.
      const gpuModels = (yaml.loadAll(readFileSync(join(EXAMPLES, 'gpu-fraction.yaml'), 'utf8')) as TFModel[]).filter(Boolean).map((m) => m.metadata.name!);
      assert.ok(gpuModels.length > 0);
      for (const name of gpuModels) {
        const model = await waitForTFModel(name, 'reported Pending for want of GPUs', (m) => /nvidia\.com\/(gpu|mig)/i.test(JSON.stringify(m.status?.conditions ?? [])), 120_000);
        assert.notEqual(condition(model, 'Ready')?.status, 'True');
        await cp().kubectl(['delete', 'tfmodel', name, '-n', NAMESPACE, '--wait=false'], { check: true });
      }
    });
  });

  describe('5. what a serving container actually gets (read from /proc in the pod)', () => {
    it('uid/gid 1000, no capabilities, NoNewPrivs, a seccomp filter, a read-only root; writable only where mounted so', async () => {
      const [pod] = await servingPods('half-plus-two');
      const probe = `
        const fs = require('node:fs');
        const status = fs.readFileSync('/proc/1/status', 'utf8');
        const field = (name) => ((status.match(new RegExp('^' + name + ':\\\\s*(.*)$', 'm')) || [])[1] || '').trim();
        const tryWrite = (dir) => { try { fs.writeFileSync(dir + '/.probe', 'x'); fs.rmSync(dir + '/.probe'); return 'ok'; } catch (e) { return e.code; } };
        const mounts = Object.fromEntries(fs.readFileSync('/proc/1/mountinfo', 'utf8').trim().split('\\n').map((l) => l.split(' ')).map((f) => [f[4], f[5].split(',')[0]]));
        process.stdout.write(JSON.stringify({
          uid: field('Uid'), gid: field('Gid'), groups: field('Groups'), capInh: field('CapInh'), capPrm: field('CapPrm'), capEff: field('CapEff'), capBnd: field('CapBnd'), capAmb: field('CapAmb'),
          noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'),
          mounts: { '/': mounts['/'], '/tmp': mounts['/tmp'], '/etc/tfmodel/config': mounts['/etc/tfmodel/config'], '/mnt/models': mounts['/mnt/models'] },
          write: { '/': tryWrite(''), '/app': tryWrite('/app'), '/tmp': tryWrite('/tmp'), '/etc/tfmodel/config': tryWrite('/etc/tfmodel/config'), '/mnt/models': tryWrite('/mnt/models') },
        }));`;
      const exec = await cp().kubectl(['exec', '-n', NAMESPACE, pod!.metadata!.name!, '--', '/nodejs/bin/node', '-e', probe], { check: true });
      const seen = JSON.parse(exec.stdout) as Record<string, unknown>;
      const none = '0000000000000000';
      assert.deepEqual(seen, {
        uid: '1000\t1000\t1000\t1000',
        gid: '1000\t1000\t1000\t1000',
        groups: '1000',
        capInh: none, capPrm: none, capEff: none, capBnd: none, capAmb: none,
        noNewPrivs: '1',
        seccomp: '2', // SECCOMP_MODE_FILTER: the runtime's default profile
        mounts: { '/': 'ro', '/tmp': 'rw', '/etc/tfmodel/config': 'ro', '/mnt/models': 'ro' },
        write: { '/': 'EROFS', '/app': 'EROFS', '/tmp': 'ok', '/etc/tfmodel/config': 'EROFS', '/mnt/models': 'EROFS' },
      });
    });
  });

  /** The file the kubelet keeps in step with the ConfigMap, as the pod sees it. */
  async function podModelConfig(pod: V1Pod): Promise<string> {
    const read = "process.stdout.write(require('node:fs').readFileSync('/etc/tfmodel/config/model.config', 'utf8'))";
    const { stdout } = await cp().kubectl(['exec', '-n', NAMESPACE, pod.metadata!.name!, '--', '/nodejs/bin/node', '-e', read], { check: true });
    return stdout;
  }

  const classifierVersion = (predictions: number[]): string => {
    if (JSON.stringify(predictions) === JSON.stringify(expected.get('classifier/1'))) return 'v1';
    if (JSON.stringify(predictions) === JSON.stringify(expected.get('classifier/2'))) return 'v2';
    throw new Error(`neither version's answer: ${JSON.stringify(predictions)}`);
  };

  describe('3. label promotion and rollback by kubectl patch --type=merge under load', () => {
    it('a client on /labels/stable sees no failed request and one switch each way; the ConfigMap volume catching up later never flips the label back', async function () {
      this.timeout(600_000);
      const [pod] = await servingPods('classifier');
      const ip = pod!.status!.podIP!;
      for (const [to, from] of [[2, 1], [1, 2]] as const) {
        const load = new Load(async () => [ip], async (target) => classifierVersion(await predict(target, 'classifier/labels/stable')));
        load.start();
        await cp().kubectl(['patch', 'tfmodel', 'classifier', '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { versionLabels: { stable: to } } })], { check: true });
        await waitForTFModel('classifier', `stable served on version ${to}`, labelServed('stable', to));
        // The kubelet rewrites the ConfigMap volume on its own schedule (about a minute later);
        // the label must stay where the operator's push put it through that and after it.
        await poll(async () => (new RegExp(`key: "stable"\\s*value: ${to}\\b`).test(await podModelConfig(pod!)) ? true : undefined), {
          what: `the ConfigMap volume in ${pod!.metadata!.name} to show stable ${to}`,
          timeoutMs: 240_000,
          intervalMs: 2_000,
        });
        await new Promise((resolve) => setTimeout(resolve, 6_000)); // past the server's 1 s config-file poll, had it one
        const { ok, failures, answers } = await load.stop();
        assert.deepEqual(failures, [], failures.slice(0, 5).join('\n'));
        assert.ok(ok > 0);
        assert.deepEqual(collapse(answers), [`v${from}`, `v${to}`], `answers switched more than once: ${collapse(answers).join(' ')}`);
      }
    });
  });

  describe('6. the operator killed mid-promotion', () => {
    it('its pod force-deleted right after a label patch: the replacement pod takes the Lease and finishes the promotion', async function () {
      this.timeout(420_000);
      const before = await operatorPod();
      const [pod] = await servingPods('classifier');
      const load = new Load(async () => [pod!.status!.podIP!], async (target) => classifierVersion(await predict(target, 'classifier/labels/stable')));
      load.start();
      await cp().kubectl(['patch', 'tfmodel', 'classifier', '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { versionLabels: { stable: 2 } } })], { check: true });
      await cp().kubectl(['delete', 'pod', '-n', RELEASE_NAMESPACE, before.metadata!.name!, '--grace-period=0', '--force'], { check: true });
      const model = await waitForTFModel('classifier', 'stable served on version 2 (by the new leader)', labelServed('stable', 2), 300_000);
      assert.equal(condition(model, 'Ready')?.status, 'True');
      const after = await poll(async () => {
        const current = await operatorPod().catch(() => undefined);
        return current && current.metadata!.name !== before.metadata!.name && current.status?.containerStatuses?.[0]?.ready ? current : undefined;
      }, { what: 'the replacement operator pod Ready', timeoutMs: 120_000, intervalMs: 1_000 });
      const lease = await kubectlJson<{ spec: { holderIdentity: string } }>(['get', 'lease', 'tfmodel-operator', '-n', RELEASE_NAMESPACE]);
      assert.equal(lease.spec.holderIdentity, after.metadata!.name);
      const { failures, answers } = await load.stop();
      assert.deepEqual(failures, [], failures.slice(0, 5).join('\n'));
      assert.deepEqual(collapse(answers), ['v1', 'v2']);
    });
  });

  describe('4. rolling a pod-template change, and deleting a pod, under load', () => {
    /** Ready addresses of the Service's EndpointSlices, refreshed every 200 ms: what kube-proxy would route to. */
    class Endpoints {
      private addresses: string[] = [];
      private timer: NodeJS.Timeout | undefined;
      async start(service: string): Promise<void> {
        const api = cp().kubeConfig().makeApiClient(DiscoveryV1Api);
        const refresh = async (): Promise<void> => {
          const slices = await api.listNamespacedEndpointSlice({ namespace: NAMESPACE, labelSelector: `kubernetes.io/service-name=${service}` });
          this.addresses = slices.items.flatMap((slice) => slice.endpoints.filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses));
        };
        await refresh();
        const loop = (): void => {
          this.timer = setTimeout(() => void refresh().catch(() => undefined).finally(() => this.timer && loop()), 200);
        };
        loop();
      }
      current(): string[] {
        return this.addresses;
      }
      stop(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    }

    it('a batching change rolls the Deployment to new pods with no failed request; a deleted pod drains (preStop, then a clean SIGTERM shutdown)', async function () {
      this.timeout(600_000);
      const endpoints = new Endpoints();
      await endpoints.start('half-plus-two-server');
      const want = JSON.stringify(expected.get('half_plus_two/123'));
      const check = async (ip: string): Promise<string> => {
        const got = JSON.stringify(await predict(ip, 'half_plus_two'));
        if (got !== want) throw new Error(`${ip}: ${got}`);
        return 'ok';
      };
      const load = new Load(async () => endpoints.current(), check, 2);
      load.start();
      try {
        const oldPods = (await servingPods('half-plus-two')).map((p) => p.metadata!.name!);
        await cp().kubectl(['patch', 'tfmodel', 'half-plus-two', '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { batching: { maxBatchSize: 8, batchTimeoutMicros: 2000 } } })], { check: true });
        const rolled = await poll(async () => {
          const pods = await servingPods('half-plus-two');
          const fresh = pods.filter((p) => !oldPods.includes(p.metadata!.name!) && p.status?.containerStatuses?.[0]?.ready);
          return fresh.length === 2 && pods.length === 2 ? fresh : undefined;
        }, { what: 'two new half-plus-two pods Ready and the old ones gone', timeoutMs: 420_000, intervalMs: 1_000 });
        for (const pod of rolled) assert.ok(pod.spec!.containers[0]!.args!.includes('--enable_batching=true'), JSON.stringify(pod.spec!.containers[0]!.args));
        await waitForTFModel('half-plus-two', 'Ready on the new pods', (m) => condition(m, 'Ready')?.status === 'True' && m.status?.readyReplicas === 2);

        // Delete one pod with its log followed: the server must log its graceful stop.
        const victim = rolled[0]!.metadata!.name!;
        const logs = cp().kubectl(['logs', '-f', '-n', NAMESPACE, victim], { timeoutMs: 120_000 });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await cp().kubectl(['delete', 'pod', '-n', NAMESPACE, victim, '--wait=true', '--timeout=90s'], { check: true, timeoutMs: 100_000 });
        const events = (await logs).stdout.trim().split('\n').flatMap((line) => {
          try {
            return [JSON.parse(line) as { event: string }];
          } catch {
            return [];
          }
        });
        assert.ok(events.some((e) => e.event === 'stopped'), `no graceful stop in the log: ${events.slice(-5).map((e) => JSON.stringify(e)).join('\n')}`);
        assert.ok(!events.some((e) => e.event === 'shutdown_deadline_exceeded' || e.event === 'shutdown_failed'));
        await waitForTFModel('half-plus-two', 'Ready again with 2 replicas', (m) => condition(m, 'Ready')?.status === 'True' && m.status?.readyReplicas === 2);
      } finally {
        const { ok, failures } = await load.stop();
        endpoints.stop();
        assert.deepEqual(failures, [], failures.slice(0, 5).join('\n'));
        assert.ok(ok > 0);
      }
    });
  });

  describe('2. a long start-up under the probes the operator renders', () => {
    it('a pod whose model takes longer to arrive than the liveness probe allows is never restarted: the startup probe holds it off', async function () {
      this.timeout(600_000);
      const late = join(modelsDir, 'late');
      mkdirSync(late);
      readableByAll(late);
      await cp().kubectl(['apply', '-n', NAMESPACE, '-f', '-'], {
        check: true,
        input: JSON.stringify({ apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', metadata: { name: 'late' }, spec: { basePath: 'pvc://models/late', replicas: 1, resources: { requests: { cpu: '100m', memory: '128Mi' } } } }),
      });
      const pod = await poll(async () => (await servingPods('late')).find((p) => p.status?.containerStatuses?.[0]?.state?.running), { what: 'the late pod running', timeoutMs: 120_000, intervalMs: 1_000 });
      const startedAt = Date.parse(pod.status!.containerStatuses![0]!.state!.running!.startedAt as unknown as string);
      // The server waits for a version before it opens its ports, as tensorflow_model_server does:
      // the liveness probe alone (6 x 10 s) would have restarted it by now.
      const livenessWindowMs = 6 * 10_000;
      await poll(() => (Date.now() - startedAt > livenessWindowMs + 30_000 ? true : undefined), { what: 'past the liveness window', timeoutMs: 200_000, intervalMs: 1_000 });
      const events = await kubectlJson<{ items: Array<{ reason: string; message: string }> }>(['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.name=${pod.metadata!.name}`]);
      assert.ok(events.items.some((e) => e.reason === 'Unhealthy' && /Startup probe failed/.test(e.message)), JSON.stringify(events.items.map((e) => e.message)));
      // The version arrives (written under a non-numeric name, then renamed: the server never sees half a model).
      const source = join(modelsDir, 'classifier', '1');
      cpSync(source, join(late, '.incoming'), { recursive: true });
      readableByAll(late);
      renameSync(join(late, '.incoming'), join(late, '1'));
      const model = await waitForTFModel('late', 'Ready', (m) => condition(m, 'Ready')?.status === 'True', 240_000);
      assert.equal(model.status!.readyReplicas, 1);
      const [now] = await servingPods('late');
      assert.equal(now!.metadata!.name, pod.metadata!.name);
      assert.equal(now!.status!.containerStatuses![0]!.restartCount, 0);
      const after = await kubectlJson<{ items: Array<{ reason: string; message: string }> }>(['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.name=${pod.metadata!.name}`]);
      assert.ok(!after.items.some((e) => e.reason === 'Killing' || /Liveness probe failed/.test(e.message)), JSON.stringify(after.items.map((e) => `${e.reason}: ${e.message}`)));
      assert.deepEqual(await predict(now!.status!.podIP!, 'late'), expected.get('classifier/1'));
      await cp().kubectl(['delete', 'tfmodel', 'late', '-n', NAMESPACE, '--wait=false'], { check: true });
    });
  });

  async function kubectlDescribe(kind: string, namespace: string): Promise<string> {
    const result = await cp().kubectl(['describe', kind, '-n', namespace]);
    return result.stdout.slice(-4000);
  }
});

/** A hostPath PersistentVolume over `dir` and the claim `models` the examples name, bound to it. */
function modelsVolume(dir: string): object {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'e2e-models' },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteMany', 'ReadOnlyMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: '',
          hostPath: { path: dir, type: 'Directory' },
          claimRef: { namespace: NAMESPACE, name: 'models' },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'models', namespace: NAMESPACE },
        spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: 'e2e-models', resources: { requests: { storage: '1Gi' } } },
      },
    ],
  };
}

/**
 * A Helm post-renderer putting the operator's pod on the host network (see the file comment):
 * an executable that reads the rendered manifests on stdin and writes them back changed.
 */
function writePostRenderer(dir: string): string {
  const jsYaml = createRequire(join(REPO_ROOT, 'package.json')).resolve('js-yaml');
  const path = join(dir, 'host-network-post-renderer.cjs');
  writeFileSync(
    path,
    `#!${process.execPath}
const yaml = require(${JSON.stringify(jsYaml)});
let input = '';
process.stdin.setEncoding('utf8').on('data', (chunk) => (input += chunk)).on('end', () => {
  const docs = yaml.loadAll(input).filter(Boolean);
  for (const doc of docs) {
    if (doc.kind === 'Deployment') Object.assign(doc.spec.template.spec, { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
  }
  process.stdout.write(docs.map((doc) => yaml.dump(doc)).join('---\\n'));
});
`,
    { mode: 0o755 },
  );
  return path;
}

/** chmod a+rX, recursively: the serving pods run as uid 1000. */
function readableByAll(path: string): void {
  const mode = statSync(path).mode;
  if (statSync(path).isDirectory()) {
    chmodSync(path, (mode & 0o7777) | 0o555);
    for (const entry of readdirSync(path)) readableByAll(join(path, entry));
  } else {
    chmodSync(path, (mode & 0o7777) | 0o444);
  }
}

function inSubnet(ip: string, cidr: string): boolean {
  const [base] = cidr.split('/');
  return ip.split('.').slice(0, 3).join('.') === base!.split('.').slice(0, 3).join('.');
}


/** `a a b b a` -> `a b a`. */
function collapse(values: readonly string[]): string[] {
  return values.filter((v, i) => i === 0 || values[i - 1] !== v);
}

/**
 * Concurrent clients calling `call` on one of `targets()` (round robin) until stopped; every
 * error is a failure, every answer is recorded in order.
 */
class Load {
  private running = false;
  private loops: Array<Promise<void>> = [];
  private next = 0;
  readonly failures: string[] = [];
  readonly answers: string[] = [];
  ok = 0;

  /** One client keeps answers in the order the server gave them; two keep a roll busier. */
  constructor(
    private readonly targets: () => Promise<readonly string[]>,
    private readonly call: (target: string) => Promise<string>,
    private readonly clients = 1,
  ) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.clients }, async () => {
      while (this.running) {
        try {
          const targets = await this.targets();
          if (targets.length === 0) throw new Error('no target');
          this.answers.push(await this.call(targets[this.next++ % targets.length]!));
          this.ok++;
        } catch (error) {
          this.failures.push(`${new Date().toISOString()} ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    });
  }

  async stop(): Promise<{ ok: number; failures: string[]; answers: string[] }> {
    this.running = false;
    await Promise.all(this.loops);
    return { ok: this.ok, failures: this.failures, answers: this.answers };
  }
}
