import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MessageInitShape, create } from '@bufbuild/protobuf';
import {
  type ModelConfig,
  ModelConfigListSchema,
  ModelConfigSchema,
} from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { Code, ServingError, dataLoss } from '../errors.js';
import { memoryLogger } from '../logging.js';
import type { ModelEngine } from '../runtime/engine.js';
import { ModelManager, type ManagerOptions } from './model-manager.js';
import { VersionState } from './types.js';
import type { VersionLoader, VersionToLoad } from './version-loader.js';

function fakeEngine(version: bigint, disposed: bigint[]): ModelEngine {
  return {
    backend: 'cpu',
    signatures: [],
    stateful: false,
    run: async () => new Map(),
    dispose: async () => {
      disposed.push(version);
    },
  };
}

interface Harness {
  manager: ModelManager;
  root: string;
  loads: VersionToLoad[];
  disposed: bigint[];
  /** Versions whose load fails (with DATA_LOSS), and how many times (Infinity = always). */
  failing: Map<bigint, number>;
  /** Versions whose load waits until released. */
  gates: Map<bigint, Promise<void>>;
  /** Loads running now, and the most that ever ran at once. */
  concurrency: { active: number; peak: number };
}

function harness(options: Partial<ManagerOptions> = {}, wrap: (loader: VersionLoader) => VersionLoader = (l) => l): Harness {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-manager-'));
  const loads: VersionToLoad[] = [];
  const disposed: bigint[] = [];
  const failing = new Map<bigint, number>();
  const gates = new Map<bigint, Promise<void>>();
  const concurrency = { active: 0, peak: 0 };
  const loader: VersionLoader = async (v) => {
    loads.push(v);
    concurrency.active++;
    concurrency.peak = Math.max(concurrency.peak, concurrency.active);
    try {
      await gates.get(v.version);
      await new Promise((resolve) => setImmediate(resolve));
      const remaining = failing.get(v.version) ?? 0;
      if (remaining > 0) {
        failing.set(v.version, remaining - 1);
        throw dataLoss(`corrupt version ${v.version}`);
      }
      return { engine: fakeEngine(v.version, disposed), signatureDefs: {} };
    } finally {
      concurrency.active--;
    }
  };
  const manager = new ModelManager({
    loader: wrap(loader),
    log: memoryLogger(),
    fileSystemPollMs: 20,
    maxLoadRetries: 0,
    loadRetryIntervalMs: 1,
    allowLabelsForUnavailable: false,
    ...options,
  });
  return { manager, root, loads, disposed, failing, gates, concurrency };
}

type ModelConfigInit = Exclude<MessageInitShape<typeof ModelConfigSchema>, ModelConfig>;

function model(name: string, basePath: string, extra: Omit<ModelConfigInit, 'name' | 'basePath'> = {}): ModelConfig {
  const init: ModelConfigInit = { ...extra, name, basePath, modelPlatform: 'tensorflow' };
  return create(ModelConfigSchema, init);
}

const list = (...configs: ModelConfig[]) => create(ModelConfigListSchema, { config: configs });

function addVersion(base: string, version: string): void {
  mkdirSync(join(base, version), { recursive: true });
}

async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The version a request would get (the handle is released at once). */
function servedVersion(h: Harness, spec: Parameters<ModelManager['acquire']>[0]): bigint {
  const handle = h.manager.acquire(spec);
  handle.release();
  return handle.version;
}

const states = (h: Harness, name: string): Array<[string, string]> =>
  h.manager.modelStatus(name).versions.map((v) => [String(v.version), VersionState[v.state]]);

function rejectsWith(code: Code, message: string) {
  return (error: unknown) => error instanceof ServingError && error.code === code && error.message === message;
}

describe('ModelManager', () => {
  const harnesses: Harness[] = [];
  const make = (options?: Partial<ManagerOptions>, wrap?: (loader: VersionLoader) => VersionLoader): Harness => {
    const h = harness(options, wrap);
    harnesses.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      await h.manager.stop();
      rmSync(h.root, { recursive: true, force: true });
    }
  });

  it('serves the latest version, by number, and answers unknown models and versions like TF Serving', async () => {
    const h = make();
    const base = join(h.root, 'm');
    addVersion(base, '00000001');
    addVersion(base, '2');
    addVersion(base, 'not-a-version');
    await h.manager.start(list(model('m', base)));
    assert.deepEqual(states(h, 'm'), [['2', 'AVAILABLE']]);
    const handle = h.manager.acquire({ name: 'm' });
    assert.equal(handle.version, 2n);
    handle.release();
    assert.throws(() => h.manager.acquire({ name: 'm', version: 1n }), rejectsWith(Code.NOT_FOUND, 'Servable not found for request: Specific(m, 1)'));
    assert.throws(() => h.manager.acquire({ name: 'x' }), rejectsWith(Code.NOT_FOUND, 'Servable not found for request: Latest(x)'));
    assert.throws(() => h.manager.acquire({ name: 'm', label: 'stable' }), rejectsWith(Code.INVALID_ARGUMENT, 'Unrecognized servable version label: stable'));
    assert.throws(() => h.manager.modelStatus('x'), rejectsWith(Code.NOT_FOUND, 'Could not find any versions of model x'));
    assert.throws(() => h.manager.modelStatus('m', 7n), rejectsWith(Code.NOT_FOUND, 'Could not find version 7 of model m'));
    assert.ok(h.manager.isReady());
  });

  it('applies the version policies: all, specific, latest N', async () => {
    const h = make();
    for (const name of ['all', 'specific', 'latest2']) for (const v of ['1', '2', '3']) addVersion(join(h.root, name), v);
    await h.manager.start(list(
      model('all', join(h.root, 'all'), { modelVersionPolicy: { policyChoice: { case: 'all', value: {} } } }),
      model('specific', join(h.root, 'specific'), { modelVersionPolicy: { policyChoice: { case: 'specific', value: { versions: [1n, 3n, 9n] } } } }),
      model('latest2', join(h.root, 'latest2'), { modelVersionPolicy: { policyChoice: { case: 'latest', value: { numVersions: 2 } } } }),
    ));
    assert.deepEqual(states(h, 'all').map(([v]) => v), ['3', '2', '1']);
    assert.deepEqual(states(h, 'specific').map(([v]) => v), ['3', '1']);
    assert.deepEqual(states(h, 'latest2').map(([v]) => v), ['3', '2']);
  });

  it('hot-loads a new version and unloads the old one only after the new one is AVAILABLE', async () => {
    const h = make();
    const base = join(h.root, 'm');
    addVersion(base, '1');
    await h.manager.start(list(model('m', base)));
    let release!: () => void;
    h.gates.set(2n, new Promise((r) => (release = r)));
    addVersion(base, '2');
    await eventually(() => states(h, 'm').some(([v, s]) => v === '2' && s === 'LOADING'), 'version 2 loading');
    assert.equal(servedVersion(h, { name: 'm' }), 1n, 'version 1 keeps serving while 2 loads');
    release();
    await eventually(() => h.disposed.includes(1n), 'version 1 unloaded');
    assert.deepEqual(states(h, 'm'), [['2', 'AVAILABLE'], ['1', 'END']]);
    assert.equal(servedVersion(h, { name: 'm' }), 2n);
  });

  it('keeps the old version serving when a new one fails to load, and reports the error', async () => {
    const h = make();
    const base = join(h.root, 'm');
    addVersion(base, '1');
    await h.manager.start(list(model('m', base)));
    h.failing.set(2n, Infinity);
    addVersion(base, '2');
    await eventually(() => states(h, 'm').some(([v, s]) => v === '2' && s === 'END'), 'version 2 failed');
    const status = h.manager.modelStatus('m').versions.find((v) => v.version === 2n)!;
    assert.equal(status.error?.code, Code.DATA_LOSS);
    assert.match(status.error!.message, /corrupt version 2/);
    assert.equal(servedVersion(h, { name: 'm' }), 1n);
    assert.ok(!h.disposed.includes(1n));
  });

  it('retries a failed load up to --max_num_load_retries times', async () => {
    const h = make({ maxLoadRetries: 2 });
    const base = join(h.root, 'm');
    addVersion(base, '1');
    h.failing.set(1n, 2);
    await h.manager.start(list(model('m', base)));
    assert.deepEqual(states(h, 'm'), [['1', 'AVAILABLE']]);
    assert.equal(h.loads.length, 3);
  });

  it('waits for in-flight requests before unloading', async () => {
    const h = make();
    const base = join(h.root, 'm');
    addVersion(base, '1');
    await h.manager.start(list(model('m', base)));
    const held = h.manager.acquire({ name: 'm' });
    addVersion(base, '2');
    await eventually(() => states(h, 'm').some(([v, s]) => v === '1' && s === 'UNLOADING'), 'version 1 unloading');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!h.disposed.includes(1n), 'not disposed while a request holds it');
    held.release();
    await eventually(() => h.disposed.includes(1n), 'version 1 disposed');
  });

  it('moves labels only to AVAILABLE versions, rejecting the whole reload otherwise', async () => {
    const h = make();
    const base = join(h.root, 'm');
    addVersion(base, '1');
    addVersion(base, '2');
    const both = { modelVersionPolicy: { policyChoice: { case: 'all' as const, value: {} } } };
    await h.manager.start(list(model('m', base, { ...both, versionLabels: { stable: 1n } })));
    assert.equal(servedVersion(h, { name: 'm', label: 'stable' }), 1n);
    await h.manager.reloadConfig(list(model('m', base, { ...both, versionLabels: { stable: 2n, test: 2n } })));
    assert.equal(servedVersion(h, { name: 'm', label: 'stable' }), 2n);
    await assert.rejects(
      h.manager.reloadConfig(list(model('m', base, { ...both, versionLabels: { stable: 3n } }), model('other', join(h.root, 'o')))),
      rejectsWith(Code.FAILED_PRECONDITION, 'Request to assign label to version 3 of model m, which is not currently available for inference'),
    );
    assert.equal(servedVersion(h, { name: 'm', label: 'stable' }), 2n, 'old labels kept');
    assert.deepEqual(h.manager.listModels().map((m) => m.name), ['m'], 'the rejected reload added nothing');
  });

  it('allows new labels to unavailable versions with --allow_version_labels_for_unavailable_models', async () => {
    const h = make({ allowLabelsForUnavailable: true });
    const base = join(h.root, 'm');
    addVersion(base, '1');
    await h.manager.start(list(model('m', base, { versionLabels: { stable: 1n } })));
    await h.manager.reloadConfig(list(model('m', base, { versionLabels: { stable: 1n, canary: 5n } })));
    assert.equal(h.manager.modelStatus('m').labels.get('canary'), 5n);
    await assert.rejects(
      h.manager.reloadConfig(list(model('m', base, { versionLabels: { stable: 5n, canary: 5n } }))),
      (e) => e instanceof ServingError && e.code === Code.FAILED_PRECONDITION,
      'an existing label still needs an AVAILABLE version',
    );
  });

  it('keeps a startup label pending until its version is AVAILABLE instead of failing', async () => {
    const h = make();
    const base = join(h.root, 'm');
    addVersion(base, '1');
    await h.manager.start(list(model('m', base, { modelVersionPolicy: { policyChoice: { case: 'all', value: {} } }, versionLabels: { test: 2n } })));
    assert.throws(() => h.manager.acquire({ name: 'm', label: 'test' }), (e) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT);
    addVersion(base, '2');
    await eventually(() => h.manager.modelStatus('m').labels.get('test') === 2n, 'label applied');
    assert.equal(servedVersion(h, { name: 'm', label: 'test' }), 2n);
  });

  it('realises exactly the new list on reload: removed models unload, new ones load', async () => {
    const h = make();
    addVersion(join(h.root, 'a'), '1');
    addVersion(join(h.root, 'b'), '1');
    await h.manager.start(list(model('a', join(h.root, 'a'))));
    await h.manager.reloadConfig(list(model('b', join(h.root, 'b'))));
    await h.manager.settled();
    assert.deepEqual(h.manager.listModels().map((m) => m.name), ['b']);
    assert.throws(() => h.manager.acquire({ name: 'a' }), (e) => e instanceof ServingError && e.code === Code.NOT_FOUND);
    assert.deepEqual(h.disposed, [1n]);
    assert.equal(servedVersion(h, { name: 'b' }), 1n);
  });

  it('is not ready while a model has no AVAILABLE version', async () => {
    const h = make();
    await h.manager.start(list(model('empty', join(h.root, 'empty'))));
    assert.equal(h.manager.isReady(), false);
    addVersion(join(h.root, 'empty'), '3');
    await eventually(() => h.manager.isReady(), 'ready');
  });

  it('ignores version directories that resolve outside the base path', async () => {
    const h = make();
    const base = join(h.root, 'm');
    const outside = join(h.root, 'outside');
    mkdirSync(base, { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'saved_model.pb'), '');
    symlinkSync(outside, join(base, '7'));
    await h.manager.start(list(model('m', base)));
    assert.throws(() => h.manager.modelStatus('m'), (e) => e instanceof ServingError && e.code === Code.NOT_FOUND);
    assert.equal(h.loads.length, 0);
  });

  describe('bounded loads (--num_load_threads, --max_concurrent_load_bytes)', () => {
    /** n models "m0".."m{n-1}", each with version 1, under h.root. */
    const models = (h: Harness, n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => {
        const name = `m${from + i}`;
        addVersion(join(h.root, name), '1');
        return model(name, join(h.root, name));
      });

    it('loads the initial models on the initial-load threads, then one at a time (TF Serving: --num_load_threads=0)', async () => {
      const h = make({ numInitialLoadThreads: 3 });
      await h.manager.start(list(...models(h, 9)));
      assert.equal(h.concurrency.peak, 3, 'initial load: 3 at once');
      h.concurrency.peak = 0;
      await h.manager.reloadConfig(list(...models(h, 9), ...models(h, 12, 9)));
      assert.equal(h.loads.length, 21);
      assert.equal(h.concurrency.peak, 1, 'after start: serial loads');
      assert.equal(h.manager.listModels().filter((m) => m.versions[0]?.state === VersionState.AVAILABLE).length, 21);
    });

    it('loads --num_load_threads versions at once after the initial load', async () => {
      const h = make({ numInitialLoadThreads: 1, numLoadThreads: 4 });
      await h.manager.start(list(...models(h, 2)));
      assert.equal(h.concurrency.peak, 1);
      await h.manager.reloadConfig(list(...models(h, 2), ...models(h, 16, 2)));
      assert.equal(h.concurrency.peak, 4);
    });

    it('keeps serving AVAILABLE models, and shows the queued ones as START, while loads wait', async () => {
      const h = make({ numInitialLoadThreads: 1 });
      await h.manager.start(list(...models(h, 1)));
      let release!: () => void;
      h.gates.set(1n, new Promise((r) => (release = r)));
      const reload = h.manager.reloadConfig(list(...models(h, 1), ...models(h, 5, 1)));
      await eventually(() => h.concurrency.active === 1, 'one load running');
      const byState = () => h.manager.listModels().map((m) => VersionState[m.versions[0]!.state]).sort().join(' ');
      assert.equal(byState(), 'AVAILABLE LOADING START START START START', 'one loading, the others queued');
      assert.equal(servedVersion(h, { name: 'm0' }), 1n, 'm0 keeps answering');
      assert.deepEqual(h.manager.poolStats().loads, { active: 1, activeBytes: 0, queued: 4 });
      release();
      await reload;
      assert.equal(byState(), 'AVAILABLE AVAILABLE AVAILABLE AVAILABLE AVAILABLE AVAILABLE');
    });

    it('keeps the estimated bytes of the loads in progress under the cap', async () => {
      // Model mN's estimate is (N + 1) x 5 bytes (5..40); the cap is 50 bytes.
      const estimates: number[] = [];
      let inflight = 0;
      let peakBytes = 0;
      const bytesOf = (v: VersionToLoad) => (Number(v.model.slice(1)) + 1) * 5;
      const h = make(
        {
          numInitialLoadThreads: 8,
          maxConcurrentLoadBytes: 50,
          estimateLoadBytes: async (v) => {
            estimates.push(bytesOf(v));
            return bytesOf(v);
          },
        },
        (loader) => async (v) => {
          inflight += bytesOf(v);
          peakBytes = Math.max(peakBytes, inflight);
          try {
            return await loader(v);
          } finally {
            inflight -= bytesOf(v);
          }
        },
      );
      await h.manager.start(list(...models(h, 8)));
      assert.equal(estimates.length, 8);
      assert.ok(peakBytes <= 50, `at most 50 estimated bytes loading at once, saw ${peakBytes}`);
      assert.ok(h.concurrency.peak >= 2, 'small ones still load together');
      assert.equal(h.manager.listModels().every((m) => m.versions[0]?.state === VersionState.AVAILABLE), true);
    });

    it('does not hold a load slot while waiting to retry a failed load', async () => {
      let wake: (() => void) | undefined;
      const h = make({ numInitialLoadThreads: 1, maxLoadRetries: 1, loadRetryIntervalMs: 1, sleep: () => new Promise((r) => (wake = r)) });
      await h.manager.start(list(...models(h, 1)));
      addVersion(join(h.root, 'bad'), '5');
      h.failing.set(5n, 1);
      mkdirSync(join(h.root, 'm2'));
      const reload = h.manager.reloadConfig(list(...models(h, 1), model('bad', join(h.root, 'bad')), model('m2', join(h.root, 'm2'))));
      await eventually(() => wake !== undefined, "bad's first attempt failed; waiting to retry");
      // A version of m2 appears now: it loads while bad waits (serial loads: the slot is free).
      addVersion(join(h.root, 'm2'), '1');
      await eventually(() => h.manager.listModels().find((m) => m.name === 'm2')?.versions[0]?.state === VersionState.AVAILABLE, 'm2 loaded during the retry wait');
      assert.equal(h.manager.modelStatus('bad').versions[0]?.state, VersionState.LOADING);
      wake!();
      await reload;
      assert.equal(h.manager.modelStatus('bad').versions[0]?.state, VersionState.AVAILABLE);
    });

    it('resource-preserving order unloads the old version before loading the new one', async () => {
      const h = make({ transitionPolicy: 'resource-preserving' });
      const base = join(h.root, 'm');
      addVersion(base, '1');
      await h.manager.start(list(model('m', base)));
      addVersion(base, '2');
      await eventually(() => servedVersionOrNone(h) === 2n, 'version 2 served');
      assert.deepEqual(h.disposed, [1n]);
      assert.equal(h.concurrency.peak, 1);
    });
  });

  describe('memory budget (--model_memory_budget_bytes)', () => {
    /** Every version of model "m" is estimated at 60 bytes, of "small" at 10. */
    const memoryHarness = (budget: number, extra: Partial<ManagerOptions> = {}) => {
      const decisions: string[] = [];
      const log = memoryLogger();
      /** At each load's start: the versions disposed so far. */
      const disposedAtLoad = new Map<string, bigint[]>();
      const h: Harness = make(
        {
          log,
          memoryBudgetBytes: budget,
          estimateLoadBytes: async (v) => (v.model === 'small' ? 10 : 60),
          onMemoryDecision: (name, d) => decisions.push(`${name} ${d.kind} ${d.version}`),
          ...extra,
        },
        (loader) => async (v) => {
          disposedAtLoad.set(`${v.model} ${v.version}`, [...h.disposed]);
          return loader(v);
        },
      );
      return { h, decisions, log, disposedAtLoad };
    };

    it('a reload that fits loads beside the old version (availability-preserving)', async () => {
      const { h, decisions, disposedAtLoad } = memoryHarness(200);
      const base = join(h.root, 'm');
      addVersion(base, '1');
      await h.manager.start(list(model('m', base)));
      addVersion(base, '2');
      await eventually(() => h.disposed.includes(1n), 'version 1 unloaded');
      assert.deepEqual(disposedAtLoad.get('m 2'), [], 'version 2 loaded while version 1 served');
      assert.deepEqual(decisions, []);
    });

    it('a reload that would not fit unloads the old version first, logs it and reports it once', async () => {
      const { h, decisions, log, disposedAtLoad } = memoryHarness(100);
      const base = join(h.root, 'm');
      addVersion(base, '1');
      await h.manager.start(list(model('m', base)));
      addVersion(base, '2');
      await eventually(() => servedVersionOrNone(h) === 2n, 'version 2 served');
      assert.deepEqual(disposedAtLoad.get('m 2'), [1n], 'version 1 was unloaded before version 2 started loading');
      assert.deepEqual(decisions, ['m unload-first 2']);
      const event = log.events.find((e) => e.event === 'reload_unloads_first');
      assert.ok(event, 'logged');
      assert.equal(event['needed_bytes'], 120);
      assert.equal(event['budget_bytes'], 100);
      assert.match(String(event['reason']), /loading version 2 beside what is loaded needs an estimated .* over the model memory budget/);
    });

    it('counts the other models against the budget', async () => {
      const { h, decisions, disposedAtLoad } = memoryHarness(125);
      const base = join(h.root, 'm');
      addVersion(base, '1');
      addVersion(join(h.root, 'small'), '1');
      await h.manager.start(list(model('m', base), model('small', join(h.root, 'small'))));
      addVersion(base, '2');
      await eventually(() => servedVersionOrNone(h) === 2n, 'version 2 served');
      // 10 (small) + 60 + 60 > 130.
      assert.deepEqual(disposedAtLoad.get('m 2'), [1n]);
      assert.deepEqual(decisions, ['m unload-first 2']);
    });

    it('waits while a label names the old version, says why in the status, and loads once the label is gone', async () => {
      const { h, decisions } = memoryHarness(100);
      const base = join(h.root, 'm');
      addVersion(base, '1');
      await h.manager.start(list(model('m', base, { versionLabels: { stable: 1n } })));
      addVersion(base, '2');
      await eventually(() => decisions.length > 0, 'a memory decision');
      assert.deepEqual(decisions, ['m wait 2']);
      // Polls go on (every 20 ms) and nothing changes: version 1 serves, version 2 waits (START) saying why.
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(states(h, 'm'), [['2', 'START'], ['1', 'AVAILABLE']]);
      const waiting = h.manager.modelStatus('m', 2n).versions[0]!;
      assert.equal(waiting.error, undefined);
      assert.match(waiting.waiting!, /^Waiting for memory: loading version 2 beside .* while a label names version 1 \(label stable\)/);
      assert.equal(servedVersion(h, { name: 'm', label: 'stable' }), 1n);
      assert.equal(h.loads.filter((v) => v.version === 2n).length, 0, 'version 2 not loaded');
      assert.deepEqual(decisions, ['m wait 2'], 'reported once, not at every poll');

      await h.manager.reloadConfig(list(model('m', base)));
      await eventually(() => servedVersionOrNone(h) === 2n, 'version 2 served');
      assert.deepEqual(h.disposed, [1n]);
      assert.deepEqual(decisions, ['m wait 2', 'm unload-first 2']);
      assert.equal(h.manager.modelStatus('m', 2n).versions[0]!.waiting, undefined);
    });

    it('a waiting load starts when another model frees memory', async () => {
      const { h, decisions, disposedAtLoad } = memoryHarness(150);
      const base = join(h.root, 'm');
      addVersion(base, '1');
      addVersion(join(h.root, 'other'), '7');
      // "other" is estimated 60 too: 60 + 60 + 60 > 150.
      await h.manager.start(list(model('m', base, { versionLabels: { stable: 1n } }), model('other', join(h.root, 'other'))));
      addVersion(base, '2');
      await eventually(() => decisions.length > 0, 'a memory decision');
      assert.deepEqual(decisions, ['m wait 2']);
      await h.manager.reloadConfig(list(model('m', base, { versionLabels: { stable: 1n } })));
      await eventually(() => h.manager.modelStatus('m').versions.some((v) => v.version === 2n && v.state === VersionState.AVAILABLE), 'version 2 loaded');
      assert.deepEqual(disposedAtLoad.get('m 2'), [7n], "version 2 loaded beside version 1 once other's version 7 was unloaded");
      assert.deepEqual(decisions, ['m wait 2']);
    });

    it('loads a first version over the budget anyway (nothing could make room)', async () => {
      const { h, decisions, log } = memoryHarness(50);
      addVersion(join(h.root, 'm'), '1');
      await h.manager.start(list(model('m', join(h.root, 'm'))));
      assert.equal(servedVersion(h, { name: 'm' }), 1n);
      assert.deepEqual(decisions, ['m over-budget 1']);
      assert.ok(log.events.some((e) => e.event === 'load_over_memory_budget'));
    });
  });
});

function servedVersionOrNone(h: Harness): bigint | undefined {
  try {
    return servedVersion(h, { name: 'm' });
  } catch {
    return undefined;
  }
}
