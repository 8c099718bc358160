/**
 * `npm run bench:operator`: the real tfmodel-operator binary on a real control plane (etcd,
 * kube-apiserver, controller-manager, scheduler, kwok fake nodes; test/e2e/harness), driven with
 * the real kubectl, against baselines measured in the same run on the same control plane:
 *
 *  1. apply latency: `kubectl apply` of a TFModel until its ConfigMap, Deployment and Service can
 *     be read, vs `kubectl apply` of a plain ConfigMap until it can be read;
 *  2. bulk: 1000 TFModels created at once until all are reconciled, with the operator's peak RSS,
 *     vs 1000 ConfigMaps created the same way until a list shows them all;
 *  3. promotion: `kubectl patch` of a version label on a 3-replica TFModel served by real
 *     tfmodel-servers until the status and every server agree, vs `kubectl annotate` of the same
 *     TFModel until a read sees the annotation (the apiserver's write+read floor).
 *
 * Prints a markdown report on stdout (progress on stderr) and writes the raw figures to
 * dist/bench-results/operator.json. Knobs: support.ts readConfig(). No figure is asserted.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ControlPlane, controlPlaneBinaries, startControlPlane } from '../../test/e2e/harness/index.js';
import { type OperatorProcess, startOperatorProcess } from '../../test/e2e/harness/operator.js';
import { type ApplyResults, type BulkResults, type PromotionResults, runApplySection, runBulkSection, runPromotionSection } from './sections.js';
import { kubeApiserverCount, ms, progress, ratio, readConfig, REPO_ROOT, RESULTS_DIR, RssSampler } from './support.js';

/** Wider than the harness's 10.0.0.0/24 and containing it (the `kubernetes` Service keeps 10.0.0.1). */
const SERVICE_RANGE = '10.0.0.0/16';

interface Target {
  readonly name: string;
  readonly figure: string;
  readonly target: string;
  readonly met: boolean | undefined;
  readonly baseline: string;
  readonly ratio: string;
}

interface BenchResults {
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly uptimeBefore: string;
    readonly uptimeAfter: string;
    readonly kubeApiserversBefore: number;
  };
  readonly settings: Record<string, unknown>;
  readonly operatorPeakRssMb: number;
  readonly apply?: ApplyResults;
  readonly promotion?: PromotionResults;
  readonly bulk?: BulkResults;
  readonly errors: string[];
  readonly targets: Target[];
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
}

function evaluateTargets(apply?: ApplyResults, promotion?: PromotionResults, bulk?: BulkResults): Target[] {
  const targets: Target[] = [];
  if (apply) {
    targets.push({
      name: 'apply → owned objects, p50',
      figure: ms(apply.tfmodel.p50),
      target: '< 300 ms',
      met: apply.tfmodel.p50 < 300,
      baseline: `ConfigMap apply → readable p50 ${ms(apply.baseline.p50)}`,
      ratio: ratio(apply.tfmodel.p50, apply.baseline.p50),
    });
    targets.push({
      name: 'apply → owned objects, p99',
      figure: ms(apply.tfmodel.p99),
      target: '(reported)',
      met: undefined,
      baseline: `ConfigMap apply → readable p99 ${ms(apply.baseline.p99)}`,
      ratio: ratio(apply.tfmodel.p99, apply.baseline.p99),
    });
  }
  if (bulk) {
    targets.push({
      name: `${bulk.count} TFModels → all reconciled`,
      figure: bulk.failure ? `${bulk.reconciledCount}/${bulk.count} after ${bulk.timeoutS} s` : `${(bulk.reconciledMs / 1000).toFixed(1)} s`,
      target: '< 60 s',
      met: !bulk.failure && bulk.reconciledMs < 60_000,
      baseline: `${bulk.count} ConfigMaps → all listed ${(bulk.baselineMs / 1000).toFixed(1)} s`,
      ratio: ratio(bulk.reconciledMs, bulk.baselineMs),
    });
    targets.push({
      name: `operator peak RSS during the ${bulk.count}`,
      figure: `${bulk.peakRssMb.toFixed(0)} MB`,
      target: '< 200 MB',
      met: bulk.peakRssMb < 200,
      baseline: `operator RSS just before the burst ${bulk.rssBeforeMb.toFixed(0)} MB`,
      ratio: ratio(bulk.peakRssMb, bulk.rssBeforeMb),
    });
  }
  if (promotion) {
    targets.push({
      name: `label promotion on ${promotion.replicas} servers, p50`,
      figure: ms(promotion.total.p50),
      target: '< 5 s',
      met: promotion.total.p50 < 5_000,
      baseline: `annotation patch → readable p50 ${ms(promotion.baseline.p50)}`,
      ratio: ratio(promotion.total.p50, promotion.baseline.p50),
    });
    targets.push({
      name: `label promotion on ${promotion.replicas} servers, max`,
      figure: ms(promotion.total.max),
      target: '< 5 s',
      met: promotion.total.max < 5_000,
      baseline: `annotation patch → readable max ${ms(promotion.baseline.max)}`,
      ratio: ratio(promotion.total.max, promotion.baseline.max),
    });
  }
  return targets;
}

function renderReport(r: BenchResults): string {
  const lines: string[] = [];
  const verdict = (met: boolean | undefined): string => (met === undefined ? '—' : met ? 'met' : '**missed**');
  lines.push('# tfmodel-operator benchmark', '');
  lines.push(`${r.startedAt}, ${r.wallSeconds.toFixed(0)} s wall, ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}.`);
  lines.push(`Load before: \`${r.machine.uptimeBefore}\`; after: \`${r.machine.uptimeAfter}\`.`);
  lines.push(`kube-apiservers already running on this machine when the bench started: ${r.machine.kubeApiserversBefore} (another e2e run competes for the CPUs when > 0).`);
  const extra = r.settings['operatorArgs'] as readonly string[];
  lines.push(extra.length > 0 ? `**Operator flags changed for diagnosis:** \`${extra.join(' ')}\` — not the default operator.` : 'tfmodel-operator with its default flags (--workers=4).', '');
  lines.push('| figure | value | target | verdict | baseline (same run, same control plane) | ratio |', '| --- | --- | --- | --- | --- | --- |');
  for (const t of r.targets) lines.push(`| ${t.name} | ${t.figure} | ${t.target} | ${verdict(t.met)} | ${t.baseline} | ${t.ratio} |`);
  lines.push('');
  if (r.apply) {
    const a = r.apply;
    lines.push('## 1. kubectl apply → owned objects', '');
    lines.push(`${a.tfmodel.n} TFModels (replicas: ${a.replicas}) applied one at a time with \`kubectl apply -f -\`, interleaved with as many plain ConfigMaps.`);
    lines.push(`Timed from just before kubectl is spawned until a client-node GET (every ${a.pollMs} ms) finds \`<name>-server-config\`, Deployment \`<name>-server\` and Service \`<name>-server\`.`);
    lines.push('Baseline: the same `kubectl apply` and the same polled GET for a ConfigMap nothing has to react to — kubectl start-up, its discovery, the apiserver write and the read, with no operator in the path.', '');
    lines.push('', '| | p50 | p99 | min | max |', '| --- | --- | --- | --- | --- |');
    lines.push(`| TFModel → 3 owned objects readable | ${ms(a.tfmodel.p50)} | ${ms(a.tfmodel.p99)} | ${ms(a.tfmodel.min)} | ${ms(a.tfmodel.max)} |`);
    lines.push(`| ConfigMap → readable (baseline) | ${ms(a.baseline.p50)} | ${ms(a.baseline.p99)} | ${ms(a.baseline.min)} | ${ms(a.baseline.max)} |`);
    lines.push(`| kubectl process, TFModel | ${ms(a.kubectlTfmodel.p50)} | ${ms(a.kubectlTfmodel.p99)} | ${ms(a.kubectlTfmodel.min)} | ${ms(a.kubectlTfmodel.max)} |`);
    lines.push(`| kubectl process, ConfigMap | ${ms(a.kubectlBaseline.p50)} | ${ms(a.kubectlBaseline.p99)} | ${ms(a.kubectlBaseline.min)} | ${ms(a.kubectlBaseline.max)} |`);
    lines.push('', `Operator's share (p50 difference): ${ms(a.tfmodel.p50 - a.baseline.p50)}.`, '');
  }
  if (r.promotion) {
    const p = r.promotion;
    lines.push(`## 3. Label promotion on ${p.replicas} real tfmodel-servers`, '');
    lines.push('`kubectl patch tfmodel promo --type=merge -p \'{"spec":{"versionLabels":{"stable":N}}}\'`, alternating N = 2, 1, …, both versions loaded (versionPolicy specific [1, 2]).');
    lines.push(`Done when status.labels shows stable \`Served\` on N **and** every server answers N through \`/v1/models/half/labels/stable:predict\` (2.5 for 1, 3.5 for 2); polled every ${p.pollMs} ms.`);
    lines.push('Baseline: `kubectl annotate` of the same TFModel until a client-node GET shows the annotation — the apiserver write+read floor through kubectl, with no operator or server in the path.', '');
    lines.push('| # | stable → | status Served | all servers answer | both |', '| --- | --- | --- | --- | --- |');
    p.trials.forEach((t, i) => lines.push(`| ${i + 1} | ${t.toVersion} | ${ms(t.statusMs)} | ${ms(t.serversMs)} | ${ms(t.totalMs)} |`));
    lines.push('', `Promotion p50 ${ms(p.total.p50)}, max ${ms(p.total.max)}; baseline p50 ${ms(p.baseline.p50)}, max ${ms(p.baseline.max)}.`, '');
  }
  if (r.bulk) {
    const b = r.bulk;
    lines.push(`## 2. ${b.count} TFModels at once`, '');
    lines.push(`Created with client-node, ${b.concurrency} creates in flight, \`replicas: ${b.replicas}\` (the CRD allows 0), so no pods are needed; the operator still renders and applies the ConfigMap, Deployment and Service and writes status for each.`);
    lines.push('Done when every TFModel has status.observedGeneration == metadata.generation and lists show all 3 owned objects of each (lists polled every 250 ms).');
    lines.push(`The apiserver runs with \`--service-cluster-ip-range=${SERVICE_RANGE}\` (the harness default /24 holds about 250 Services, and every TFModel owns one).`);
    lines.push(`Baseline: ${b.count} ConfigMaps created the same way until a list shows them all.`, '');
    lines.push('| | TFModels | ConfigMaps (baseline) |', '| --- | --- | --- |');
    lines.push(`| all creates answered | ${(b.createMs / 1000).toFixed(1)} s | ${(b.baselineCreateMs / 1000).toFixed(1)} s |`);
    lines.push(`| every status caught up | ${(b.statusCaughtUpMs / 1000).toFixed(1)} s | — |`);
    lines.push(`| all reconciled / all listed | ${(b.reconciledMs / 1000).toFixed(1)} s | ${(b.baselineMs / 1000).toFixed(1)} s |`);
    lines.push('');
    lines.push(`Operator VmRSS (sampled every 200 ms): ${b.rssBeforeMb.toFixed(0)} MB before the burst, peak ${b.peakRssMb.toFixed(0)} MB during it; peak over the whole run ${r.operatorPeakRssMb.toFixed(0)} MB.`);
    lines.push(`Operator metrics over the burst: ${b.metrics.reconciles} reconciles (mean ${ms(b.metrics.meanReconcileMs)}), ${b.metrics.reconcileErrors} errors, ${b.metrics.retries} retries, max work-queue depth ${b.maxWorkqueueDepth}, max V8 heap used ${b.maxHeapUsedMb.toFixed(0)} MB of ${b.maxHeapTotalMb.toFixed(0)} MB allocated (scraped every 1 s).`, '');
    const cpu = Object.entries(b.cpuSeconds).map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(', ');
    lines.push(`CPU used over the burst (${((Number.isFinite(b.reconciledMs) ? b.reconciledMs : b.timeoutS * 1000) / 1000).toFixed(0)} s wall, ${availableParallelism()} cores shared with everything else on the machine): ${cpu}.`, '');
    const requests = Object.entries(b.apiserverRequests).sort((x, y) => y[1] - x[1]).map(([verb, n]) => `${verb} ${n}`).join(', ');
    lines.push(`kube-apiserver requests during the burst (all clients): ${requests}. TCP connections to the apiserver port in TIME_WAIT right after it: ${b.timeWaitConnections} (a client that keeps its connections alive leaves a handful).`, '');
    if (b.failure) lines.push(`**The wait ended early:** ${b.failure.slice(0, 1_000)}`, '');
  }
  if (r.errors.length > 0) {
    lines.push('## Errors', '');
    for (const e of r.errors) lines.push('```', e.slice(0, 4_000), '```');
    lines.push('');
  }
  lines.push('Rerun: `npm run bench:operator` (knobs: BENCH_OPERATOR_SECTIONS=apply,promotion,bulk, BENCH_OPERATOR_APPLY_TRIALS, BENCH_OPERATOR_BULK, BENCH_OPERATOR_CONCURRENCY, BENCH_OPERATOR_PROMOTIONS, BENCH_OPERATOR_BULK_TIMEOUT_S, BENCH_OPERATOR_POLL_MS, BENCH_OPERATOR_EXTRA_ARGS for diagnosis only).');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const uptimeBefore = uptime();
  const kubeApiserversBefore = kubeApiserverCount();
  const config = readConfig();
  const { binaries, skipReason } = controlPlaneBinaries();
  if (!binaries) throw new Error(`no control-plane binaries: ${skipReason}`);
  const work = mkdtempSync(join(tmpdir(), 'tfmodel-bench-operator-'));
  const addressMap = join(work, 'pod-addresses.json');
  mkdirSync(join(work, 'models', 'half'), { recursive: true });
  let plane: ControlPlane | undefined;
  let operator: OperatorProcess | undefined;
  let rss: RssSampler | undefined;
  const errors: string[] = [];
  let apply: ApplyResults | undefined;
  let promotion: PromotionResults | undefined;
  let bulk: BulkResults | undefined;
  try {
    progress(`load: ${uptimeBefore}; kube-apiservers already running: ${kubeApiserversBefore}`);
    progress('starting the control plane');
    // Every TFModel owns a ClusterIP Service: the harness's /24 Service range (about 250 IPs)
    // would run out long before 1000 TFModels ("failed to allocate a serviceIP: range is full").
    plane = await startControlPlane({ binaries, nodes: [{ name: 'cpu-0' }, { name: 'cpu-1' }], apiserverArgs: [`--service-cluster-ip-range=${SERVICE_RANGE}`] });
    await plane.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { check: true });
    await plane.kubectl(['wait', '--for=condition=Established', 'crd/tfmodels.serving.tfmodel.dev', '--timeout=60s'], { check: true });
    progress('starting the operator');
    operator = await startOperatorProcess({ logPath: join(work, 'operator.log'), kubeconfig: plane.kubeconfigPath, podAddressMap: addressMap, args: config.operatorArgs });
    rss = new RssSampler(operator.process.pid, 200);
    rss.start();
    const cluster = { plane, operator, rss, work, addressMap, config };
    // Order: the latency sections on a quiet cluster first, the 1000-object burst last.
    const attempt = async <T>(section: string, run: () => Promise<T>): Promise<T | undefined> => {
      if (!config.sections.has(section)) return undefined;
      progress(`section ${section}`);
      try {
        return await run();
      } catch (error) {
        const message = `${section}: ${(error as Error).stack ?? String(error)}`;
        progress(message);
        errors.push(message);
        return undefined;
      }
    };
    apply = await attempt('apply', () => runApplySection(cluster));
    promotion = await attempt('promotion', () => runPromotionSection(cluster));
    bulk = await attempt('bulk', () => runBulkSection(cluster));
  } finally {
    rss?.stop();
    await operator?.process.stop().catch((error: unknown) => progress(`stopping the operator: ${(error as Error).message}`));
    await plane?.stop().catch((error: unknown) => progress(`stopping the control plane: ${(error as Error).message}`));
    if (process.env['TFMODEL_E2E_KEEP_DIR']) progress(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    wallSeconds: (Date.now() - started) / 1000,
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', node: process.versions.node, uptimeBefore, uptimeAfter: uptime(), kubeApiserversBefore },
    settings: { ...config, sections: [...config.sections] },
    operatorPeakRssMb: rss?.peak ?? Number.NaN,
    ...(apply ? { apply } : {}),
    ...(promotion ? { promotion } : {}),
    ...(bulk ? { bulk } : {}),
    errors,
    targets: evaluateTargets(apply, promotion, bulk),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonPath = join(RESULTS_DIR, 'operator.json');
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  console.log(renderReport(results));
  progress(`raw results: ${jsonPath}`);
  if (errors.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
