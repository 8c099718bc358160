/**
 * Appends records to size-rotated files without ever making a caller wait: records queue in
 * memory (bounded in bytes; a record that does not fit is dropped and counted), one write loop
 * drains them, a file is closed and a new one started when the next record would pass
 * maxFileBytes, and the oldest of this writer's files are deleted beyond maxFiles, so the disk
 * used stays under about maxFiles * maxFileBytes.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface RecordFileWriterOptions {
  /** Files are `${prefix}.${timestamp}-${pid}-${sequence}${extension}`. */
  readonly prefix: string;
  readonly extension: string;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  /** Bytes of records waiting for the disk before new ones are dropped. */
  readonly maxQueueBytes: number;
  /** Called for each dropped record and each write failure (metrics, logs). */
  readonly onDrop?: (reason: 'queue_full' | 'write_failed', error?: unknown) => void;
  readonly onWritten?: (bytes: number) => void;
}

export interface WriterStats {
  written: number;
  dropped: number;
  files: number;
}

export class RecordFileWriter {
  readonly stats: WriterStats = { written: 0, dropped: 0, files: 0 };
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | undefined;
  private file: FileHandle | undefined;
  private fileBytes = 0;
  private sequence = 0;
  private closed = false;

  constructor(private readonly options: RecordFileWriterOptions) {
    mkdirSync(dirname(options.prefix), { recursive: true });
  }

  /** Queues a record; false (and counted) when it was dropped. Never waits. */
  append(record: Uint8Array): boolean {
    if (this.closed || this.queuedBytes + record.length > this.options.maxQueueBytes) {
      this.stats.dropped++;
      this.options.onDrop?.('queue_full');
      return false;
    }
    this.queue.push(record);
    this.queuedBytes += record.length;
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return true;
  }

  /** Resolves once everything queued so far is on disk (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Writes what is queued, closes the file; later appends are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }

  /** This writer's files (and earlier runs' with the same prefix), oldest first. */
  files(): string[] {
    const dir = dirname(this.options.prefix);
    const stem = `${basename(this.options.prefix)}.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.startsWith(stem) && n.endsWith(this.options.extension)).sort().map((n) => join(dir, n));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.queue.length);
      let bytes = 0;
      for (const record of batch) bytes += record.length;
      this.queuedBytes -= bytes;
      try {
        for (const record of batch) await this.write(record);
      } catch (error) {
        this.stats.dropped += batch.length;
        this.options.onDrop?.('write_failed', error);
        await this.file?.close().catch(() => undefined);
        this.file = undefined;
      }
    }
  }

  private async write(record: Uint8Array): Promise<void> {
    if (this.file && this.fileBytes > 0 && this.fileBytes + record.length > this.options.maxFileBytes) {
      await this.file.close();
      this.file = undefined;
    }
    if (!this.file) await this.startFile();
    await this.file!.write(record);
    this.fileBytes += record.length;
    this.stats.written++;
    this.options.onWritten?.(record.length);
  }

  private async startFile(): Promise<void> {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const name = `${this.options.prefix}.${stamp}-${process.pid}-${String(this.sequence++).padStart(6, '0')}${this.options.extension}`;
    this.file = await open(name, 'a');
    this.fileBytes = 0;
    this.stats.files++;
    const all = this.files();
    for (const old of all.slice(0, Math.max(0, all.length - this.options.maxFiles))) await rm(old, { force: true });
  }
}
