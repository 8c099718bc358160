import assert from 'node:assert/strict';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { MAX_CHUNK_BYTES, decompressBody, decompressChunkBytes } from './body-encoding.js';

const LIMIT = 64 * 1024 * 1024;

function decompress(encoding: string, body: Buffer, limit: number): Promise<{ error: NodeJS.ErrnoException | null; result?: Buffer }> {
  return new Promise((resolve) => decompressBody(encoding, body, limit, (error, result) => resolve({ error, result })));
}

describe('REST body decompression', () => {
  it('sizes zlib\'s output chunks from the compressed length: a gzip bomb reaches the 64 MiB limit in 1 MiB chunks (64 event-loop round trips, not 4,096), a small body gets a small buffer', () => {
    // The release fuzz run's bomb: 80 MiB of spaces in 81,558 bytes of gzip.
    assert.equal(decompressChunkBytes(81_558, LIMIT), MAX_CHUNK_BYTES);
    assert.equal(LIMIT / decompressChunkBytes(81_558, LIMIT), 64);
    assert.equal(decompressChunkBytes(40, LIMIT), 40 * 1032);
    assert.equal(decompressChunkBytes(1, LIMIT), 16 * 1024);
    // Never more than the limit (plus the byte that proves it passed).
    assert.equal(decompressChunkBytes(81_558, 65_536), 65_537);
    assert.equal(decompressChunkBytes(81_558, 100), 16 * 1024);
  });

  it('refuses the 80 MiB gzip bomb at the 64 MiB limit (ERR_BUFFER_TOO_LARGE), and 20 MiB deflate and br bombs at 16 MiB', async () => {
    const spaces = (mib: number): Buffer => Buffer.alloc(mib * 1024 * 1024, 0x20);
    const bombs = [['gzip', gzipSync(spaces(80)), LIMIT], ['deflate', deflateSync(spaces(20)), 16 << 20], ['br', brotliCompressSync(spaces(20)), 16 << 20]] as const;
    for (const [encoding, body, limit] of bombs) {
      const { error, result } = await decompress(encoding, body, limit);
      assert.equal(error?.code, 'ERR_BUFFER_TOO_LARGE', `${encoding}: ${String(error)}`);
      assert.equal(result, undefined);
    }
  });

  it('decompresses bodies exactly at any chunk size: one byte under, at and over the limit; several chunks; raw deflate', async () => {
    const json = Buffer.from(JSON.stringify({ instances: Array.from({ length: 300_000 }, (_, i) => i % 977) }));
    for (const encoding of ['gzip', 'x-gzip', 'deflate', 'br']) {
      const body = encoding === 'br' ? brotliCompressSync(json) : encoding === 'deflate' ? deflateSync(json) : gzipSync(json);
      assert.ok(json.length > decompressChunkBytes(body.length, LIMIT), 'more than one output chunk');
      const { error, result } = await decompress(encoding, body, LIMIT);
      assert.equal(error, null);
      assert.ok(result!.equals(json), encoding);
      assert.ok((await decompress(encoding, body, json.length)).result!.equals(json), `${encoding} at the limit`);
      assert.equal((await decompress(encoding, body, json.length - 1)).error?.code, 'ERR_BUFFER_TOO_LARGE', `${encoding} one byte over`);
    }
    const raw = await decompress('deflate', deflateRawSync(json), LIMIT);
    assert.ok(raw.result!.equals(json));
    const broken = await decompress('gzip', json, LIMIT);
    assert.match(String(broken.error), /incorrect header check/);
  });
});
