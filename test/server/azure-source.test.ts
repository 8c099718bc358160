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
import { join } from 'node:path';
import { AzureStore, splitAzurePath } from '../../src/server/core/sources/azure-store.js';
import { ModelCache } from '../../src/server/core/sources/model-cache.js';
import { ObjectStoreSource } from '../../src/server/core/sources/object-store-source.js';
import { AZURE_ACCOUNT, AzureTestServer, azuriteBlobMain } from '../support/azure-server.js';
import { HALF_PLUS_THREE, HALF_PLUS_TWO, checkServedFromStore, eventually, filesOf, recordedSource, uploadVersion } from '../support/object-store-cases.js';

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

  const upload = (prefix: string, dir: string, only?: (name: string) => boolean) => uploadVersion((c, k, body) => azure.put(c, k, body), 'models', prefix, dir, only);

  function source(prefix: string, options: { env?: Record<string, string>; container?: string } = {}) {
    const cache = new ModelCache(join(root, `cache-${++counter}`), 1 << 30);
    const container = options.container ?? 'models';
    const basePath = `az://${AZURE_ACCOUNT}/${container}/${prefix}`;
    const s = recordedSource(
      (log, onAspired) =>
        new ObjectStoreSource(
          { model: 'm', basePath, policy: { kind: 'latest', numVersions: 1 }, log, pollMs: 100, onAspired },
          { store: new AzureStore(AZURE_ACCOUNT, container, options.env ?? azure.env()), prefix: `${prefix}/`, cache },
        ),
    );
    stops.push(() => s.src.stop());
    return { ...s, cache, basePath };
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

  it('tfmodel-server serves an az:// model, hot-loads a version uploaded to the container, and keeps serving when the store goes down', () =>
    checkServedFromStore({
      basePath: `az://${AZURE_ACCOUNT}/models/served/hpt`,
      upload: (version, dir) => upload(`served/hpt/${version}`, dir),
      env: azure.env(),
      cacheDir: join(root, 'server-cache'),
      stops,
      stopStore: () => azure.stop(),
    }));
});
