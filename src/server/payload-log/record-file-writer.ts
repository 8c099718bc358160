/**
 * Appends records to size-rotated files without ever making a caller wait: records queue in
 * memory (bounded in bytes; a record that does not fit is dropped and counted), one write loop
 * drains them, a file is closed and a new one started when the next record would pass
 * maxFileBytes, and the oldest of this writer's files are deleted beyond maxFiles, so the disk
 * used stays under about maxFiles * maxFileBytes. The records bound for one file are written
 * together (one write per batch), and with batchDelayMs the loop waits that long after the
 * first record of a batch (or until a quarter of maxQueueBytes is queued) before writing.
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
  /** How long the first queued record waits for others to share its write (default 0: none). */
  readonly batchDelayMs?: number;
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
  /** Set while a batch gathers (batchDelayMs); cleared when its drain starts. */
  private timer: NodeJS.Timeout | undefined;
  private startDrain: (() => void) | undefined;
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
    if (!this.draining) this.scheduleDrain();
    else if (this.queuedBytes >= this.options.maxQueueBytes / 4) this.startDrain?.();
    return true;
  }

  /** Resolves once everything queued so far is on disk (tests, shutdown). */
  async flush(): Promise<void> {
    this.startDrain?.();
    while (this.draining) {
      await this.draining;
      this.startDrain?.();
    }
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

  /** Starts the write loop: at once, or once the batch has gathered (batchDelayMs, or flush()). */
  private scheduleDrain(): void {
    const delay = this.options.batchDelayMs ?? 0;
    const drained = delay <= 0 || this.queuedBytes >= this.options.maxQueueBytes / 4 ? this.drain() : this.gathered(delay);
    this.draining = drained.finally(() => {
      this.draining = undefined;
      // Appended after the loop's last look at the queue.
      if (this.queue.length > 0) this.scheduleDrain();
    });
  }

  private gathered(delay: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const start = (): void => {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.startDrain = undefined;
        resolve(this.drain());
      };
      this.startDrain = start;
      this.timer = setTimeout(start, delay);
      this.timer.unref();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.queue.length);
      let bytes = 0;
      for (const record of batch) bytes += record.length;
      this.queuedBytes -= bytes;
      let start = 0;
      try {
        while (start < batch.length) start = await this.writeGroup(batch, start);
      } catch (error) {
        this.stats.dropped += batch.length - start;
        this.options.onDrop?.('write_failed', error);
        await this.file?.close().catch(() => undefined);
        this.file = undefined;
      }
    }
  }

  /**
   * Writes batch[start..] that fits the current file (a new file first when the next record
   * would pass maxFileBytes) in one write; returns the index of the first record not written.
   */
  private async writeGroup(batch: readonly Uint8Array[], start: number): Promise<number> {
    if (this.file && this.fileBytes > 0 && this.fileBytes + batch[start]!.length > this.options.maxFileBytes) {
      await this.file.close();
      this.file = undefined;
    }
    if (!this.file) await this.startFile();
    let end = start + 1;
    let bytes = batch[start]!.length;
    while (end < batch.length && this.fileBytes + bytes + batch[end]!.length <= this.options.maxFileBytes) bytes += batch[end++]!.length;
    const group = end - start === 1 ? batch[start]! : Buffer.concat(batch.slice(start, end), bytes);
    await this.file!.write(group);
    this.fileBytes += bytes;
    for (let i = start; i < end; i++) {
      this.stats.written++;
      this.options.onWritten?.(batch[i]!.length);
    }
    return end;
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
