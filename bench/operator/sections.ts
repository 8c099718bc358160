/**
 * The three measured sections of `npm run bench:operator`, each with a baseline taken on the same
 * control plane in the same run (interleaved with the trials where the section has trials).
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1ConfigMap } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, PLURAL, VERSION, type TFModel } from '../../src/operator/api/tfmodel.js';
import { type ControlPlane, KWOK_TOLERATION, poll } from '../../test/e2e/harness/index.js';
import { type OperatorProcess, ServingPods } from '../../test/e2e/harness/operator.js';
import {
  type BenchConfig,
  cpuSeconds,
  forEachConcurrently,
  HALF_PLUS_THREE,
  HALF_PLUS_TWO,
  metricTotal,
  pollUntil,
  progress,
  type RssSampler,
  scrape,
  sleep,
  summarize,
  type Summary,
} from './support.js';

export interface Cluster {
  readonly plane: ControlPlane;
  readonly operator: OperatorProcess;
  readonly rss: RssSampler;
  readonly work: string;
  readonly addressMap: string;
  readonly config: BenchConfig;
}

interface Clients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
}

function clients(plane: ControlPlane): Clients {
  const kc = plane.kubeConfig();
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** A namespace whose default ServiceAccount exists (pods are refused before it does). */
export async function createNamespace(plane: ControlPlane, namespace: string): Promise<void> {
  await plane.kubectl(['create', 'namespace', namespace], { check: true });
  await poll(async () => ((await plane.kubectl(['get', 'serviceaccount', 'default', '-n', namespace])).code === 0 ? true : undefined), {
    what: `ServiceAccount ${namespace}/default`,
    timeoutMs: 60_000,
  });
}

function tfmodel(namespace: string, name: string, spec: Record<string, unknown>): TFModel {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'TFModel',
    metadata: { name, namespace },
    spec: { tolerations: [KWOK_TOLERATION], ...spec } as TFModel['spec'],
  };
}

function configMap(namespace: string, name: string): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { 'model.config': `model_config_list { config { name: "${name}" } }` } };
}

const exists = (promise: Promise<unknown>): Promise<boolean> => promise.then(() => true, (error: unknown) => {
  if ((error as { code?: number }).code === 404) return false;
  throw error;
});

async function getTFModel(c: Clients, namespace: string, name: string): Promise<TFModel> {
  return (await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as TFModel;
}

// ---------------------------------------------------------------------------------------------
// 1. kubectl apply of one TFModel -> its ConfigMap, Deployment and Service exist.

export interface ApplyResults {
  readonly namespace: string;
  readonly pollMs: number;
  readonly replicas: number;
  /** kubectl apply of a TFModel until its three owned objects can be read (ms). */
  readonly tfmodel: Summary;
  /** kubectl apply of a plain ConfigMap until it can be read (ms). */
  readonly baseline: Summary;
  /** How long the kubectl process itself ran, for both kinds (ms). */
  readonly kubectlTfmodel: Summary;
  readonly kubectlBaseline: Summary;
  readonly tfmodelRaw: number[];
  readonly baselineRaw: number[];
}

export async function runApplySection(cluster: Cluster): Promise<ApplyResults> {
  const { plane, config } = cluster;
  const namespace = 'bench-apply';
  await createNamespace(plane, namespace);
  const c = clients(plane);
  const tfmodelTimes: number[] = [];
  const baselineTimes: number[] = [];
  const kubectlTf: number[] = [];
  const kubectlBase: number[] = [];
  const options = (what: string, since: number) => ({ since, intervalMs: config.pollMs, timeoutMs: 60_000, what });

  // One untimed warm-up of each (kubectl's discovery cache, the operator's first reconcile).
  for (let i = -1; i < config.applyTrials; i++) {
    const suffix = i < 0 ? 'warmup' : String(i);
    // Baseline: the same kubectl apply + polled read, of an object nothing has to react to.
    {
      const name = `plain-${suffix}`;
      const since = performance.now();
      const applied = plane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(configMap(namespace, name)), check: true }).then(() => performance.now() - since);
      const seen = await pollUntil(() => exists(c.core.readNamespacedConfigMap({ namespace, name })), options(`ConfigMap ${name}`, since));
      const kubectlMs = await applied;
      if (i >= 0) {
        baselineTimes.push(seen);
        kubectlBase.push(kubectlMs);
      }
    }
    {
      const name = `apply-${suffix}`;
      const since = performance.now();
      const manifest = tfmodel(namespace, name, { modelName: 'half', basePath: join(cluster.work, 'models', 'half'), replicas: 0 });
      const applied = plane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest), check: true }).then(() => performance.now() - since);
      const seen = await pollUntil(async () => {
        const found = await Promise.all([
          exists(c.core.readNamespacedConfigMap({ namespace, name: `${name}-server-config` })),
          exists(c.apps.readNamespacedDeployment({ namespace, name: `${name}-server` })),
          exists(c.core.readNamespacedService({ namespace, name: `${name}-server` })),
        ]);
        return found.every(Boolean);
      }, options(`the owned objects of TFModel ${name}`, since));
      const kubectlMs = await applied;
      if (i >= 0) {
        tfmodelTimes.push(seen);
        kubectlTf.push(kubectlMs);
      }
    }
    await sleep(250); // each trial starts with the previous one's reconcile finished
    if (i >= 0 && (i + 1) % 10 === 0) progress(`apply: ${i + 1}/${config.applyTrials}`);
  }
  return {
    namespace,
    pollMs: config.pollMs,
    replicas: 0,
    tfmodel: summarize(tfmodelTimes),
    baseline: summarize(baselineTimes),
    kubectlTfmodel: summarize(kubectlTf),
    kubectlBaseline: summarize(kubectlBase),
    tfmodelRaw: tfmodelTimes,
    baselineRaw: baselineTimes,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. 1000 TFModels created at once -> all reconciled, with the operator's peak RSS.

export interface BulkResults {
  readonly count: number;
  readonly concurrency: number;
  readonly replicas: number;
  readonly timeoutS: number;
  /** Creating the TFModels (all create calls answered), from the first create (ms). */
  readonly createMs: number;
  /** From the first create until every TFModel has observedGeneration == generation and its three owned objects (ms). */
  readonly reconciledMs: number;
  /** From the first create until every TFModel's status had caught up (before the owned-object check) (ms). */
  readonly statusCaughtUpMs: number;
  /** Baseline: creating as many ConfigMaps the same way until a list shows all of them (ms). */
  readonly baselineCreateMs: number;
  readonly baselineMs: number;
  readonly peakRssMb: number;
  readonly rssBeforeMb: number;
  readonly maxWorkqueueDepth: number;
  /** Largest V8 heap (used, total) seen in the operator's /metrics during the burst (MB). */
  readonly maxHeapUsedMb: number;
  readonly maxHeapTotalMb: number;
  /** CPU seconds used during the burst (from the first create to the end of the wait) by each process. */
  readonly cpuSeconds: Record<string, number>;
  /** apiserver_request_total during the burst, by verb (everyone's requests: operator, controllers, this bench). */
  readonly apiserverRequests: Record<string, number>;
  /**
   * TCP connections to the apiserver port in TIME_WAIT right after the burst (each lingers 60 s):
   * thousands mean clients open a new connection per request instead of keeping one alive.
   */
  readonly timeWaitConnections: number;
  /** TFModels reconciled when the wait ended (== count unless it timed out). */
  readonly reconciledCount: number;
  /** Why the wait ended early, if it did. */
  readonly failure?: string;
  readonly metrics: {
    readonly reconciles: number;
    readonly reconcileErrors: number;
    readonly retries: number;
    readonly meanReconcileMs: number;
  };
}

async function listNames(list: () => Promise<{ items: Array<{ metadata?: { name?: string } }> }>): Promise<Set<string>> {
  return new Set((await list()).items.map((item) => item.metadata?.name ?? ''));
}

export async function runBulkSection(cluster: Cluster): Promise<BulkResults> {
  const { plane, config, operator, rss } = cluster;
  const c = clients(plane);
  const count = config.bulkCount;
  const concurrency = config.bulkConcurrency;
  const pad = (i: number): string => String(i).padStart(4, '0');

  // Baseline first, in its own namespace.
  const baseNs = 'bench-bulk-plain';
  await createNamespace(plane, baseNs);
  progress(`bulk baseline: creating ${count} ConfigMaps, ${concurrency} at a time`);
  const baseStart = performance.now();
  await forEachConcurrently(count, concurrency, async (i) => {
    await c.core.createNamespacedConfigMap({ namespace: baseNs, body: configMap(baseNs, `plain-${pad(i)}`) });
  });
  const baselineCreateMs = performance.now() - baseStart;
  const baselineMs = await pollUntil(async () => (await c.core.listNamespacedConfigMap({ namespace: baseNs })).items.filter((cm) => cm.metadata?.name?.startsWith('plain-')).length === count, {
    since: baseStart,
    intervalMs: 250,
    timeoutMs: 300_000,
    what: `${count} ConfigMaps`,
  });

  const namespace = 'bench-bulk';
  await createNamespace(plane, namespace);
  await sleep(2_000); // let the apiserver and the operator settle after the baseline
  const before = await scrape(operator.url);
  rss.mark();
  const rssBeforeMb = rss.windowPeakMb;
  let maxDepth = 0;
  let maxHeapUsed = 0;
  let maxHeapTotal = 0;
  let sampling = true;
  const depthSampler = (async () => {
    while (sampling) {
      try {
        const text = await scrape(operator.url);
        maxDepth = Math.max(maxDepth, metricTotal(text, 'tfmodel_operator_workqueue_depth'));
        maxHeapUsed = Math.max(maxHeapUsed, metricTotal(text, 'nodejs_heap_size_used_bytes') / 1e6);
        maxHeapTotal = Math.max(maxHeapTotal, metricTotal(text, 'nodejs_heap_size_total_bytes') / 1e6);
      } catch {
        // a missed scrape only loses one sample
      }
      await sleep(1_000);
    }
  })();

  const watched: Array<[string, number]> = [
    ['tfmodel-operator', operator.process.pid],
    ...plane.processes().filter((p) => p.running && ['etcd', 'kube-apiserver', 'kube-controller-manager'].includes(p.name)).map((p): [string, number] => [p.name, p.pid]),
    ['this bench (client side)', process.pid],
  ];
  const cpuBefore = watched.map(([, pid]) => cpuSeconds(pid));
  const requestsBefore = await apiserverRequestsByVerb(plane);
  progress(`bulk: creating ${count} TFModels (replicas: 0), ${concurrency} at a time`);
  const basePath = join(cluster.work, 'models', 'half');
  const start = performance.now();
  let createMs = Number.NaN;
  let statusCaughtUpMs = Number.NaN;
  let reconciledMs = Number.NaN;
  let reconciledCount = 0;
  let failure: string | undefined;
  const timeoutMs = config.bulkTimeoutS * 1000;
  try {
    await forEachConcurrently(count, concurrency, async (i) => {
      const body = tfmodel(namespace, `bulk-${pad(i)}`, { modelName: 'half', basePath, replicas: 0 });
      await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body });
    });
    createMs = performance.now() - start;
    progress(`bulk: ${count} TFModels created in ${(createMs / 1000).toFixed(1)} s; waiting for every status to catch up`);
    let lastReport = 0;
    statusCaughtUpMs = await pollUntil(async () => {
      const list = (await c.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })) as { items: TFModel[] };
      const done = list.items.filter((m) => m.status?.observedGeneration !== undefined && m.status.observedGeneration === m.metadata.generation).length;
      reconciledCount = done;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`bulk: ${done}/${count} reconciled after ${((performance.now() - start) / 1000).toFixed(0)} s`);
      }
      return list.items.length === count && done === count;
    }, { since: start, intervalMs: 250, timeoutMs, what: `${count} TFModels with observedGeneration == generation` });
    reconciledMs = await pollUntil(async () => {
      const [configMaps, deployments, services] = await Promise.all([
        listNames(() => c.core.listNamespacedConfigMap({ namespace })),
        listNames(() => c.apps.listNamespacedDeployment({ namespace })),
        listNames(() => c.core.listNamespacedService({ namespace })),
      ]);
      for (let i = 0; i < count; i++) {
        const name = `bulk-${pad(i)}`;
        if (!configMaps.has(`${name}-server-config`) || !deployments.has(`${name}-server`) || !services.has(`${name}-server`)) return false;
      }
      return true;
    }, { since: start, intervalMs: 250, timeoutMs, what: `the owned objects of ${count} TFModels` });
    await sleep(2_000); // the RSS after the burst belongs to the burst
  } catch (error) {
    // Report what happened (RSS, metrics, how far it got) rather than nothing.
    failure = (error as Error).message;
    progress(`bulk: ${failure}`);
  } finally {
    sampling = false;
    await depthSampler;
  }
  const timeWaitConnections = timeWaitTo(new URL(plane.server).port);
  const requestsAfter = await apiserverRequestsByVerb(plane);
  const apiserverRequests = Object.fromEntries(Object.entries(requestsAfter).map(([verb, n]) => [verb, n - (requestsBefore[verb] ?? 0)]).filter(([, n]) => (n as number) > 0));
  const cpuUsed = Object.fromEntries(watched.map(([name, pid], i) => [name, cpuSeconds(pid) - cpuBefore[i]!]));
  const peakRssMb = rss.mark();
  const after = await scrape(operator.url);
  const delta = (name: string): number => metricTotal(after, name) - metricTotal(before, name);
  const reconciles = delta('tfmodel_operator_reconcile_duration_seconds_count');
  return {
    count,
    concurrency,
    replicas: 0,
    timeoutS: config.bulkTimeoutS,
    createMs,
    reconciledMs,
    statusCaughtUpMs,
    baselineCreateMs,
    baselineMs,
    peakRssMb,
    rssBeforeMb,
    maxWorkqueueDepth: maxDepth,
    maxHeapUsedMb: maxHeapUsed,
    maxHeapTotalMb: maxHeapTotal,
    reconciledCount,
    cpuSeconds: cpuUsed,
    apiserverRequests,
    timeWaitConnections,
    ...(failure ? { failure } : {}),
    metrics: {
      reconciles,
      reconcileErrors: delta('tfmodel_operator_reconcile_errors_total'),
      retries: delta('tfmodel_operator_workqueue_retries_total'),
      meanReconcileMs: reconciles > 0 ? (delta('tfmodel_operator_reconcile_duration_seconds_sum') / reconciles) * 1000 : Number.NaN,
    },
  };
}

async function apiserverRequestsByVerb(plane: ControlPlane): Promise<Record<string, number>> {
  const result = await plane.kubectl(['get', '--raw', '/metrics']);
  const byVerb: Record<string, number> = {};
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '?';
    byVerb[verb] = (byVerb[verb] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return byVerb;
}

function timeWaitTo(port: string): number {
  try {
    const out = execFileSync('ss', ['-Htan', 'state', 'time-wait', `( dport = :${port} or sport = :${port} )`], { encoding: 'utf8' });
    return out.split('\n').filter((line) => line.trim()).length;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// 3. A label promotion on 3 real servers.

export interface PromotionTrial {
  readonly toVersion: number;
  /** kubectl patch until status.labels shows stable Served on toVersion (ms). */
  readonly statusMs: number;
  /** kubectl patch until every server answered toVersion through /labels/stable (ms). */
  readonly serversMs: number;
  /** Both (ms): the figure the target is about. */
  readonly totalMs: number;
}

export interface PromotionResults {
  readonly replicas: number;
  readonly pollMs: number;
  readonly trials: PromotionTrial[];
  readonly total: Summary;
  /** kubectl patch of an annotation on the same TFModel until a read shows it (ms). */
  readonly baseline: Summary;
  readonly baselineRaw: number[];
}

export async function runPromotionSection(cluster: Cluster): Promise<PromotionResults> {
  const { plane, config, operator } = cluster;
  const namespace = 'bench-promo';
  const name = 'promo';
  const replicas = 3;
  await createNamespace(plane, namespace);
  const c = clients(plane);
  const base = join(cluster.work, 'models', 'half');
  mkdirSync(base, { recursive: true });
  cpSync(HALF_PLUS_TWO, join(base, '1'), { recursive: true });
  cpSync(HALF_PLUS_THREE, join(base, '2'), { recursive: true });

  const pods = new ServingPods({ plane, namespace, tfmodel: name, dir: join(cluster.work, 'pods', name), addressMapPath: cluster.addressMap });
  try {
    const manifest = tfmodel(namespace, name, {
      modelName: 'half',
      basePath: base,
      versionPolicy: { specific: { versions: [1, 2] } },
      versionLabels: { stable: 1 },
      replicas,
    });
    await plane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest), check: true });
    pods.start();
    progress(`promotion: waiting for ${replicas} real servers with both versions and stable on 1`);
    const predict = async (restPort: number): Promise<number> => {
      const response = await fetch(`http://127.0.0.1:${restPort}/v1/models/half/labels/stable:predict`, { method: 'POST', body: '{"instances":[1.0]}' });
      const body = (await response.json()) as { predictions?: number[]; error?: string };
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
      return body.predictions![0]!;
    };
    const answer = (version: number): number => (version === 1 ? 2.5 : 3.5);
    const served = (model: TFModel, version: number): boolean =>
      model.status?.labels?.some((l) => l.label === 'stable' && l.state === 'Served' && l.servedVersion === version) ?? false;
    const allServe = async (version: number): Promise<boolean> => {
      const ports = [...pods.pods.values()].map((pod) => pod.restPort);
      if (ports.length !== replicas) return false;
      const answers = await Promise.all(ports.map((port) => predict(port).catch(() => Number.NaN)));
      return answers.every((a) => a === answer(version));
    };
    await pollUntil(async () => {
      const model = await getTFModel(c, namespace, name);
      const ready = model.status?.conditions?.some((cond) => cond.type === 'Ready' && cond.status === 'True') ?? false;
      const both = model.status?.versions?.filter((v) => v.state === 'AVAILABLE' && v.readyReplicas === replicas).length === 2;
      if (!(ready && both && served(model, 1))) throw new Error(`${JSON.stringify(model.status ?? null)}; pods: ${pods.pods.size}${pods.error ? `; ${pods.error}` : ''}`);
      return allServe(1);
    }, { since: performance.now(), intervalMs: 500, timeoutMs: 240_000, what: `TFModel ${name} Ready on ${replicas} servers` });
    await sleep(1_000);

    const trials: PromotionTrial[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < config.promotions; i++) {
      // Baseline: an annotation patch on the same object until a read sees it.
      {
        const value = `b${i}`;
        const since = performance.now();
        await plane.kubectl(['annotate', '--overwrite', 'tfmodel', name, '-n', namespace, `bench.tfmodel.dev/seq=${value}`], { check: true });
        baseline.push(await pollUntil(async () => (await getTFModel(c, namespace, name)).metadata.annotations?.['bench.tfmodel.dev/seq'] === value, {
          since,
          intervalMs: config.pollMs,
          timeoutMs: 60_000,
          what: 'the annotation',
        }));
      }
      const toVersion = i % 2 === 0 ? 2 : 1;
      const since = performance.now();
      await plane.kubectl(['patch', 'tfmodel', name, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { versionLabels: { stable: toVersion } } })], { check: true });
      let statusMs = Number.NaN;
      let serversMs = Number.NaN;
      const totalMs = await pollUntil(async () => {
        const [model, servers] = await Promise.all([
          Number.isNaN(statusMs) ? getTFModel(c, namespace, name) : Promise.resolve(undefined),
          Number.isNaN(serversMs) ? allServe(toVersion) : Promise.resolve(true),
        ]);
        const now = performance.now() - since;
        if (model && served(model, toVersion)) statusMs = now;
        if (servers && Number.isNaN(serversMs)) serversMs = now;
        return !Number.isNaN(statusMs) && !Number.isNaN(serversMs);
      }, { since, intervalMs: config.pollMs, timeoutMs: 60_000, what: `stable served on version ${toVersion}` });
      trials.push({ toVersion, statusMs, serversMs, totalMs });
      progress(`promotion ${i + 1}/${config.promotions}: stable -> ${toVersion} in ${totalMs.toFixed(0)} ms (status ${statusMs.toFixed(0)} ms, servers ${serversMs.toFixed(0)} ms)`);
      await sleep(500);
    }
    if (!operator.process.running) throw new Error(`the operator exited during the promotions; log ${operator.process.logPath}`);
    return {
      replicas,
      pollMs: config.pollMs,
      trials,
      total: summarize(trials.map((t) => t.totalMs)),
      baseline: summarize(baseline),
      baselineRaw: baseline,
    };
  } finally {
    await pods.stop();
    // The servers are gone; leave no Ready-looking TFModel behind for the bulk section to re-reconcile.
    await plane.kubectl(['scale', 'tfmodel', name, '-n', namespace, '--replicas=0']);
  }
}
