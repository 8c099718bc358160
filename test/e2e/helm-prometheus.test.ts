/**
 * The Helm chart and Prometheus, end to end with real components (no mocks):
 *
 * - `helm install` of charts/tfmodel-operator into a real control plane; the chart's operator pod
 *   is scheduled onto a kwok node (where it runs in name only), so the real tfmodel-operator binary
 *   runs here instead, authenticated as the chart's ServiceAccount (a token from
 *   `kubectl create token`) and configured with the chart's own flags. It must reconcile a TFModel
 *   to Ready with no RBAC denial (the chart grants enough), and the ServiceAccount's effective
 *   permissions read back from the apiserver must be exactly the operator's (it grants no more).
 *   `helm uninstall` then removes every object of the release and, as Helm documents for a chart's
 *   crds/ folder, keeps the CRD.
 * - A real Prometheus (Debian `prometheus`) scraping that operator's /metrics and a real
 *   tfmodel-server's TF-Serving-style /monitoring/prometheus/metrics every second; its HTTP API must
 *   report both targets up, the operator's reconciles, and exactly the predict requests sent.
 */
import { AuthorizationV1Api, KubeConfig, type CoreV1Event, type V1ConfigMap, type V1Deployment, type V1Lease, type V1Pod, type V1Service } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { FIELD_MANAGER, type TFModel } from '../../src/operator/api/tfmodel.js';
import { CHART_DIR, type KubeObject, NAMESPACE as RELEASE_NAMESPACE, parseManifests, RELEASE } from '../packaging/helm.js';
import { adminKeyPermissions, expandRules, leaderElectionPermissions, type Permission, type PolicyRule, WATCH_SCOPE_PERMISSIONS } from '../packaging/rbac-expectations.js';
import { HALF_PLUS_TWO_BASE } from '../support/test-models.js';
import { type ControlPlane, controlPlaneBinaries, KWOK_TOLERATION, listeningAddresses, poll, startControlPlane } from './harness/index.js';
import { type OperatorProcess, SERVER_MAIN, ServingPods, startOperatorProcess } from './harness/operator.js';
import { freePorts, httpGet, ManagedProcess, waitForHttp } from './harness/processes.js';

/** Where the TFModel lives: any namespace but the release's (the chart's operator watches all). */
const MODELS_NAMESPACE = 'models';
const HALF_PLUS_TWO = HALF_PLUS_TWO_BASE;
const CRD = 'customresourcedefinitions.apiextensions.k8s.io/tfmodels.serving.tfmodel.dev';
const REQUEST_COUNT = ':tensorflow:serving:request_count';
const REQUEST_LATENCY = ':tensorflow:serving:request_latency';
const PROMETHEUS_PATH = '/monitoring/prometheus/metrics';

interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('e2e Helm chart and Prometheus: helm install, the operator on the chart RBAC, Prometheus scraping', function () {
  let plane: ControlPlane | undefined;
  let operator: OperatorProcess | undefined;
  let servingPods: ServingPods | undefined;
  let server: ManagedProcess | undefined;
  let prometheus: ManagedProcess | undefined;
  let work: string;
  let modelsDir: string;
  /** What the release created, from `helm get manifest`. */
  let releaseObjects: KubeObject[] = [];
  let serviceAccount: string;
  let tokenKubeconfig: string;

  before(async function () {
    this.timeout(50 * 60_000); // a cold build of the binaries, then the start
    const { binaries, skipReason } = controlPlaneBinaries(); // throws under CI=true (it also needs prometheus)
    if (!binaries) {
      console.warn(`skipping: ${skipReason}`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'tfmodel-e2e-helm-'));
    modelsDir = join(work, 'models');
    cpSync(join(HALF_PLUS_TWO, '00000123'), join(modelsDir, 'half', '1'), { recursive: true });
    plane = await startControlPlane({ binaries, nodes: [{ name: 'kwok-0' }, { name: 'kwok-1' }] });
  });

  after(async function () {
    this.timeout(120_000);
    await prometheus?.stop();
    await server?.stop(5_000);
    await servingPods?.stop();
    await operator?.process.stop();
    await plane?.stop();
    if (work && !process.env['TFMODEL_E2E_KEEP_DIR']) rmSync(work, { recursive: true, force: true });
  });

  const cp = (): ControlPlane => plane!;

  /** The real helm binary against the control plane, with its config and cache in the test's dir. */
  function helm(args: readonly string[]): Promise<CommandResult> {
    const home = join(work, 'helm');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
    delete env['KUBECONFIG'];
    return new Promise((resolve) => {
      execFile(cp().binaries.helm, [...args, `--kubeconfig=${cp().kubeconfigPath}`], { env, timeout: 300_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  async function getJson<T>(args: readonly string[]): Promise<T> {
    const { stdout } = await cp().kubectl([...args, '-o', 'json'], { check: true });
    return JSON.parse(stdout) as T;
  }

  async function namespace(name: string): Promise<void> {
    await cp().kubectl(['create', 'namespace', name], { check: true });
    // Pods are rejected until the controller-manager has created the namespace's default SA.
    await poll(async () => ((await cp().kubectl(['get', 'serviceaccount', 'default', '-n', name])).code === 0 ? true : undefined), {
      what: `ServiceAccount ${name}/default`,
      timeoutMs: 60_000,
    });
  }

  /** The operator's log so far (appended to by startOperatorProcess). */
  const operatorLog = (): string => readFileSync(join(work, 'operator.log'), 'utf8');

  describe('helm install, and the operator with only the chart RBAC', () => {
    it('helm install creates the CRD (Established), ServiceAccount, RBAC and a Deployment whose pod runs on a kwok node', async function () {
      this.timeout(300_000);
      // No --wait: the image never runs here. The toleration lets the scheduler put the pod on a
      // kwok node, which reports it Running.
      const valuesPath = join(work, 'values.json');
      writeFileSync(valuesPath, JSON.stringify({ tolerations: [KWOK_TOLERATION] }));
      const install = await helm(['install', RELEASE, CHART_DIR, '--namespace', RELEASE_NAMESPACE, '--create-namespace', '--values', valuesPath]);
      assert.equal(install.code, 0, `helm install failed: ${install.stderr}`);
      assert.match(install.stdout, /STATUS: deployed/);

      await cp().kubectl(['wait', '--for=condition=Established', CRD, '--timeout=120s'], { check: true, timeoutMs: 150_000 });

      const manifest = await helm(['get', 'manifest', RELEASE, '--namespace', RELEASE_NAMESPACE]);
      assert.equal(manifest.code, 0, manifest.stderr);
      releaseObjects = parseManifests(manifest.stdout);
      const kinds = new Set(releaseObjects.map((o) => o.kind));
      for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service']) {
        assert.ok(kinds.has(kind), `the release has a ${kind} (it has ${[...kinds].join(', ')})`);
      }
      // Every object of the release exists in the cluster.
      const found = await cp().kubectl(['get', '-f', '-', '-o', 'json'], { input: manifest.stdout, check: true });
      const items = (JSON.parse(found.stdout) as { items?: KubeObject[] }).items ?? [JSON.parse(found.stdout) as KubeObject];
      assert.deepEqual(items.map(objectKey).sort(), releaseObjects.map(objectKey).sort());

      const sa = releaseObjects.find((o) => o.kind === 'ServiceAccount')!;
      serviceAccount = sa.metadata.name;
      assert.equal(sa.metadata.namespace, RELEASE_NAMESPACE);
      for (const binding of releaseObjects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
        assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: serviceAccount, namespace: RELEASE_NAMESPACE }], `${binding.kind} ${binding.metadata.name} binds the chart's ServiceAccount`);
      }
      const leaderRole = releaseObjects.find((o) => o.kind === 'Role')!;
      assert.equal(leaderRole.metadata.namespace, RELEASE_NAMESPACE, 'the leader-election Role is in the release namespace');

      // The chart's operator pod: scheduled onto a kwok node (it tolerates the taint), Running,
      // and the Deployment counts it available.
      const deploymentName = releaseObjects.find((o) => o.kind === 'Deployment')!.metadata.name;
      const pod = await poll(
        async () => {
          const list = await getJson<{ items: V1Pod[] }>(['get', 'pods', '-n', RELEASE_NAMESPACE, '-l', `app.kubernetes.io/instance=${RELEASE}`]);
          const running = list.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
          if (running) return running;
          throw new Error(list.items.map((p) => `${p.metadata?.name}=${p.status?.phase}@${p.spec?.nodeName ?? '-'}`).join(', ') || 'no pods');
        },
        { what: `the chart's operator pod Running in ${RELEASE_NAMESPACE}`, timeoutMs: 120_000, intervalMs: 500 },
      );
      assert.match(pod.spec!.nodeName!, /^kwok-/);
      assert.equal(pod.spec!.serviceAccountName, serviceAccount);
      assert.ok(pod.spec!.tolerations!.some((t) => t.key === KWOK_TOLERATION.key && t.effect === KWOK_TOLERATION.effect));
      await poll(
        async () => {
          const deployment = await getJson<V1Deployment>(['get', 'deployment', deploymentName, '-n', RELEASE_NAMESPACE]);
          if (deployment.status?.availableReplicas === 1) return deployment;
          throw new Error(JSON.stringify(deployment.status ?? null));
        },
        { what: `Deployment ${deploymentName} available`, timeoutMs: 120_000, intervalMs: 500 },
      );
    });

    it('the real operator, authenticated as the chart ServiceAccount and run with the chart flags, reconciles a TFModel to Ready with no RBAC denial', async function () {
      this.timeout(300_000);
      const token = await cp().kubectl(['create', 'token', serviceAccount, '-n', RELEASE_NAMESPACE, '--duration=1h'], { check: true });
      tokenKubeconfig = cp().kubeconfigForToken(token.stdout.trim());
      const whoami = await cp().kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: tokenKubeconfig, check: true });
      assert.equal(whoami.stdout, `system:serviceaccount:${RELEASE_NAMESPACE}:${serviceAccount}`);

      // The flags the chart gives its operator, except where it listens (loopback here).
      const deployment = releaseObjects.find((o) => o.kind === 'Deployment') as unknown as V1Deployment;
      const chartArgs = deployment.spec!.template.spec!.containers[0]!.args!;
      const flag = (name: string): string | undefined => chartArgs.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
      const leaseNamespace = flag('leader-election-namespace');
      const leaseName = flag('leader-election-id');
      assert.equal(leaseNamespace, RELEASE_NAMESPACE, 'the chart puts the Lease in the release namespace, where its leader-election Role is');
      assert.equal(flag('leader-elect'), 'true');
      assert.ok(leaseName);

      await namespace(MODELS_NAMESPACE);
      const addressMap = join(work, 'pod-addresses.json');
      operator = await startOperatorProcess({
        logPath: join(work, 'operator.log'),
        kubeconfig: tokenKubeconfig,
        podAddressMap: addressMap,
        leaderElectionNamespace: leaseNamespace,
        args: chartArgs.filter((a) => !a.startsWith('--http-address=') && !a.startsWith('--leader-election-namespace=')),
      });

      // It leads through the Lease the chart's Role covers.
      const lease = await poll(
        async () => {
          const found = await getJson<V1Lease>(['get', 'lease', leaseName!, '-n', leaseNamespace!]);
          return found.spec?.holderIdentity ? found : undefined;
        },
        { what: `Lease ${leaseNamespace}/${leaseName} held`, timeoutMs: 60_000, intervalMs: 500, process: operator.process },
      );
      assert.ok(lease.spec!.renewTime);

      const tfmodel: TFModel = {
        apiVersion: 'serving.tfmodel.dev/v1alpha1',
        kind: 'TFModel',
        metadata: { name: 'half', namespace: MODELS_NAMESPACE },
        spec: { modelName: 'half', basePath: join(modelsDir, 'half'), versionLabels: { stable: 1 }, replicas: 1, tolerations: [KWOK_TOLERATION] } as TFModel['spec'],
      };
      await cp().kubectl(['apply', '-f', '-'], { input: JSON.stringify(tfmodel), check: true });
      servingPods = new ServingPods({ plane: cp(), namespace: MODELS_NAMESPACE, tfmodel: 'half', dir: join(work, 'pods'), addressMapPath: addressMap });
      servingPods.start();

      const outcome = await poll(
        async (): Promise<TFModel | { denied: string[] }> => {
          // An RBAC denial never heals: report it at once, with what was denied.
          const denied = rbacDenials(operatorLog());
          if (denied.length > 0) return { denied };
          const found = await getJson<TFModel>(['get', 'tfmodel', 'half', '-n', MODELS_NAMESPACE]);
          const ready = found.status?.conditions?.find((c) => c.type === 'Ready');
          if (found.status?.observedGeneration === found.metadata.generation && ready?.status === 'True') return found;
          throw new Error(`${JSON.stringify(found.status ?? null)}; serving pods: ${servingPods?.error ?? 'ok'}`);
        },
        { what: 'TFModel half Ready with observedGeneration current', timeoutMs: 180_000, intervalMs: 500, process: operator.process },
      );
      if ('denied' in outcome) assert.fail(`the chart's RBAC denied the operator:\n${outcome.denied.join('\n')}`);
      const model = outcome;
      assert.equal(model.status!.readyReplicas, 1);

      // What it applied (server-side apply under its field manager), owned by the TFModel.
      const withManagedFields = ['-n', MODELS_NAMESPACE, '--show-managed-fields'];
      const owned: Array<V1ConfigMap | V1Deployment | V1Service> = [
        await getJson<V1ConfigMap>(['get', 'configmap', 'half-server-config', ...withManagedFields]),
        await getJson<V1Deployment>(['get', 'deployment', 'half-server', ...withManagedFields]),
        await getJson<V1Service>(['get', 'service', 'half-server', ...withManagedFields]),
      ];
      for (const object of owned) {
        assert.equal(object.metadata!.ownerReferences?.[0]?.uid, model.metadata.uid, `${object.kind} is owned by the TFModel`);
        assert.ok(object.metadata!.managedFields?.some((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply'), `${object.kind} applied by ${FIELD_MANAGER}`);
      }
      // The admin token Secret it created (create only: it cannot read it back), owned by the TFModel and mounted by the pods.
      const tokenSecrets = await getJson<{ items: Array<{ metadata: { name: string; ownerReferences?: Array<{ uid: string }> } }> }>(
        ['get', 'secrets', '-n', MODELS_NAMESPACE, '-l', 'app.kubernetes.io/instance=half,app.kubernetes.io/component=admin-token'],
      );
      assert.equal(tokenSecrets.items.length, 1);
      assert.equal(tokenSecrets.items[0]!.metadata.ownerReferences?.[0]?.uid, model.metadata.uid);
      const podVolumes = (owned[1] as V1Deployment).spec!.template.spec!.volumes ?? [];
      assert.ok(podVolumes.some((v) => v.secret?.secretName === tokenSecrets.items[0]!.metadata.name), 'the pods mount it');
      // Events are allowed too: the operator recorded one when the TFModel became Ready.
      await poll(
        async () => {
          const events = await getJson<{ items: CoreV1Event[] }>(['get', 'events', '-n', MODELS_NAMESPACE, '--field-selector', 'involvedObject.name=half']);
          return events.items.find((e) => e.reason === 'Ready' && e.source?.component === FIELD_MANAGER);
        },
        { what: 'a Ready event from the operator', timeoutMs: 60_000, intervalMs: 500 },
      );

      assert.deepEqual(rbacDenials(operatorLog()), [], 'no RBAC denial in the operator log');
      assert.match(operatorLog(), /"event":"leading"/);
    });

    it("the chart ServiceAccount's effective permissions are exactly the operator's, nothing more", async function () {
      this.timeout(180_000);
      const authz = loadKubeConfig(tokenKubeconfig).makeApiClient(AuthorizationV1Api);
      /** Resource permissions in `namespace` (cluster-wide ones included), as the apiserver's authorizer lists them. */
      const effective = async (ns: string): Promise<Permission[]> => {
        const review = await authz.createSelfSubjectRulesReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } } });
        assert.equal(review.status!.incomplete, false, review.status!.evaluationError);
        // Every authenticated user may ask who it is and what it may do (system:basic-user).
        const rules = review.status!.resourceRules.filter((r) => !r.apiGroups?.every((g) => g === 'authorization.k8s.io' || g === 'authentication.k8s.io'));
        return expandRules(rules as PolicyRule[]);
      };
      assert.deepEqual(await effective(MODELS_NAMESPACE), WATCH_SCOPE_PERMISSIONS);
      const deployment = releaseObjects.find((o) => o.kind === 'Deployment') as unknown as V1Deployment;
      const operatorArgs = deployment.spec!.template.spec!.containers[0]!.args!;
      const id = operatorArgs.find((a) => a.startsWith('--leader-election-id='))!.split('=')[1]!;
      const keySecret = operatorArgs.find((a) => a.startsWith('--admin-key-secret='))!.split('=')[1]!;
      assert.deepEqual(await effective(RELEASE_NAMESPACE), [...new Set([...WATCH_SCOPE_PERMISSIONS, ...leaderElectionPermissions(id), ...adminKeyPermissions(keySecret)])].sort());

      // The same with the real kubectl: what it needs, yes; what it must not do, no.
      const canI = async (args: readonly string[]): Promise<string> => {
        const result = await cp().kubectl(['auth', 'can-i', ...args], { kubeconfig: tokenKubeconfig });
        const answer = result.stdout.trim();
        assert.ok(answer === 'yes' || answer === 'no', `kubectl auth can-i ${args.join(' ')}: ${result.stderr}`);
        return answer;
      };
      const allowed: string[][] = [
        ['list', 'pods', '--all-namespaces'],
        ['patch', 'tfmodels.serving.tfmodel.dev', '--subresource=status', '-n', MODELS_NAMESPACE],
        ['create', 'deployments.apps', '-n', MODELS_NAMESPACE],
        ['update', `leases.coordination.k8s.io/${id}`, '-n', RELEASE_NAMESPACE],
        // The admin tokens: create Secrets (never read one back), read the operator's own key only.
        ['create', 'secrets', '-n', MODELS_NAMESPACE],
        ['create', 'secrets', '-n', RELEASE_NAMESPACE],
        ['get', `secrets/${keySecret}`, '-n', RELEASE_NAMESPACE],
      ];
      const denied: string[][] = [
        ['delete', 'nodes'],
        ['get', 'nodes'],
        ['get', 'secrets', '-n', MODELS_NAMESPACE],
        ['get', `secrets/${keySecret}`, '-n', MODELS_NAMESPACE],
        ['get', 'secrets/half-server-admin-token', '-n', MODELS_NAMESPACE],
        ['get', 'secrets/another-secret', '-n', RELEASE_NAMESPACE],
        ['update', `secrets/${keySecret}`, '-n', RELEASE_NAMESPACE],
        ['patch', 'secrets', '-n', MODELS_NAMESPACE],
        ['update', 'secrets', '-n', MODELS_NAMESPACE],
        ['delete', 'secrets', '-n', MODELS_NAMESPACE],
        ['delete', `secrets/${keySecret}`, '-n', RELEASE_NAMESPACE],
        ['watch', 'secrets', '-n', MODELS_NAMESPACE],
        ['get', 'secrets', '--all-namespaces'],
        ['list', 'secrets', '--all-namespaces'],
        ['create', 'serviceaccounts', '--subresource=token', '-n', RELEASE_NAMESPACE],
        ['delete', 'deployments.apps', '-n', MODELS_NAMESPACE],
        ['update', 'deployments.apps', '-n', MODELS_NAMESPACE],
        ['delete', 'configmaps', '-n', MODELS_NAMESPACE],
        ['create', 'pods', '-n', MODELS_NAMESPACE],
        ['delete', 'pods', '-n', MODELS_NAMESPACE],
        ['create', 'pods', '--subresource=exec', '-n', MODELS_NAMESPACE],
        ['create', 'tfmodels.serving.tfmodel.dev', '-n', MODELS_NAMESPACE],
        ['patch', 'tfmodels.serving.tfmodel.dev', '-n', MODELS_NAMESPACE],
        ['delete', 'tfmodels.serving.tfmodel.dev', '-n', MODELS_NAMESPACE],
        ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
        ['create', 'leases.coordination.k8s.io', '-n', MODELS_NAMESPACE],
        ['update', 'leases.coordination.k8s.io/kube-scheduler', '-n', 'kube-system'],
        ['update', 'leases.coordination.k8s.io/another-lease', '-n', RELEASE_NAMESPACE],
        ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
        ['escalate', 'clusterroles.rbac.authorization.k8s.io'],
        ['impersonate', 'users'],
        ['*', '*'],
      ];
      for (const args of allowed) assert.equal(await canI(args), 'yes', `the chart ServiceAccount may ${args.join(' ')}`);
      for (const args of denied) assert.equal(await canI(args), 'no', `the chart ServiceAccount must not ${args.join(' ')}`);
    });
  });

  describe('Prometheus scraping the operator and a tfmodel-server', () => {
    let prometheusUrl: string;

    async function query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
      const response = await httpGet(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, { timeoutMs: 10_000 });
      const body = JSON.parse(response.body) as { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (response.status !== 200 || body.status !== 'success') throw new Error(`query ${promql}: HTTP ${response.status} ${body.error ?? response.body.slice(0, 300)}`);
      assert.equal(body.data!.resultType, 'vector');
      return body.data!.result;
    }

    it('reports both targets up, the operator reconciles, and exactly the predict requests sent', async function () {
      this.timeout(300_000);
      assert.ok(operator, 'the operator from the previous tests runs');

      // A real tfmodel-server with TF Serving's Prometheus exporter on (--monitoring_config_file).
      const monitoringConfig = join(work, 'monitoring.config');
      writeFileSync(monitoringConfig, `prometheus_config {\n  enable: true\n  path: "${PROMETHEUS_PATH}"\n}\n`);
      const [grpcPort, restPort, prometheusPort] = (await freePorts(3)) as [number, number, number];
      server = await ManagedProcess.spawn('tfmodel-server', process.execPath, [
        SERVER_MAIN,
        `--port=${grpcPort}`,
        `--rest_api_port=${restPort}`,
        '--bind_address=127.0.0.1',
        '--model_name=half_plus_two',
        `--model_base_path=${HALF_PLUS_TWO}`,
        `--monitoring_config_file=${monitoringConfig}`,
      ], { logPath: join(work, 'server.log') });
      const serverUrl = `http://127.0.0.1:${restPort}`;
      await poll(
        async () => {
          const status = await httpGet(`${serverUrl}/v1/models/half_plus_two`);
          return /"AVAILABLE"/.test(status.body) ? true : undefined;
        },
        { what: 'tfmodel-server serving half_plus_two', timeoutMs: 120_000, intervalMs: 500, process: server },
      );

      // Prometheus: loopback only, its own temp TSDB, both targets every second.
      const operatorAddress = new URL(operator!.url).host;
      const config = {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          { job_name: 'tfmodel-operator', metrics_path: '/metrics', static_configs: [{ targets: [operatorAddress] }] },
          { job_name: 'tfmodel-server', metrics_path: PROMETHEUS_PATH, static_configs: [{ targets: [`127.0.0.1:${restPort}`] }] },
        ],
      };
      const prometheusDir = join(work, 'prometheus');
      mkdirSync(join(prometheusDir, 'data'), { recursive: true });
      const configPath = join(prometheusDir, 'prometheus.yml');
      writeFileSync(configPath, yaml.dump(config));
      const check = await run(cp().binaries.promtool, ['check', 'config', configPath]);
      assert.equal(check.code, 0, `promtool check config: ${check.stdout}${check.stderr}`);
      prometheus = await ManagedProcess.spawn('prometheus', cp().binaries.prometheus, [
        `--config.file=${configPath}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
        `--storage.tsdb.path=${join(prometheusDir, 'data')}`,
        '--storage.tsdb.retention.time=1h',
      ], { logPath: join(prometheusDir, 'prometheus.log'), cwd: prometheusDir });
      prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
      await waitForHttp(`${prometheusUrl}/-/ready`, { what: 'Prometheus /-/ready', timeoutMs: 120_000, intervalMs: 500, process: prometheus });
      const addresses = listeningAddresses(prometheus.pid);
      assert.ok(addresses.length > 0 && addresses.every((a) => a.startsWith('127.0.0.1:')), `Prometheus listens on loopback only: ${addresses.join(', ')}`);

      // Requests to count: predictions through the REST API. The server counts its model-status
      // answers too (the readiness polls above), so the baseline is what it exports now.
      const OK_REQUESTS = { model_name: 'half_plus_two', status: 'OK' };
      const baseline = counterSum((await httpGet(`${serverUrl}${PROMETHEUS_PATH}`)).body, REQUEST_COUNT, OK_REQUESTS);
      const sent = 7;
      for (let i = 0; i < sent; i++) {
        const response = await fetch(`${serverUrl}/v1/models/half_plus_two:predict`, { method: 'POST', body: JSON.stringify({ instances: [i] }) });
        const body = (await response.json()) as { predictions?: number[] };
        assert.equal(response.status, 200);
        assert.deepEqual(body.predictions, [0.5 * i + 2]);
      }

      // Both targets up, as the targets API and the `up` series say.
      await poll(
        async () => {
          const response = await httpGet(`${prometheusUrl}/api/v1/targets?state=active`, { timeoutMs: 10_000 });
          const targets = (JSON.parse(response.body) as { data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }> } }).data.activeTargets;
          const health = Object.fromEntries(targets.map((t) => [t.labels['job'], t]));
          if (health['tfmodel-operator']?.health === 'up' && health['tfmodel-server']?.health === 'up') return targets;
          throw new Error(JSON.stringify(targets.map((t) => ({ job: t.labels['job'], url: t.scrapeUrl, health: t.health, error: t.lastError }))));
        },
        { what: 'both Prometheus targets up', timeoutMs: 120_000, intervalMs: 1_000, process: prometheus },
      );
      const up = await query('up');
      assert.deepEqual(Object.fromEntries(up.map((s) => [s.metric['job'], s.value[1]])), { 'tfmodel-operator': '1', 'tfmodel-server': '1' });

      // The operator's reconciles (of the TFModel above) reached Prometheus.
      const reconciles = await poll(
        async () => {
          const result = await query('sum(tfmodel_operator_reconcile_total)');
          const value = Number(result[0]?.value[1]);
          return value > 0 ? value : undefined;
        },
        { what: 'tfmodel_operator_reconcile_total > 0 in Prometheus', timeoutMs: 60_000, intervalMs: 1_000, process: prometheus },
      );
      assert.ok(reconciles > 0);
      // By result (success, error, requeue), as the operator exports it.
      const byResult = await query('tfmodel_operator_reconcile_total{job="tfmodel-operator"}');
      assert.deepEqual(byResult.map((s) => s.metric['result']).sort(), ['error', 'requeue', 'success']);

      // TF Serving's request counter, under its own name and labels (plus our signature_name and
      // version_label), counts what was sent; its latency histogram, by API, counts exactly the
      // predictions, all on serving_default.
      const counted = await poll(
        async () => {
          const result = await query(`${REQUEST_COUNT}{job="tfmodel-server",model_name="half_plus_two"}`);
          const ok = result.filter((s) => s.metric['status'] === 'OK').reduce((sum, s) => sum + Number(s.value[1]), 0);
          if (ok === baseline + sent) return result;
          throw new Error(JSON.stringify(result));
        },
        { what: `sum(${REQUEST_COUNT}{model_name="half_plus_two",status="OK"}) == ${baseline} + ${sent} in Prometheus`, timeoutMs: 60_000, intervalMs: 1_000, process: prometheus },
      );
      assert.deepEqual(counted.map((s) => s.metric['status']), counted.map(() => 'OK'), `only OK requests were sent: ${JSON.stringify(counted)}`);
      const predicted = counted.find((s) => s.metric['signature_name'] === 'serving_default');
      assert.ok(predicted && Number(predicted.value[1]) >= sent, `the predictions are counted under serving_default: ${JSON.stringify(counted)}`);
      const predictions = await query(`${REQUEST_LATENCY}_count{job="tfmodel-server",model_name="half_plus_two",API="predict",entrypoint="REST"}`);
      assert.equal(predictions.length, 1, JSON.stringify(predictions));
      assert.equal(Number(predictions[0]!.value[1]), sent);
      // And Prometheus holds what the server itself exports.
      const page = (await httpGet(`${serverUrl}${PROMETHEUS_PATH}`)).body;
      assert.equal(counterSum(page, REQUEST_COUNT, OK_REQUESTS), baseline + sent);

      await prometheus.stop();
      assert.equal(prometheus.running, false);
    });
  });

  describe('helm uninstall', () => {
    it('removes every object of the release and keeps the CRD, as Helm does for a chart crds/ folder', async function () {
      this.timeout(300_000);
      assert.ok(releaseObjects.length > 0, 'the release was installed');
      // The operator's credentials go with the release: stop it first.
      await servingPods?.stop();
      await operator?.process.stop();

      const uninstall = await helm(['uninstall', RELEASE, '--namespace', RELEASE_NAMESPACE]);
      assert.equal(uninstall.code, 0, `helm uninstall failed: ${uninstall.stderr}`);
      const manifest = releaseObjects.map((o) => yaml.dump(o)).join('---\n');
      await poll(
        async () => {
          const left = await cp().kubectl(['get', '-f', '-', '--ignore-not-found', '-o', 'name'], { input: manifest, check: true });
          const pods = await cp().kubectl(['get', 'pods,replicasets', '-n', RELEASE_NAMESPACE, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name'], { check: true });
          const remaining = `${left.stdout}${pods.stdout}`.trim();
          if (remaining === '') return true;
          throw new Error(`still there: ${remaining.replace(/\n/g, ', ')}`);
        },
        { what: 'every object of the release (and its ReplicaSet and pod) gone', timeoutMs: 120_000, intervalMs: 1_000 },
      );
      const releases = await helm(['list', '--all', '--namespace', RELEASE_NAMESPACE, '-o', 'json']);
      assert.equal(releases.code, 0, releases.stderr);
      assert.deepEqual(JSON.parse(releases.stdout), []);

      // crds/ is installed once and never deleted by Helm: the CRD and the TFModels stay.
      const crd = await getJson<{ status: { conditions: Array<{ type: string; status: string }> } }>(['get', CRD]);
      assert.ok(crd.status.conditions.some((c) => c.type === 'Established' && c.status === 'True'));
      await getJson<TFModel>(['get', 'tfmodel', 'half', '-n', MODELS_NAMESPACE]);

      // The ServiceAccount is gone, and with it every token minted for it. The apiserver's token
      // authenticator sees the deletion through its informer a moment later; until then the
      // RBAC bindings are already gone, so the token is refused either way.
      await poll(async () => {
        const rejected = await cp().kubectl(['get', 'tfmodels', '-n', MODELS_NAMESPACE], { kubeconfig: tokenKubeconfig });
        assert.notEqual(rejected.code, 0, 'a token of a deleted ServiceAccount was accepted');
        if (/Unauthorized|must be logged in/i.test(rejected.stderr)) return true;
        assert.match(rejected.stderr, /Forbidden/);
        return undefined;
      }, { what: 'the deleted ServiceAccount\'s token to be rejected as Unauthorized', timeoutMs: 60_000, intervalMs: 500 });
    });
  });
});

/** The sum of the samples of `name` on a Prometheus text page whose labels include `labels`; 0 when none. */
function counterSum(page: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const sample = line.slice(name.length + 1, close).split(',');
    if (wanted.every((pair) => sample.includes(pair))) sum += Number(line.slice(close + 2));
  }
  return sum;
}

/**
 * The RBAC denials in an operator log: "<user> cannot <verb> <resource> in API group <group> in
 * the namespace <ns>" from each 403 the apiserver answered (any other 403 line as it is).
 */
function rbacDenials(log: string): string[] {
  const denials = new Set<string>();
  for (const line of log.split('\n')) {
    if (!/forbidden|\b403\b/i.test(line)) continue;
    const text = line.replace(/\\+"/g, '"');
    const match = /User "([^"]+)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]*)")?/.exec(text);
    denials.add(match ? `${match[1]} cannot ${match[2]} ${match[3]} in API group "${match[4]}"${match[5] ? ` in namespace ${match[5]}` : ' (cluster-wide)'}` : line.slice(0, 500));
  }
  return [...denials];
}

function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function loadKubeConfig(path: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config;
}

/** Runs a short command to completion; never throws on a non-zero exit. */
function run(command: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, [...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
