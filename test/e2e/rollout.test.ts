/**
 * spec.rollout end to end: the real tfmodel-operator on a real control plane, the serving pod a real
 * tfmodel-server (ServingPods) serving TensorFlow-made SavedModels. Version 1 (y = 0.5x + 2) is
 * stable; candidates: 2 (the same model: good), 3 (y = 0.5x + 3: answers differently), 4 (a
 * model without a serving_default signature: every request it gets fails) and 5 (y = 0.5x + 2
 * behind an Assert(x < 7): fails a fraction of the requests, those with x >= 7; the load sends
 * x = 0..9 in turn, so 30% of its copies fail). The rollouts start
 * shadow-only (step 0), so no caller ever reaches a bad candidate; a client predicting through
 * /labels/stable the whole time must see zero failures.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/corpus.js';
import { COUNTER_BASE, HALF_PLUS_THREE_BASE, HALF_PLUS_TWO_BASE, HALF_PLUS_TWO_FAILS_FROM_7 } from '../support/test-models.js';
import type { TFModel } from '../../src/operator/api/tfmodel.js';
import { type ControlPlane, controlPlaneBinaries, KWOK_TOLERATION, poll, startControlPlane } from './harness/index.js';
import { type OperatorProcess, ServingPods, startOperatorProcess } from './harness/operator.js';

const NAMESPACE = 'e2e-rollout';
const VERSIONS: ReadonlyArray<readonly [number, string]> = [
  [1, join(HALF_PLUS_TWO_BASE, '00000123')],
  [2, join(HALF_PLUS_TWO_BASE, '00000123')],
  [3, join(HALF_PLUS_THREE_BASE, '00000123')],
  [4, join(COUNTER_BASE, '00000123')],
  [5, HALF_PLUS_TWO_FAILS_FROM_7],
];
const GATES = { maxErrorRate: '0.05', maxOutputDivergence: '0.001', minRequests: 5 };

describe('e2e rollout: canary steps gated on the pods\' metrics', function () {
  let plane: ControlPlane | undefined;
  let operator: OperatorProcess | undefined;
  let pods: ServingPods | undefined;
  let work: string;
  let load: StableLoad | undefined;

  before(async function () {
    this.timeout(50 * 60_000);
    const { binaries, skipReason } = controlPlaneBinaries(); // throws under CI=true
    if (!binaries) {
      console.warn(`skipping: ${skipReason}`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'tfmodel-e2e-rollout-'));
    const base = join(work, 'models', 'roll');
    for (const [version, dir] of VERSIONS) {
      mkdirSync(join(base, String(version)), { recursive: true });
      cpSync(dir, join(base, String(version)), { recursive: true });
    }
    plane = await startControlPlane({ binaries: binaries!, nodes: [{ name: 'cpu-0' }] });
    await plane.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { check: true });
    await plane.kubectl(['wait', '--for=condition=Established', 'crd/tfmodels.serving.tfmodel.dev', '--timeout=60s'], { check: true });
    await plane.kubectl(['create', 'namespace', NAMESPACE], { check: true });
    await poll(async () => ((await plane!.kubectl(['get', 'serviceaccount', 'default', '-n', NAMESPACE])).code === 0 ? true : undefined), {
      what: `ServiceAccount ${NAMESPACE}/default`,
      timeoutMs: 60_000,
    });
    const addressMap = join(work, 'pod-addresses.json');
    operator = await startOperatorProcess({ logPath: join(work, 'operator.log'), kubeconfig: plane.kubeconfigPath, podAddressMap: addressMap });
    const applied = await plane.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'serving.tfmodel.dev/v1alpha1',
        kind: 'TFModel',
        metadata: { name: 'roll', namespace: NAMESPACE },
        spec: { tolerations: [KWOK_TOLERATION], basePath: base, versionPolicy: { specific: { versions: [1, 2, 3, 4, 5] } }, versionLabels: { stable: 1 }, replicas: 1 },
      }),
    });
    assert.equal(applied.code, 0, applied.stderr);
    pods = new ServingPods({ plane, namespace: NAMESPACE, tfmodel: 'roll', dir: join(work, 'pods'), addressMapPath: addressMap });
    pods.start();
    await waitFor('stable served on version 1', (m) => m.status?.labels?.some((l) => l.label === 'stable' && l.state === 'Served' && l.servedVersion === 1) ?? false, 180_000);
    load = new StableLoad(restPort());
    load.start();
  });

  after(async function () {
    this.timeout(120_000);
    await load?.stop();
    await pods?.stop();
    await operator?.process.stop();
    await plane?.stop();
    if (work && !process.env['TFMODEL_E2E_KEEP_DIR']) rmSync(work, { recursive: true, force: true });
  });

  const restPort = (): number => [...pods!.pods.values()][0]!.restPort;

  async function get(): Promise<TFModel | undefined> {
    const result = await plane!.kubectl(['get', 'tfmodel', 'roll', '-n', NAMESPACE, '-o', 'json']);
    return result.code === 0 ? (JSON.parse(result.stdout) as TFModel) : undefined;
  }

  function waitFor(what: string, done: (model: TFModel) => boolean, timeoutMs = 90_000, seen?: (model: TFModel) => void): Promise<TFModel> {
    return poll(
      async () => {
        const model = await get();
        if (model) seen?.(model);
        if (model && done(model)) return model;
        throw new Error(JSON.stringify(model?.status?.rollout ?? model?.status ?? null));
      },
      { what: `TFModel roll: ${what}`, timeoutMs, intervalMs: 200, process: operator?.process },
    );
  }

  async function mergePatch(patch: object): Promise<void> {
    await plane!.kubectl(['patch', 'tfmodel', 'roll', '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify(patch)], { check: true });
  }

  async function routing(): Promise<unknown> {
    return (await (await fetch(`http://127.0.0.1:${restPort()}/tfmodel/routing`)).json()) as unknown;
  }

  async function events(reason: string): Promise<string[]> {
    const result = await plane!.kubectl(['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.name=roll,reason=${reason}`, '-o', 'json'], { check: true });
    return (JSON.parse(result.stdout) as { items: Array<{ message: string }> }).items.map((e) => e.message);
  }

  const badCandidates = [
    [3, 'answers differently', 'maxOutputDivergence'],
    [4, 'fails its requests', 'maxErrorRate'],
    [5, 'fails a fraction of its requests', 'maxErrorRate'],
  ] as const;
  for (const [candidate, what, gate] of badCandidates) {
    it(`rolls back a version that ${what} at the first step, with RolloutFailed naming ${gate}`, async function () {
      this.timeout(180_000);
      await mergePatch({ spec: { rollout: { candidate, shadowPercent: 100, steps: [0, 5, 50, 100], interval: '5s', gates: GATES } } });
      const model = await waitFor(`rollout of ${candidate} failed`, (m) => m.status?.rollout?.candidate === candidate && m.status.rollout.state === 'Failed');
      const rollout = model.status!.rollout!;
      assert.equal(rollout.step, 0, 'rolled back at the first step');
      assert.equal(rollout.weight, 0);
      assert.equal(rollout.failure!.gate, gate);
      assert.ok(Number(rollout.failure!.value) > Number(rollout.failure!.threshold), JSON.stringify(rollout.failure));
      // Version 4 fails every copy; version 5 only those with x >= 7 (30% of the load's inputs).
      if (candidate === 5) assert.ok(Number(rollout.failure!.value) < 0.6, `a fraction failed, not all: ${JSON.stringify(rollout.failure)}`);
      const failed = model.status!.conditions!.find((c) => c.type === 'RolloutFailed')!;
      assert.equal(failed.status, 'True');
      assert.match(failed.message, new RegExp(`gate ${gate} failed on pod roll-server-`));
      assert.equal(model.status!.servedLabels!['stable'], 1);
      await poll(async () => (JSON.stringify(await routing()) === '{"models":{}}' ? true : undefined), { what: 'routing cleared on the pod', timeoutMs: 30_000 });
      assert.ok((await events('RolloutFailed')).some((m) => m.startsWith(`version ${candidate} rolled back at 0%`)));
    });
  }

  it('walks a good version 0 -> 5 -> 50 -> 100 by itself, sticky per caller, and makes it stable', async function () {
    this.timeout(300_000);
    const weights: number[] = [];
    const note = (m: TFModel): void => {
      const w = m.status?.rollout?.candidate === 2 ? m.status.rollout.weight : undefined;
      if (w !== undefined && weights.at(-1) !== w) weights.push(w);
    };
    await mergePatch({ spec: { rollout: { candidate: 2, shadowPercent: 50, steps: [0, 5, 50, 100], interval: '5s', gates: GATES } } });
    // Hold the 50% step (kubectl patch: paused) to check stickiness, then resume.
    await waitFor('rollout of 2 at 50%', (m) => m.status?.rollout?.candidate === 2 && m.status.rollout.weight === 50, 120_000, note);
    await mergePatch({ spec: { rollout: { paused: true } } });
    await waitFor('rollout paused', (m) => m.status?.rollout?.state === 'Paused', 30_000, note);
    const columns = await plane!.kubectl(['get', 'tfm', 'roll', '-n', NAMESPACE], { check: true });
    assert.match(columns.stdout, /ROLLOUT\s+CANARY/);
    assert.match(columns.stdout, /Paused\s+50/, columns.stdout);
    const seenBy = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) {
        const version = await predictVersion(restPort(), `caller-${i}`);
        if (round === 0) seenBy.set(`caller-${i}`, version);
        else assert.equal(version, seenBy.get(`caller-${i}`), `caller-${i} moved between versions`);
      }
    }
    assert.deepEqual(new Set(seenBy.values()), new Set(['1', '2']), 'both versions serve callers at 50%');
    await mergePatch({ spec: { rollout: { paused: false } } });
    const done = await waitFor('rollout of 2 succeeded', (m) => m.status?.rollout?.candidate === 2 && m.status.rollout.state === 'Succeeded', 120_000, note);
    assert.equal(done.status!.servedLabels!['stable'], 2);
    assert.deepEqual(weights.slice(0, 3), [0, 5, 50], `weights seen: ${weights}`);
    await poll(async () => (JSON.stringify(await routing()) === '{"models":{}}' ? true : undefined), { what: 'canary cleared', timeoutMs: 30_000 });
    assert.equal(await predictVersion(restPort(), 'caller-0'), '2');
    const reasons = [...await events('RolloutAdvanced'), ...await events('RolloutPromoted'), ...await events('RolloutSucceeded')];
    assert.ok(reasons.some((m) => /now at 5%/.test(m)) && reasons.some((m) => /moving stable to version 2/.test(m)), reasons.join('\n'));
  });

  it('a client predicting through /labels/stable saw no failed request during all of it', async () => {
    const result = await load!.stop();
    load = undefined;
    assert.ok(result.ok > 50, `only ${result.ok} requests completed`);
    assert.deepEqual(result.failures.slice(0, 5), [], `${result.failures.length} requests through stable failed`);
    assert.ok(result.versions.has('1') && result.versions.has('2'), `stable answered from ${[...result.versions]}`);
  });

  it('spec.autoscaling: the control plane\'s HPA controller scales the TFModel through its scale subresource; removing it deletes the HPA', async function () {
    this.timeout(240_000);
    await mergePatch({ spec: { autoscaling: { minReplicas: 2, maxReplicas: 3 } } });
    // One replica is below minReplicas: the HPA controller raises spec.replicas (no metrics needed for that).
    const model = await waitFor('spec.replicas raised to 2 by the HPA controller', (m) => m.spec.replicas === 2, 180_000);
    assert.equal(model.spec.autoscaling!.maxReplicas, 3);
    const hpa = await poll(async () => {
      const result = await plane!.kubectl(['get', 'hpa', 'roll-server', '-n', NAMESPACE, '-o', 'json'], { check: true });
      const object = JSON.parse(result.stdout) as { spec: { scaleTargetRef: { kind: string; name: string } }; status?: { desiredReplicas?: number; conditions?: Array<{ type: string; status: string; reason: string }> } };
      return object.status?.desiredReplicas === 2 ? object : undefined;
    }, { what: 'HPA status: desiredReplicas 2', timeoutMs: 60_000 });
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', name: 'roll' });
    assert.ok(hpa.status!.conditions!.some((c) => c.type === 'AbleToScale' && c.status === 'True'), JSON.stringify(hpa.status));
    await poll(async () => {
      const result = await plane!.kubectl(['get', 'deployment', 'roll-server', '-n', NAMESPACE, '-o', 'jsonpath={.spec.replicas}'], { check: true });
      return result.stdout.trim() === '2' ? true : undefined;
    }, { what: 'the Deployment follows the TFModel to 2 replicas', timeoutMs: 60_000 });

    await mergePatch({ spec: { autoscaling: null } });
    await poll(async () => ((await plane!.kubectl(['get', 'hpa', 'roll-server', '-n', NAMESPACE])).code !== 0 ? true : undefined), { what: 'HPA deleted', timeoutMs: 60_000 });
  });
});

/** Predicts x through /labels/stable (every version a caller may reach answers 0.5x + 2). */
async function predictVersion(port: number, key: string, x = 1): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/models/roll/labels/stable:predict`, { method: 'POST', headers: { 'x-request-id': key }, body: `{"instances":[[${x.toFixed(1)}]]}` });
  const body = (await response.json()) as { predictions?: number[][]; error?: string };
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
  assert.equal(body.predictions![0]![0], 0.5 * x + 2);
  return response.headers.get('x-tfmodel-version') ?? '?';
}

/** A caller predicting x = 0..9 in turn through /labels/stable with a new request key each time, until stopped. */
class StableLoad {
  private running = false;
  private loop: Promise<void> | undefined;
  readonly failures: string[] = [];
  readonly versions = new Set<string>();
  ok = 0;

  constructor(private readonly port: number) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        try {
          this.versions.add(await predictVersion(this.port, `load-${i}`, i % 10));
          this.ok++;
        } catch (error) {
          this.failures.push((error as Error).message);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
  }

  async stop(): Promise<{ ok: number; failures: string[]; versions: Set<string> }> {
    this.running = false;
    await this.loop;
    return { ok: this.ok, failures: this.failures, versions: this.versions };
  }
}
