import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordFileWriter } from './record-file-writer.js';

describe('RecordFileWriter', () => {
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), 'tfmodel-records-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('rotates files by size and keeps at most maxFiles, deleting the oldest', async () => {
    const writer = new RecordFileWriter({ prefix: join(root, 'rot', 'log'), extension: '.bin', maxFileBytes: 100, maxFiles: 3, maxQueueBytes: 1 << 20 });
    for (let i = 0; i < 20; i++) {
      assert.equal(writer.append(new Uint8Array(40).fill(i)), true);
      await writer.flush();
    }
    await writer.close();
    const files = writer.files();
    assert.equal(files.length, 3, 'bounded disk');
    assert.equal(writer.stats.files, 10, 'two 40-byte records per 100-byte file');
    for (const file of files) assert.ok(statSync(file).size <= 100);
    // The newest file holds the last two records.
    assert.deepEqual([...new Set(readFileSync(files[2]!))], [18, 19]);
    assert.equal(writer.stats.written, 20);
  });

  it('never waits: past maxQueueBytes records are dropped and counted', async () => {
    const drops: string[] = [];
    const writer = new RecordFileWriter({
      prefix: join(root, 'drop', 'log'), extension: '.bin', maxFileBytes: 1 << 20, maxFiles: 2, maxQueueBytes: 100,
      onDrop: (reason) => drops.push(reason),
    });
    const accepted = Array.from({ length: 10 }, () => writer.append(new Uint8Array(30)));
    // The first record goes to the disk at once; three more fit the 100 queued bytes.
    assert.deepEqual(accepted, [true, true, true, true, false, false, false, false, false, false]);
    await writer.close();
    assert.equal(writer.stats.written, 4);
    assert.equal(writer.stats.dropped, 6);
    assert.deepEqual(drops, Array(6).fill('queue_full'));
    assert.equal(writer.append(new Uint8Array(1)), false, 'closed');
  });

  it('with batchDelayMs, writes the records gathered meanwhile together, rotating exactly as one by one', async () => {
    const writes: number[] = [];
    const writer = new RecordFileWriter({
      prefix: join(root, 'batch', 'log'), extension: '.bin', maxFileBytes: 100, maxFiles: 10, maxQueueBytes: 1 << 20, batchDelayMs: 60_000,
      onWritten: (bytes) => writes.push(bytes),
    });
    for (let i = 0; i < 7; i++) writer.append(new Uint8Array(30).fill(i));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(writer.stats.written, 0, 'nothing written before the batch is due');
    await writer.flush();
    assert.equal(writer.stats.written, 7, 'flush() writes the gathered batch at once');
    assert.deepEqual(writes, Array(7).fill(30));
    writer.append(new Uint8Array(30).fill(7));
    await writer.close();
    const files = writer.files();
    // Three 30-byte records per 100-byte file: 0 1 2 | 3 4 5 | 6 7.
    assert.deepEqual(files.map((f) => [...readFileSync(f)].filter((_, i) => i % 30 === 0)), [[0, 1, 2], [3, 4, 5], [6, 7]]);
  });

  it('counts a failed write as dropped and keeps going', async () => {
    const drops: string[] = [];
    const writer = new RecordFileWriter({
      prefix: join(root, 'fail', 'log'), extension: '.bin', maxFileBytes: 1 << 20, maxFiles: 2, maxQueueBytes: 1 << 20,
      onDrop: (reason) => drops.push(reason),
    });
    rmSync(join(root, 'fail'), { recursive: true });
    writer.append(new Uint8Array(5));
    await writer.flush();
    assert.deepEqual(drops, ['write_failed']);
    assert.equal(writer.stats.dropped, 1);
    await writer.close();
  });
});
