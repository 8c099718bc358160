/**
 * The Helm chart charts/tfmodel-operator, rendered with the real helm for each supported
 * combination of values: lint-clean, restricted pod security, exactly the expected RBAC, and
 * the operator's flags, probes, ports and monitoring objects wired together.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../support/corpus.js';
import { CHART_DIR, type KubeObject, NAMESPACE, findHelm, lintChart, renderChart } from './helm.js';
import { adminKeyPermissions, expandRules, leaderElectionPermissions, rulesOf, watchScopePermissions } from './rbac-expectations.js';

interface Values {
  replicaCount?: number;
  watchNamespace?: string;
  leaderElection?: { enabled?: boolean; id?: string };
  adminToken?: { enabled?: boolean };
  serviceMonitor?: { enabled?: boolean; labels?: Record<string, string> };
  grafanaDashboard?: { enabled?: boolean; namespace?: string };
}

const VALUE_SETS: Record<string, Values> = {
  'default values': {},
  'watchNamespace set': { watchNamespace: 'team-a' },
  'watchNamespace = the release namespace': { watchNamespace: NAMESPACE },
  'serviceMonitor and grafanaDashboard enabled': {
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    grafanaDashboard: { enabled: true, namespace: 'monitoring' },
  },
  'leaderElection disabled': { leaderElection: { enabled: false } },
  'adminToken disabled': { adminToken: { enabled: false } },
  'three replicas': { replicaCount: 3 },
};

const CLUSTER_SCOPED_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'CustomResourceDefinition']);

interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: SecurityContext;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  serviceAccountName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: Array<{ name: string; hostPath?: unknown }>;
}

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

/** The pod templates of every workload among `objects`. */
function podTemplates(objects: readonly KubeObject[]): Array<{ owner: string; template: PodTemplate }> {
  const out: Array<{ owner: string; template: PodTemplate }> = [];
  for (const object of objects) {
    const spec = object['spec'] as Record<string, unknown> | undefined;
    const owner = `${object.kind}/${object.metadata.name}`;
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(object.kind)) {
      out.push({ owner, template: spec!['template'] as PodTemplate });
    } else if (object.kind === 'CronJob') {
      const job = (spec!['jobTemplate'] as { spec: { template: PodTemplate } }).spec;
      out.push({ owner, template: job.template });
    } else if (object.kind === 'Pod') {
      out.push({ owner, template: { metadata: object.metadata as PodTemplate['metadata'], spec: spec as unknown as PodSpec } });
    }
  }
  return out;
}

/** The restricted Pod Security Standard, and then some (read-only root filesystem). */
function assertRestricted(owner: string, pod: PodSpec): void {
  assert.notEqual(pod.hostNetwork, true, `${owner}: hostNetwork`);
  assert.notEqual(pod.hostPID, true, `${owner}: hostPID`);
  assert.notEqual(pod.hostIPC, true, `${owner}: hostIPC`);
  for (const volume of pod.volumes ?? []) assert.equal(volume.hostPath, undefined, `${owner}: hostPath volume ${volume.name}`);
  const containers = [...pod.containers, ...(pod.initContainers ?? [])];
  assert.ok(containers.length > 0, `${owner}: no containers`);
  for (const container of containers) {
    const where = `${owner} container ${container.name}`;
    const own = container.securityContext ?? {};
    const podLevel = pod.securityContext ?? {};
    assert.equal(own.runAsNonRoot ?? podLevel.runAsNonRoot, true, `${where}: runAsNonRoot`);
    const uid = own.runAsUser ?? podLevel.runAsUser;
    assert.ok(typeof uid === 'number' && uid > 0, `${where}: runAsUser ${uid}`);
    assert.equal(own.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
    assert.equal(own.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
    assert.notEqual(own.privileged, true, `${where}: privileged`);
    assert.deepEqual(own.capabilities?.drop, ['ALL'], `${where}: capabilities.drop`);
    assert.deepEqual(own.capabilities?.add ?? [], [], `${where}: capabilities.add`);
    assert.equal((own.seccompProfile ?? podLevel.seccompProfile)?.type, 'RuntimeDefault', `${where}: seccompProfile`);
  }
}

/** The flags in src/operator/README.md's flag table. */
function documentedOperatorFlags(): Set<string> {
  const readme = readFileSync(join(REPO_ROOT, 'src', 'operator', 'README.md'), 'utf8');
  return new Set([...readme.matchAll(/^\| `(--[a-z0-9-]+)` \|/gm)].map((m) => m[1]!));
}

function one(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

function ofKind(objects: readonly KubeObject[], ...kinds: string[]): KubeObject[] {
  return objects.filter((o) => kinds.includes(o.kind));
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function operatorContainer(objects: readonly KubeObject[]): Container {
  const template = (one(objects, 'Deployment')['spec'] as { template: PodTemplate }).template;
  assert.equal(template.spec.containers.length, 1);
  return template.spec.containers[0]!;
}

describe('Helm chart charts/tfmodel-operator', function () {
  const { helm, skipReason } = findHelm();
  if (!helm) {
    it.skip(`skipped: ${skipReason}`);
    return;
  }

  it('has appVersion = package.json version, and the CRD in crds/', () => {
    const chart = yaml.load(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { apiVersion: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.appVersion, pkg.version);
  });

  it('refuses more than one replica without leader election', () => {
    assert.throws(() => renderChart(helm, { replicaCount: 2, leaderElection: { enabled: false } }), /replicaCount > 1 needs leaderElection\.enabled/);
  });

  it('refuses unknown and mistyped values (values.schema.json)', () => {
    assert.throws(() => renderChart(helm, { watchNamespaces: 'x' }), /additional properties 'watchNamespaces' not allowed/);
    assert.throws(() => renderChart(helm, { workers: '4' }), /workers/);
  });

  it('needs serviceAccount.name when it does not create the ServiceAccount', () => {
    assert.throws(() => renderChart(helm, { serviceAccount: { create: false } }), /serviceAccount\.name is required/);
    const objects = renderChart(helm, { serviceAccount: { create: false, name: 'existing' } });
    assert.equal(ofKind(objects, 'ServiceAccount').length, 0);
    for (const binding of ofKind(objects, 'ClusterRoleBinding', 'RoleBinding')) {
      assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'existing', namespace: NAMESPACE }]);
    }
  });

  for (const [label, values] of Object.entries(VALUE_SETS)) {
    describe(`with ${label}`, function () {
      let objects: KubeObject[] = [];
      before(function () {
        this.timeout(60_000);
        objects = renderChart(helm, values);
      });

      it('passes helm lint --strict', function () {
        this.timeout(60_000);
        const result = lintChart(helm, values);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.doesNotMatch(result.stdout, /\[(WARNING|ERROR)\]/);
      });

      it('renders objects that each have apiVersion, kind, name and the right namespace', () => {
        assert.ok(objects.length >= 5, `${objects.length} objects`);
        const seen = new Set<string>();
        for (const object of objects) {
          assert.ok(object.apiVersion && object.kind && object.metadata?.name, JSON.stringify(object).slice(0, 200));
          const key = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
          assert.ok(!seen.has(key), `duplicate ${key}`);
          seen.add(key);
          if (CLUSTER_SCOPED_KINDS.has(object.kind)) {
            assert.equal(object.metadata.namespace, undefined, `${key} is cluster-scoped`);
          } else {
            // Set explicitly, so `kubectl apply -f deploy/` does not put it in "default".
            assert.ok(object.metadata.namespace, `${key} has no namespace`);
          }
          assert.equal(object.metadata.labels?.['app.kubernetes.io/part-of'], 'tfmodel', `${key} labels`);
        }
        assert.equal(ofKind(objects, 'CustomResourceDefinition').length, 0, 'the CRD ships in crds/, not templates/');
      });

      it('runs every container non-root, read-only, without privilege escalation or capabilities, seccomp RuntimeDefault', () => {
        const templates = podTemplates(objects);
        assert.equal(templates.length, 1);
        for (const { owner, template } of templates) assertRestricted(owner, template.spec);
      });

      it('grants exactly the expected permissions, in the expected scope', () => {
        const namespaced = Boolean(values.watchNamespace);
        const leaderElection = values.leaderElection?.enabled ?? true;
        const adminToken = values.adminToken?.enabled ?? true;
        const namespacedRoles = ofKind(objects, 'Role').filter((r) => !r.metadata.name.endsWith('-leader-election') && !r.metadata.name.endsWith('-admin-key'));
        const watchRole = namespaced ? namespacedRoles[0]! : one(objects, 'ClusterRole');
        assert.equal(namespacedRoles.length, namespaced ? 1 : 0);
        if (namespaced) assert.equal(watchRole.metadata.namespace, values.watchNamespace);
        assert.deepEqual(expandRules(rulesOf(watchRole)), watchScopePermissions(adminToken));
        if (namespaced) {
          assert.equal(ofKind(objects, 'ClusterRole', 'ClusterRoleBinding').length, 0, 'namespaced mode renders no cluster-wide RBAC');
        }

        const leaderRoles = ofKind(objects, 'Role').filter((r) => r.metadata.name.endsWith('-leader-election'));
        if (leaderElection) {
          assert.equal(leaderRoles.length, 1);
          assert.equal(leaderRoles[0]!.metadata.namespace, NAMESPACE);
          assert.deepEqual(expandRules(rulesOf(leaderRoles[0]!)), leaderElectionPermissions(values.leaderElection?.id ?? 'tfmodel-operator'));
        } else {
          assert.equal(leaderRoles.length, 0, 'no leader-election Role without leader election');
        }

        // The admin key: get on that one Secret only (the operator reads no other Secret).
        const keyRoles = ofKind(objects, 'Role').filter((r) => r.metadata.name.endsWith('-admin-key'));
        if (adminToken) {
          assert.equal(keyRoles.length, 1);
          assert.equal(keyRoles[0]!.metadata.namespace, NAMESPACE);
          const keySecret = operatorContainer(objects).args!.find((a) => a.startsWith('--admin-key-secret='))!.split('=')[1]!;
          assert.deepEqual(expandRules(rulesOf(keyRoles[0]!)), adminKeyPermissions(keySecret));
        } else {
          assert.equal(keyRoles.length, 0, 'no admin key Role without adminToken');
        }
        for (const role of ofKind(objects, 'Role', 'ClusterRole')) {
          for (const permission of expandRules(rulesOf(role)).filter((p) => p.startsWith('/secrets'))) {
            assert.ok(['/secrets:create'].includes(permission) || /^\/secrets#[^:]+-admin-key:get$/.test(permission), `${role.metadata.name}: ${permission}`);
          }
        }

        // No other roles, no wildcards, and every binding points at a rendered role and our ServiceAccount.
        const roles = ofKind(objects, 'Role', 'ClusterRole');
        assert.equal(roles.length, 1 + (leaderElection ? 1 : 0) + (adminToken ? 1 : 0));
        for (const role of roles) assert.doesNotMatch(JSON.stringify(role['rules']), /"\*"/);
        const serviceAccount = one(objects, 'ServiceAccount');
        const bindings = ofKind(objects, 'RoleBinding', 'ClusterRoleBinding');
        assert.equal(bindings.length, roles.length);
        for (const binding of bindings) {
          const ref = binding['roleRef'] as { kind: string; name: string };
          const role = roles.find((r) => r.kind === ref.kind && r.metadata.name === ref.name);
          assert.ok(role, `${binding.metadata.name} refers to a missing ${ref.kind} ${ref.name}`);
          assert.equal(binding.metadata.namespace, role.metadata.namespace);
          assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: NAMESPACE }]);
        }
      });

      it('passes the operator only documented flags, mapped from the values', () => {
        const container = operatorContainer(objects);
        const args = container.args ?? [];
        const documented = documentedOperatorFlags();
        assert.ok(documented.size >= 8, `found ${documented.size} flags in src/operator/README.md`);
        for (const arg of args) assert.ok(documented.has(arg.split('=')[0]!), `${arg} is not in src/operator/README.md`);
        const flag = (name: string) => args.filter((a) => a.startsWith(`${name}=`)).map((a) => a.slice(name.length + 1));
        assert.deepEqual(flag('--namespace'), values.watchNamespace ? [values.watchNamespace] : []);
        assert.deepEqual(flag('--http-address'), ['0.0.0.0:8080']);
        const leaderElection = values.leaderElection?.enabled ?? true;
        assert.deepEqual(flag('--leader-elect'), [String(leaderElection)]);
        assert.deepEqual(flag('--leader-election-namespace'), leaderElection ? [NAMESPACE] : []);
        assert.deepEqual(flag('--server-image'), ['ghcr.io/tfmodel/tfmodel-server:0.1.0']);
        assert.deepEqual(flag('--server-gpu-image'), ['ghcr.io/tfmodel/tfmodel-server-gpu:0.1.0']);
        assert.deepEqual(flag('--workers'), ['4']);
        const adminToken = values.adminToken?.enabled ?? true;
        assert.deepEqual(flag('--admin-token'), [String(adminToken)]);
        assert.deepEqual(flag('--admin-key-secret'), adminToken ? ['tfmodel-operator-admin-key'] : []);
        const deployment = one(objects, 'Deployment');
        assert.equal((deployment['spec'] as { replicas: number }).replicas, values.replicaCount ?? 1);
      });

      it('exposes http on 8080 with /healthz and /readyz probes, and POD_NAMESPACE from the downward API', () => {
        const container = operatorContainer(objects);
        assert.deepEqual(
          container.ports?.map((p) => [p.name, p.containerPort]),
          [['http', 8080]],
        );
        assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
        assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
        const podNamespace = container.env?.find((e) => e.name === 'POD_NAMESPACE');
        assert.deepEqual(podNamespace?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
      });

      it('serves metrics through a Service, scraped by a ServiceMonitor or by pod annotations', () => {
        const deployment = one(objects, 'Deployment');
        const template = (deployment['spec'] as { template: PodTemplate; selector: { matchLabels: Record<string, string> } }).template;
        const selector = (deployment['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
        assert.ok(matches(selector, template.metadata.labels), 'the Deployment selects its own pods');
        const service = one(objects, 'Service');
        const serviceSpec = service['spec'] as { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> };
        assert.ok(matches(serviceSpec.selector, template.metadata.labels), 'the Service selects the operator pods');
        assert.deepEqual(serviceSpec.ports.map((p) => [p.name, p.targetPort]), [['http', 'http']]);

        const monitors = ofKind(objects, 'ServiceMonitor');
        if (values.serviceMonitor?.enabled) {
          assert.equal(monitors.length, 1);
          const spec = monitors[0]!['spec'] as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> };
          assert.ok(matches(spec.selector.matchLabels, service.metadata.labels), 'the ServiceMonitor selects the metrics Service');
          assert.deepEqual(spec.endpoints.map((e) => [e.port, e.path]), [['http', '/metrics']]);
          for (const [k, v] of Object.entries(values.serviceMonitor.labels ?? {})) assert.equal(monitors[0]!.metadata.labels?.[k], v);
          assert.equal(template.metadata.annotations?.['prometheus.io/scrape'], undefined, 'no double scraping');
        } else {
          assert.equal(monitors.length, 0);
          assert.deepEqual(template.metadata.annotations, {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': '8080',
            'prometheus.io/path': '/metrics',
          });
        }
      });

      it('ships the Grafana dashboard only when asked, labelled for the sidecar', () => {
        const dashboards = ofKind(objects, 'ConfigMap');
        if (!values.grafanaDashboard?.enabled) {
          assert.equal(dashboards.length, 0);
          return;
        }
        assert.equal(dashboards.length, 1);
        const configMap = dashboards[0]!;
        assert.equal(configMap.metadata.labels?.['grafana_dashboard'], '1');
        assert.equal(configMap.metadata.namespace, values.grafanaDashboard.namespace ?? NAMESPACE);
        const data = configMap['data'] as Record<string, string>;
        const shipped = readFileSync(join(CHART_DIR, 'files', 'dashboards', 'tfmodel.json'), 'utf8');
        assert.equal(data['tfmodel.json'], shipped.trimEnd());
        assert.equal((JSON.parse(data['tfmodel.json']!) as { uid: string }).uid, 'tfmodel-serving');
      });
    });
  }
});
