/**
 * gs:// model sources against a real GCS JSON API server (fake-gcs-server, started by the test):
 * the source downloads complete versions and pushes them, a missing prefix or a store that is
 * down pushes nothing and says so, and the real tfmodel-server serves a gs:// model and hot-loads
 * a version uploaded to the bucket, with no restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { memoryLogger } from '../../src/server/logging.js';
import type { AspiredVersionSet } from '../../src/server/core/source.js';
import { GcsStore, gcsClient } from '../../src/server/core/sources/gcs-store.js';
import { ModelCache } from '../../src/server/core/sources/model-cache.js';
import { ObjectStoreSource } from '../../src/server/core/sources/object-store-source.js';
import { GcsTestServer, gcsServerBinary } from '../support/gcs-server.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { servingTestModels } from '../support/test-models.js';

const MODELS = servingTestModels();
const HALF_PLUS_TWO = join(MODELS.halfPlusTwo, '00000123');
const HALF_PLUS_THREE = join(MODELS.halfPlusThree, '00000123');

function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const binary = gcsServerBinary();

(binary.value ? describe : describe.skip)(`gs:// model sources on a real GCS server (fake-gcs-server)${binary.skipReason ? ` (skipped: ${binary.skipReason})` : ''}`, function () {
  this.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-gcs-'));
  const gcs = new GcsTestServer(binary.value ?? '', join(root, 'store'));
  const stops: Array<() => unknown> = [];
  let counter = 0;

  before(async () => {
    await gcs.start();
    await gcs.createBucket('models');
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await gcs.start();
  });
  after(async () => {
    await gcs.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function upload(prefix: string, dir: string): Promise<void> {
    for (const name of filesOf(dir)) await gcs.put('models', `${prefix}/${name}`, readFileSync(join(dir, name)));
  }

  function source(prefix: string) {
    const log = memoryLogger();
    const pushes: AspiredVersionSet[] = [];
    const cache = new ModelCache(join(root, `cache-${++counter}`), 1 << 30);
    const src = new ObjectStoreSource(
      { model: 'm', basePath: `gs://models/${prefix}`, policy: { kind: 'latest', numVersions: 1 }, log, pollMs: 100, onAspired: (a) => pushes.push(a) },
      { store: new GcsStore(gcsClient(gcs.env()), 'models'), prefix: `${prefix}/`, cache },
    );
    stops.push(() => src.stop());
    const problems = () => log.events.filter((e) => e.level !== 'info').map((e) => String(e['problem'] ?? e['reason'] ?? e['error']));
    return { src, pushes, last: () => pushes.at(-1), problems };
  }

  it('downloads the aspired version byte-identical (MD5 checked) and pushes a new one at the next poll', async () => {
    await upload('a/1', HALF_PLUS_TWO);
    const s = source('a');
    await s.src.start();
    const dir = s.last()?.get(1n);
    assert.ok(dir, 'version 1 pushed');
    for (const f of filesOf(HALF_PLUS_TWO)) assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(HALF_PLUS_TWO, f)), f);
    await upload('a/2', HALF_PLUS_THREE);
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed');
  });

  it('pushes nothing for an empty prefix or a store that is down, saying why', async () => {
    const empty = source('nothing-here');
    await empty.src.start();
    assert.equal(empty.pushes.length, 0);
    assert.ok(empty.problems().some((p) => p.startsWith('No versions of servable m found under base path gs://models/nothing-here')), empty.problems().join('\n'));
    await upload('b/1', HALF_PLUS_TWO);
    await gcs.stop();
    const down = source('b');
    await down.src.start();
    assert.equal(down.pushes.length, 0);
    assert.ok(down.problems().some((p) => p.startsWith('Could not list gs://models/b') && /ECONNREFUSED/.test(p)), down.problems().join('\n'));
    await gcs.start();
    await eventually(() => down.last()?.has(1n) === true, 'version 1 pushed once the store is back');
  });

  it('tfmodel-server serves a gs:// model and hot-loads a version uploaded to the bucket', async () => {
    await upload('served/hpt/1', HALF_PLUS_TWO);
    const rest = freePortSync();
    const server = ServerProcess.start(
      [`--rest_api_port=${rest}`, '--model_name=hpt', '--model_base_path=gs://models/served/hpt', `--model_cache_dir=${join(root, 'server-cache')}`, '--inference_threads=0'],
      gcs.env(),
    );
    stops.push(() => server.stop('SIGKILL'));
    await server.ports();
    const predict = async () => {
      const r = await fetch(`http://127.0.0.1:${rest}/v1/models/hpt:predict`, { method: 'POST', body: JSON.stringify({ instances: [1.0] }) });
      return JSON.stringify({ status: r.status, body: (await r.json()) as unknown });
    };
    assert.equal(await predict(), JSON.stringify({ status: 200, body: { predictions: [2.5] } }));
    await upload('served/hpt/2', HALF_PLUS_THREE);
    await eventually(async () => (await predict()) === JSON.stringify({ status: 200, body: { predictions: [3.5] } }), 'version 2 (half plus three) served');
  });
});
