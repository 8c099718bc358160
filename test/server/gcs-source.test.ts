/**
 * gs:// model sources against a real GCS JSON API server (fake-gcs-server, started by the test):
 * the source downloads complete versions and pushes them, a missing prefix or a store that is
 * down pushes nothing and says so, and the real tfmodel-server serves a gs:// model and hot-loads
 * a version uploaded to the bucket, with no restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcsStore, gcsClient } from '../../src/server/core/sources/gcs-store.js';
import { ModelCache } from '../../src/server/core/sources/model-cache.js';
import { ObjectStoreSource } from '../../src/server/core/sources/object-store-source.js';
import { GcsTestServer, gcsServerBinary } from '../support/gcs-server.js';
import { HALF_PLUS_THREE, HALF_PLUS_TWO, checkServedFromStore, eventually, filesOf, recordedSource, uploadVersion } from '../support/object-store-cases.js';

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

  const upload = (prefix: string, dir: string) => uploadVersion((b, k, body) => gcs.put(b, k, body), 'models', prefix, dir);

  function source(prefix: string) {
    const cache = new ModelCache(join(root, `cache-${++counter}`), 1 << 30);
    const s = recordedSource(
      (log, onAspired) =>
        new ObjectStoreSource(
          { model: 'm', basePath: `gs://models/${prefix}`, policy: { kind: 'latest', numVersions: 1 }, log, pollMs: 100, onAspired },
          { store: new GcsStore(gcsClient(gcs.env()), 'models'), prefix: `${prefix}/`, cache },
        ),
    );
    stops.push(() => s.src.stop());
    return s;
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

  it('tfmodel-server serves a gs:// model and hot-loads a version uploaded to the bucket', () =>
    checkServedFromStore({
      basePath: 'gs://models/served/hpt',
      upload: (version, dir) => upload(`served/hpt/${version}`, dir),
      env: gcs.env(),
      cacheDir: join(root, 'server-cache'),
      stops,
    }));
});
