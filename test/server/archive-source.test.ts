/**
 * https:// (here http://, on a node:http server the test starts on 127.0.0.1) archive base paths:
 * a .tar.gz made by the system's tar and a .zip are downloaded, checked, extracted into the cache
 * and pushed; an unchanged archive is not downloaded again (If-None-Match), a changed one
 * hot-loads; a corrupt or cut-off archive, an entry escaping with ../, a link, a size bomb, a 404
 * and a server that is down push nothing new (what is served stays served) and the log says why;
 * and the real tfmodel-server serves an archive and hot-loads its replacement.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import yazl from 'yazl';
import { ArchiveSource, archiveOf, shownUrl } from '../../src/server/core/sources/archive-source.js';
import { ModelCache } from '../../src/server/core/sources/model-cache.js';
import { ArchiveTestServer } from '../support/archive-server.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { HALF_PLUS_THREE, HALF_PLUS_TWO, eventually, filesOf, recordedSource } from '../support/object-store-cases.js';

const MiB = 1024 * 1024;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('archive base paths', () => {
  it('are named by their extension; logged without query string or user info', () => {
    assert.deepEqual(archiveOf('https://h/m/hpt.tar.gz'), { kind: 'tar.gz', stem: 'hpt' });
    assert.deepEqual(archiveOf('https://h/m/3.TGZ?sig=x'), { kind: 'tar.gz', stem: '3' });
    assert.deepEqual(archiveOf('https://h/m/hpt.zip#sha256=00'), { kind: 'zip', stem: 'hpt' });
    assert.equal(archiveOf('https://h/m/hpt/'), undefined);
    assert.equal(shownUrl('https://user:pw@h:8443/m/hpt.zip?X-Amz-Signature=secret#sha256=1'), 'https://h:8443/m/hpt.zip?…');
  });
});

describe('https:// archive model sources (a node:http server on 127.0.0.1)', function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-archive-'));
  const http = new ArchiveTestServer();
  const stops: Array<() => unknown> = [];
  let counter = 0;

  before(() => http.start());
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await http.start();
  });
  after(async () => {
    await http.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** A base directory with these versions (version -> a SavedModel directory). */
  function baseDir(versions: Record<string, string>): string {
    const base = join(root, `base-${++counter}`);
    for (const [version, dir] of Object.entries(versions)) cpSync(dir, join(base, version), { recursive: true });
    return base;
  }

  /** `tar -czf` of a directory's contents, as a user makes one. */
  function tarGz(dir: string): Buffer {
    const out = join(root, `archive-${++counter}.tar.gz`);
    execFileSync('tar', ['-czf', out, '-C', dir, '.']);
    return readFileSync(out);
  }

  async function zipOf(dir: string, compress = true): Promise<Buffer> {
    const zip = new yazl.ZipFile();
    for (const name of filesOf(dir)) zip.addFile(join(dir, name), name, { compress });
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** A .tar.gz of hand-made entries (names and types a user's tar would not write). */
  async function hostileTarGz(entries: Array<{ name: string; body?: Buffer; size?: number; type?: 'file' | 'symlink'; linkname?: string }>): Promise<Buffer> {
    const pack = tarStream.pack();
    const chunks: Buffer[] = [];
    const done = (async () => {
      for await (const chunk of pack) chunks.push(chunk as Buffer);
    })();
    for (const e of entries) {
      if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '/etc/passwd' });
      else pack.entry({ name: e.name, size: (e.body ?? Buffer.alloc(e.size ?? 0)).length }, e.body ?? Buffer.alloc(e.size ?? 0));
    }
    pack.finalize();
    await done;
    return gzipSync(Buffer.concat(chunks));
  }

  function source(url: string, options: { cacheBytes?: number } = {}) {
    const cache = new ModelCache(join(root, `cache-${++counter}`), options.cacheBytes ?? 1 << 30);
    const s = recordedSource((log, onAspired) => new ArchiveSource({ model: 'm', basePath: url, policy: { kind: 'latest', numVersions: 1 }, log, pollMs: 100, onAspired }, { cache }));
    stops.push(() => s.src.stop());
    const noStaging = () => !readdirSync(cache.root).some((n) => n.startsWith('.staging'));
    return { ...s, cache, noStaging };
  }


  it('serves the latest version of a tar -czf archive byte-identical, downloads it once while unchanged, and hot-loads its replacement', async () => {
    http.set('/a/hpt.tar.gz', { body: tarGz(baseDir({ '1': HALF_PLUS_TWO })) });
    const s = source(http.url('/a/hpt.tar.gz'));
    await s.src.start();
    const dir = s.last()?.get(1n);
    assert.ok(dir, `version 1 pushed (${s.problems().join('\n')})`);
    assert.deepEqual(filesOf(dir).filter((f) => !f.startsWith('.tfmodel')), filesOf(HALF_PLUS_TWO));
    for (const f of filesOf(HALF_PLUS_TWO)) assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(HALF_PLUS_TWO, f)), f);
    await pause(600);
    assert.equal(http.fullReplies.get('/a/hpt.tar.gz'), 1, 'polled with If-None-Match, not downloaded again');
    http.set('/a/hpt.tar.gz', { body: tarGz(baseDir({ '1': HALF_PLUS_TWO, '2': HALF_PLUS_THREE })) });
    await eventually(() => s.last()?.has(2n) === true, 'version 2 pushed from the replaced archive');
    assert.deepEqual([...s.last()!.keys()], [2n]);
    assert.deepEqual(readFileSync(join(s.last()!.get(2n)!, 'saved_model.pb')), readFileSync(join(HALF_PLUS_THREE, 'saved_model.pb')));
    assert.ok(s.noStaging(), 'no staging directory left');
  });

  it('reads a .zip, and a SavedModel at an archive root as the version its file name says', async () => {
    http.set('/z/hpt.zip', { body: await zipOf(baseDir({ '5': HALF_PLUS_TWO })) });
    const z = source(http.url('/z/hpt.zip'));
    await z.src.start();
    assert.deepEqual([...(z.last()?.keys() ?? [])], [5n], z.problems().join('\n'));
    assert.deepEqual(readFileSync(join(z.last()!.get(5n)!, 'variables', 'variables.index')), readFileSync(join(HALF_PLUS_TWO, 'variables', 'variables.index')));
    http.set('/z/7.zip', { body: await zipOf(HALF_PLUS_THREE, false) });
    const single = source(http.url('/z/7.zip'));
    await single.src.start();
    assert.deepEqual([...(single.last()?.keys() ?? [])], [7n], single.problems().join('\n'));
    http.set('/z/latest.tar.gz', { body: tarGz(HALF_PLUS_THREE) });
    const unnumbered = source(http.url('/z/latest.tar.gz'));
    await unnumbered.src.start();
    assert.equal(unnumbered.pushes.length, 0);
    assert.ok(unnumbered.problems().some((p) => p.includes('its file name must be the version number')), unnumbered.problems().join('\n'));
  });

  it('refuses a corrupt, a cut-off or a mismatched archive, keeping the version it serves', async () => {
    const good = tarGz(baseDir({ '1': HALF_PLUS_TWO }));
    http.set('/c/hpt.tar.gz', { body: good });
    const s = source(http.url('/c/hpt.tar.gz'));
    await s.src.start();
    assert.ok(s.last()?.has(1n));
    const corrupt = Buffer.from(tarGz(baseDir({ '1': HALF_PLUS_TWO, '2': HALF_PLUS_THREE })));
    for (let i = 200; i < corrupt.length - 20; i += 97) corrupt[i] = corrupt[i]! ^ 0x5a;
    http.set('/c/hpt.tar.gz', { body: corrupt });
    await eventually(() => s.problems().some((p) => p.startsWith(`Could not fetch ${http.url('/c/hpt.tar.gz')}: refused: not a valid .tar.gz`)), () => `the corrupt archive refused (${s.problems().join('\n')})`);
    const downloads = http.fullReplies.get('/c/hpt.tar.gz');
    await pause(500);
    assert.equal(http.fullReplies.get('/c/hpt.tar.gz'), downloads, 'the refused archive is not downloaded again while unchanged');
    const whole = tarGz(baseDir({ '1': HALF_PLUS_TWO, '2': HALF_PLUS_THREE }));
    http.set('/c/hpt.tar.gz', { body: whole, cutAfter: Math.floor(whole.length / 2) });
    await eventually(() => s.problems().some((p) => /cut off|terminated|other side closed/.test(p)), () => `the cut-off download reported (${s.problems().join('\n')})`);
    assert.equal(s.pushes.length, 1, `nothing pushed after version 1: ${s.problems().join('\n')}`);
    assert.equal(existsSync(s.cache.pathOf(ModelCache.keyOf(http.url('/c/hpt.tar.gz')), 2n)), false, 'no partial version 2 in the cache');
    await eventually(s.noStaging, 'the staging directories removed');
    http.set('/c/hpt.tar.gz', { body: whole });
    await eventually(() => s.last()?.has(2n) === true, () => `version 2 once the archive is whole (${s.problems().join('\n')})`);

    http.set('/c/2.zip', { body: await zipOf(HALF_PLUS_THREE) });
    const pinned = source(`${http.url('/c/2.zip')}#sha256=${'0'.repeat(64)}`);
    await pinned.src.start();
    assert.equal(pinned.pushes.length, 0);
    assert.ok(pinned.problems().some((p) => /refused: its SHA-256 is [0-9a-f]{64}, the URL's #sha256= says 0{64}/.test(p)), pinned.problems().join('\n'));
  });

  it('refuses entries that escape with ../ or an absolute path, links, and size bombs, writing nothing outside', async () => {
    const pb = readFileSync(join(HALF_PLUS_TWO, 'saved_model.pb'));
    const cases: Array<{ path: string; body: Buffer; expect: RegExp; cacheBytes?: number }> = [
      { path: '/h/escape.tar.gz', body: await hostileTarGz([{ name: '1/saved_model.pb', body: pb }, { name: '1/../../escaped.txt', body: Buffer.from('x') }]), expect: /refused: entry "1\/\.\.\/\.\.\/escaped\.txt" escapes the archive's directory/ },
      { path: '/h/absolute.tar.gz', body: await hostileTarGz([{ name: '/tmp/tfmodel-absolute.txt', body: Buffer.from('x') }]), expect: /refused: entry "\/tmp\/tfmodel-absolute\.txt" is an absolute path/ },
      { path: '/h/link.tar.gz', body: await hostileTarGz([{ name: '1/saved_model.pb', body: pb }, { name: '1/variables', type: 'symlink', linkname: '/etc' }]), expect: /refused: entry "1\/variables" is a symlink; only files and directories/ },
      { path: '/h/bomb.tar.gz', body: await hostileTarGz([{ name: '1/saved_model.pb', body: pb }, { name: '1/assets/zeros', size: 64 * MiB }]), expect: /refused: expands past 16777216 bytes \(at "1\/assets\/zeros"/, cacheBytes: 16 * MiB },
    ];
    const bombDir = join(root, 'bomb');
    mkdirSync(join(bombDir, '1', 'assets'), { recursive: true });
    cpSync(join(HALF_PLUS_TWO, 'saved_model.pb'), join(bombDir, '1', 'saved_model.pb'));
    execFileSync('truncate', ['-s', String(64 * MiB), join(bombDir, '1', 'assets', 'zeros')]);
    cases.push({ path: '/h/bomb.zip', body: await zipOf(bombDir), expect: /refused: expands past 16777216 bytes \(at "1\/assets\/zeros"/, cacheBytes: 16 * MiB });
    for (const c of cases) {
      assert.ok(c.body.length < 1 * MiB, `${c.path} is small (${c.body.length} bytes)`);
      http.set(c.path, { body: c.body });
      const s = source(http.url(c.path), c.cacheBytes ? { cacheBytes: c.cacheBytes } : {});
      await s.src.start();
      assert.equal(s.pushes.length, 0, c.path);
      assert.ok(s.problems().some((p) => c.expect.test(p)), `${c.path}: ${s.problems().join('\n')}`);
      assert.ok(s.noStaging(), `${c.path}: staging removed`);
    }
    assert.equal(existsSync(join(root, 'escaped.txt')), false);
    assert.equal(existsSync(join(root, `cache-${counter}`, '..', 'escaped.txt')), false);
    assert.equal(existsSync('/tmp/tfmodel-absolute.txt'), false);
  });

  it('says what is wrong with a 404 and a server that is down, and catches up when it is back', async () => {
    const missing = source(http.url('/nowhere/hpt.tar.gz'));
    await missing.src.start();
    assert.equal(missing.pushes.length, 0);
    assert.ok(missing.problems().some((p) => p.startsWith(`Could not fetch ${http.url('/nowhere/hpt.tar.gz')}: HTTP 404`)), missing.problems().join('\n'));
    http.set('/d/hpt.tar.gz', { body: tarGz(baseDir({ '1': HALF_PLUS_TWO })) });
    await http.stop();
    const down = source(http.url('/d/hpt.tar.gz'));
    await down.src.start();
    assert.equal(down.pushes.length, 0);
    assert.ok(down.problems().some((p) => /Could not fetch .*: fetch failed: (connect ECONNREFUSED|other side closed)/.test(p)), down.problems().join('\n'));
    await http.start();
    await eventually(() => down.last()?.has(1n) === true, 'version 1 once the server is back');
  });

  it('tfmodel-server serves an archive base path (its signed query string never logged) and hot-loads the replaced archive', async () => {
    http.set('/served/hpt.tar.gz', { body: tarGz(baseDir({ '1': HALF_PLUS_TWO })) });
    const rest = freePortSync();
    const server = ServerProcess.start(
      [`--rest_api_port=${rest}`, '--model_name=hpt', `--model_base_path=${http.url('/served/hpt.tar.gz')}?X-Signature=sig-SECRET-123`, `--model_cache_dir=${join(root, 'server-cache')}`, '--file_system_poll_wait_seconds=1', '--inference_threads=0'],
      {},
    );
    stops.push(() => server.stop('SIGKILL'));
    await server.ports();
    const predict = async () => {
      const r = await fetch(`http://127.0.0.1:${rest}/v1/models/hpt:predict`, { method: 'POST', body: JSON.stringify({ instances: [1.0] }) });
      return JSON.stringify({ status: r.status, body: (await r.json()) as unknown });
    };
    assert.equal(await predict(), JSON.stringify({ status: 200, body: { predictions: [2.5] } }));
    http.set('/served/hpt.tar.gz', { body: tarGz(baseDir({ '2': HALF_PLUS_THREE })) });
    await eventually(async () => (await predict()) === JSON.stringify({ status: 200, body: { predictions: [3.5] } }), 'version 2 (half plus three) served');
    const logged = JSON.stringify(server.events) + server.stdout.join('\n');
    assert.ok(server.events.some((e) => e.event === 'archive_fetched'), 'the downloads logged');
    assert.equal(logged.includes('SECRET'), false, 'no signature in the log');
  });
});
