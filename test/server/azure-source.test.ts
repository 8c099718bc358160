/**
 * az:// model sources against a real Azure Blob Storage emulator (Azurite, started by the test):
 * complete versions are downloaded into the cache and pushed; the store down at start and
 * mid-download, a half-uploaded version, wrong credentials, a missing container and an empty
 * prefix push nothing new (whatever is served stays served) and the log says what happened; and
 * the real tfmodel-server serves an az:// model and hot-loads a version uploaded to the container.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { memoryLogger } from '../../src/server/logging.js';
import type { AspiredVersionSet } from '../../src/server/core/source.js';
import { AzureStore, splitAzurePath } from '../../src/server/core/sources/azure-store.js';
import { ModelCache } from '../../src/server/core/sources/model-cache.js';
import { ObjectStoreSource } from '../../src/server/core/sources/object-store-source.js';
import { AZURE_ACCOUNT, AzureTestServer, azuriteBlobMain } from '../support/azure-server.js';
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

describe('az:// base paths', () => {
  it('split as tensorflow-io writes them: az://<account>/<container>/<prefix>', () => {
    assert.deepEqual(splitAzurePath('az://acct/models/prod/iris/'), { account: 'acct', container: 'models', prefix: 'prod/iris/' });
    assert.deepEqual(splitAzurePath('az://acct/models'), { account: 'acct', container: 'models', prefix: '' });
  });
});

const main = azuriteBlobMain();

(main.value ? describe : describe.skip)(`az:// model sources on a real Azure Blob emulator (Azurite)${main.skipReason ? ` (skipped: ${main.skipReason})` : ''}`, function () {
  this.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-az-'));
  const azure = new AzureTestServer(main.value ?? '', join(root, 'store'));
  const stops: Array<() => unknown> = [];
  let counter = 0;

  before(async () => {
    await azure.start();
    await azure.createContainer('models');
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await azure.start();
  });
  after(async () => {
    await azure.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function upload(prefix: string, dir: string, only?: (name: string) => boolean): Promise<void> {
    for (const name of filesOf(dir)) if (!only || only(name)) await azure.put('models', `${prefix}/${name}`, readFileSync(join(dir, name)));
  }

  function source(prefix: string, options: { env?: Record<string, string>; container?: string } = {}) {
    const log = memoryLogger();
    const pushes: AspiredVersionSet[] = [];
    const cache = new ModelCache(join(root, `cache-${++counter}`), 1 << 30);
    const container = options.container ?? 'models';
    const basePath = `az://${AZURE_ACCOUNT}/${container}/${prefix}`;
    const src = new ObjectStoreSource(
      { model: 'm', basePath, policy: { kind: 'latest', numVersions: 1 }, log, pollMs: 100, onAspired: (a) => pushes.push(a) },
      { store: new AzureStore(AZURE_ACCOUNT, container, options.env ?? azure.env()), prefix: `${prefix}/`, cache },
    );
    stops.push(() => src.stop());
    const problems = () => log.events.filter((e) => e.level !== 'info').map((e) => String(e['problem'] ?? e['reason'] ?? e['error']));
    return { src, log, pushes, cache, basePath, last: () => pushes.at(-1), problems };
  }

  it('downloads the aspired version byte-identical (Content-MD5 checked) and pushes a new one at the next poll', async () => {
    await upload('a/1', HALF_PLUS_TWO);
    const s = source('a');
    await s.src.start();
    const dir = s.last()?.get(1n);
    assert.ok(dir, `version 1 pushed (${s.problems().join('\n')})`);
    assert.deepEqual(filesOf(dir).filter((f) => !f.startsWith('.tfmodel')), filesOf(HALF_PLUS_TWO));
    for (const f of filesOf(HALF_PLUS_TWO)) assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(HALF_PLUS_TWO, f)), f);
    const manifest = JSON.parse(readFileSync(join(dir, '.tfmodel-objects.json'), 'utf8')) as Array<[string, number, string]>;
    assert.ok(manifest.every(([, , etag]) => /^0x[0-9a-f]+$/.test(etag)), `Azure ETags recorded: ${JSON.stringify(manifest)}`);
    await upload('a/2', HALF_PLUS_THREE);
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed');
    assert.deepEqual([...s.last()!.keys()], [2n]);
  });

  it('pushes the latest complete version while a newer one is half-uploaded', async () => {
    await upload('c/1', HALF_PLUS_TWO);
    await upload('c/2', HALF_PLUS_THREE, (name) => name.startsWith('variables/'));
    const s = source('c');
    await s.src.start();
    assert.deepEqual([...s.last()!.keys()], [1n], 'version 1 while 2 is incomplete');
    assert.ok(s.problems().some((p) => p.includes('no saved_model.pb yet')), s.problems().join('\n'));
    await upload('c/2', HALF_PLUS_THREE, (name) => !name.startsWith('variables/'));
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed once complete');
  });

  it('pushes nothing when the store is down at start, says so, and catches up when it is back', async () => {
    await upload('d/1', HALF_PLUS_TWO);
    await azure.stop();
    const s = source('d');
    await s.src.start();
    assert.equal(s.pushes.length, 0);
    assert.ok(s.problems().some((p) => p.startsWith(`Could not list ${s.basePath}`) && /ECONNREFUSED/.test(p)), s.problems().join('\n'));
    await azure.start();
    await eventually(() => s.last()?.has(1n) === true, 'version 1 pushed after the store came back');
  });

  it('keeps the previous version when the store goes down in the middle of a download', async () => {
    await upload('e/1', HALF_PLUS_TWO);
    const s = source('e');
    await s.src.start();
    const big = 192 * 1024 * 1024;
    await azure.put('models', 'e/2/assets/big.bin', Buffer.alloc(big, 7));
    await upload('e/2', HALF_PLUS_THREE);
    await eventually(() => readdirSync(s.cache.root).some((n) => n.startsWith('.staging')), 'the download of version 2 started', 60_000);
    await azure.stop();
    await eventually(() => s.log.events.some((e) => e.event === 'version_fetch_failed'), 'the failed download logged');
    assert.deepEqual([...s.last()!.keys()], [1n], 'version 1 still aspired');
    assert.equal(existsSync(s.cache.pathOf(ModelCache.keyOf(s.basePath), 2n)), false, 'no partial version in the cache');
    await eventually(() => !readdirSync(s.cache.root).some((n) => n.startsWith('.staging')), 'the staging directory removed');
    await azure.start();
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed once the store is back', 120_000);
    assert.equal(statSync(join(s.last()!.get(2n)!, 'assets', 'big.bin')).size, big);
    await azure.delete('models', 'e/2/assets/big.bin');
  });

  it('says what is wrong with a wrong key, another account, a missing container and an empty prefix, pushing nothing', async () => {
    await upload('f/1', HALF_PLUS_TWO);
    const cases = [
      { s: source('f', { env: { AZURE_STORAGE_CONNECTION_STRING: azure.connectionString(Buffer.from('not-the-key').toString('base64')) } }), expect: /: AuthorizationFailure|: AuthenticationFailed/ },
      { s: source('f', { env: { AZURE_STORAGE_KEY: Buffer.from('not-the-key').toString('base64'), AZURE_STORAGE_BLOB_ENDPOINT: azure.endpoint } }), expect: /: AuthorizationFailure|: AuthenticationFailed/ },
      { s: source('f', { env: { AZURE_STORAGE_CONNECTION_STRING: azure.connectionString().replace(`AccountName=${AZURE_ACCOUNT}`, 'AccountName=someoneelse') } }), expect: /is for account "someoneelse", not "tfmodeltest"/ },
      { s: source('f', { container: 'no-such-container' }), expect: /: ContainerNotFound.*\(HTTP 404\)/ },
    ];
    for (const { s, expect } of cases) {
      await s.src.start();
      assert.equal(s.pushes.length, 0);
      assert.ok(s.problems().some((p) => p.startsWith(`Could not list ${s.basePath}`) && expect.test(p)), `${expect}: ${s.problems().join('\n')}`);
    }
    const empty = source('nothing-here');
    await empty.src.start();
    assert.equal(empty.pushes.length, 0);
    assert.ok(empty.problems().some((p) => p.startsWith(`No versions of servable m found under base path ${empty.basePath}`)), empty.problems().join('\n'));
    const right = source('f', { env: { AZURE_STORAGE_KEY: azure.connectionString().match(/AccountKey=([^;]+)/)![1]!, AZURE_STORAGE_BLOB_ENDPOINT: azure.endpoint } });
    await right.src.start();
    assert.ok(right.last()?.has(1n), `the account key from AZURE_STORAGE_KEY works (${right.problems().join('\n')})`);
  });

  it('tfmodel-server serves an az:// model, hot-loads a version uploaded to the container, and keeps serving when the store goes down', async () => {
    await upload('served/hpt/1', HALF_PLUS_TWO);
    const rest = freePortSync();
    const server = ServerProcess.start(
      [`--rest_api_port=${rest}`, '--model_name=hpt', `--model_base_path=az://${AZURE_ACCOUNT}/models/served/hpt`, `--model_cache_dir=${join(root, 'server-cache')}`, '--inference_threads=0'],
      azure.env(),
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
    await azure.stop();
    await eventually(() => server.events.some((e) => e.event === 'base_path_unreadable'), 'the store outage logged');
    assert.equal(await predict(), JSON.stringify({ status: 200, body: { predictions: [3.5] } }), 'still serving with the store down');
  });
});
