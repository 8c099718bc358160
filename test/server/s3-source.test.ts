/**
 * s3:// model sources against a real S3-compatible server (versitygw, started by the test): the
 * source downloads complete versions into the cache and pushes them; the store down at start and
 * mid-download, a half-uploaded version, wrong credentials and a missing prefix push nothing new
 * (whatever is served stays served) and the log says what happened; and the real tfmodel-server
 * serves an s3:// model and hot-loads a version uploaded to the bucket.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { ModelCache } from '../../src/server/core/sources/model-cache.js';
import { ObjectStoreSource } from '../../src/server/core/sources/object-store-source.js';
import { S3Store, s3ClientConfig } from '../../src/server/core/sources/s3-store.js';
import { HALF_PLUS_THREE, HALF_PLUS_TWO, checkServedFromStore, eventually, filesOf, recordedSource, uploadVersion } from '../support/object-store-cases.js';
import { S3TestServer, s3ServerBinary } from '../support/s3-server.js';

const binary = s3ServerBinary();

(binary.value ? describe : describe.skip)(`s3:// model sources on a real S3 server (versitygw)${binary.skipReason ? ` (skipped: ${binary.skipReason})` : ''}`, function () {
  this.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-s3-'));
  const s3 = new S3TestServer(binary.value ?? '', join(root, 'store'));
  const stops: Array<() => unknown> = [];
  let counter = 0;

  before(async () => {
    await s3.start();
    await s3.createBucket('models');
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await s3.start().catch(() => undefined);
  });
  after(async () => {
    await s3.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Uploads a local version directory under `prefix` (objects in `only`, if given). */
  const upload = (prefix: string, dir: string, only?: (name: string) => boolean) => uploadVersion((b, k, body) => s3.put(b, k, body), 'models', prefix, dir, only);

  /** An ObjectStoreSource on s3://<bucket>/<prefix>, recording what it pushes. */
  function source(prefix: string, options: { env?: Record<string, string>; bucket?: string; cacheBytes?: number; cache?: ModelCache } = {}) {
    const cache = options.cache ?? new ModelCache(join(root, `cache-${++counter}`), options.cacheBytes ?? 1 << 30);
    const client = new S3Client(s3ClientConfig(s3.env(options.env)));
    const bucket = options.bucket ?? 'models';
    const s = recordedSource(
      (log, onAspired) =>
        new ObjectStoreSource(
          { model: 'm', basePath: `s3://${bucket}/${prefix}`, policy: { kind: 'latest', numVersions: 1 }, log, pollMs: 100, onAspired },
          { store: new S3Store(client, bucket), prefix: `${prefix}/`, cache },
        ),
    );
    stops.push(() => s.src.stop());
    return { ...s, cache };
  }

  it('downloads the aspired version into the cache, complete and byte-identical, and pushes its local directory', async () => {
    await upload('a/1', HALF_PLUS_TWO);
    const s = source('a');
    await s.src.start();
    const dir = s.last()?.get(1n);
    assert.ok(dir, 'version 1 pushed');
    assert.deepEqual(filesOf(dir).filter((f) => !f.startsWith('.tfmodel')), filesOf(HALF_PLUS_TWO));
    for (const f of filesOf(HALF_PLUS_TWO)) assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(HALF_PLUS_TWO, f)), f);
    assert.deepEqual(readdirSync(s.cache.root).filter((n) => n.startsWith('.staging')), [], 'no staging directory left');
  });

  it('hot-loads: a new version uploaded to the bucket is pushed at the next poll', async () => {
    await upload('b/1', HALF_PLUS_TWO);
    const s = source('b');
    await s.src.start();
    assert.deepEqual([...s.last()!.keys()], [1n]);
    await upload('b/2', HALF_PLUS_THREE);
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed');
    assert.deepEqual([...s.last()!.keys()], [2n]);
  });

  it('pushes nothing while a version is half-uploaded, and the latest complete version meanwhile', async () => {
    await upload('c/1', HALF_PLUS_TWO);
    await upload('c/2', HALF_PLUS_THREE, (name) => name.startsWith('variables/'));
    const s = source('c');
    await s.src.start();
    assert.deepEqual([...s.last()!.keys()], [1n], 'version 1 served while 2 is incomplete');
    assert.ok(s.problems().some((p) => p.includes('no saved_model.pb yet')), s.problems().join('\n'));
    await upload('c/2', HALF_PLUS_THREE, (name) => !name.startsWith('variables/'));
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed once complete');
  });

  it('pushes nothing when the store is down at start, says so, and catches up when it is back', async () => {
    await upload('d/1', HALF_PLUS_TWO);
    await s3.stop();
    const s = source('d');
    await s.src.start();
    assert.equal(s.pushes.length, 0);
    assert.ok(s.problems().some((p) => p.startsWith('Could not list s3://models/d') && /ECONNREFUSED/.test(p)), s.problems().join('\n'));
    await s3.start();
    await eventually(() => s.last()?.has(1n) === true, 'version 1 pushed after the store came back');
  });

  it('keeps the previous version when the store goes down in the middle of a download', async () => {
    await upload('e/1', HALF_PLUS_TWO);
    const s = source('e');
    await s.src.start();
    // Version 2 with one big object, so that the download is under way when the store dies.
    await s3.put('models', 'e/2/assets/big.bin', Buffer.alloc(256 * 1024 * 1024, 7));
    await upload('e/2', HALF_PLUS_THREE);
    await eventually(() => readdirSync(s.cache.root).some((n) => n.startsWith('.staging')), () => `the download of version 2 started (${JSON.stringify(s.log.events.slice(-3), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))})`, 60_000);
    await s3.stop();
    await eventually(() => s.log.events.some((e) => e.event === 'version_fetch_failed'), 'the failed download logged');
    assert.deepEqual([...s.last()!.keys()], [1n], 'version 1 still aspired');
    assert.equal(existsSync(s.cache.pathOf(ModelCache.keyOf('s3://models/e'), 2n)), false, 'no partial version in the cache');
    await eventually(() => !readdirSync(s.cache.root).some((n) => n.startsWith('.staging')), 'the staging directory removed');
    await s3.start();
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed once the store is back', 120_000);
    assert.equal(statSync(join(s.last()!.get(2n)!, 'assets', 'big.bin')).size, 256 * 1024 * 1024);
    await s3.client().send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: 'models', Key: 'e/2/assets/big.bin' }));
  });

  it('says what is wrong with wrong credentials, a missing bucket and an empty prefix, pushing nothing', async () => {
    await upload('f/1', HALF_PLUS_TWO);
    const wrong = source('f', { env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    await wrong.src.start();
    assert.equal(wrong.pushes.length, 0);
    assert.ok(wrong.problems().some((p) => /Could not list s3:\/\/models\/f: SignatureDoesNotMatch/.test(p)), wrong.problems().join('\n'));
    const noBucket = source('f', { bucket: 'no-such-bucket' });
    await noBucket.src.start();
    assert.equal(noBucket.pushes.length, 0);
    assert.ok(noBucket.problems().some((p) => /Could not list s3:\/\/no-such-bucket\/f: NoSuchBucket/.test(p)), noBucket.problems().join('\n'));
    const empty = source('nothing-here');
    await empty.src.start();
    assert.equal(empty.pushes.length, 0);
    assert.ok(empty.problems().some((p) => p.startsWith('No versions of servable m found under base path s3://models/nothing-here')), empty.problems().join('\n'));
  });

  it('keeps the cache under its bound, evicting the least recently used version no model aspires', async () => {
    const versionBytes = filesOf(HALF_PLUS_TWO).reduce((sum, f) => sum + statSync(join(HALF_PLUS_TWO, f)).size, 0);
    const cache = new ModelCache(join(root, 'cache-bounded'), Math.floor(versionBytes * 2.5));
    for (const prefix of ['g1', 'g2', 'g3']) await upload(`${prefix}/1`, HALF_PLUS_TWO);
    const g1 = source('g1', { cache });
    await g1.src.start();
    g1.src.stop();
    const g2 = source('g2', { cache });
    await g2.src.start();
    const g3 = source('g3', { cache });
    await g3.src.start();
    assert.ok(g3.last()?.has(1n), 'g3 fetched');
    assert.equal(existsSync(cache.pathOf(ModelCache.keyOf('s3://models/g1'), 1n)), false, 'g1 (stopped, least recently used) evicted');
    assert.equal(existsSync(cache.pathOf(ModelCache.keyOf('s3://models/g2'), 1n)), true, 'g2 (still aspired) kept');
    assert.ok(cache.totalBytes() <= cache.maxBytes);
  });

  it('tfmodel-server serves an s3:// model, hot-loads a new version from the bucket, and keeps serving when the store goes down', () =>
    checkServedFromStore({
      basePath: 's3://models/served/hpt',
      upload: (version, dir) => upload(`served/hpt/${version}`, dir),
      env: s3.env(),
      cacheDir: join(root, 'server-cache'),
      stops,
      stopStore: () => s3.stop(),
    }));
});
