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
}

function harness(options: Partial<ManagerOptions> = {}): Harness {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-manager-'));
  const loads: VersionToLoad[] = [];
  const disposed: bigint[] = [];
  const failing = new Map<bigint, number>();
  const gates = new Map<bigint, Promise<void>>();
  const loader: VersionLoader = async (v) => {
    loads.push(v);
    await gates.get(v.version);
    const remaining = failing.get(v.version) ?? 0;
    if (remaining > 0) {
      failing.set(v.version, remaining - 1);
      throw dataLoss(`corrupt version ${v.version}`);
    }
    return { engine: fakeEngine(v.version, disposed), signatureDefs: {} };
  };
  const manager = new ModelManager({
    loader,
    log: memoryLogger(),
    fileSystemPollMs: 20,
    maxLoadRetries: 0,
    loadRetryIntervalMs: 1,
    allowLabelsForUnavailable: false,
    ...options,
  });
  return { manager, root, loads, disposed, failing, gates };
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
  const make = (options?: Partial<ManagerOptions>): Harness => {
    const h = harness(options);
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
});
