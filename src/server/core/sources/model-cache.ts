/**
 * The local cache of model versions downloaded from object stores: one directory per version,
 * written under a staging name and renamed into place only once every object matched its size and
 * ETag (so a directory there is always complete). Bounded: before a download, the least recently
 * used versions no source still aspires are deleted to make room.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Code, ServingError } from '../../errors.js';

interface Entry {
  readonly dir: string;
  bytes: number;
  lastUsed: number;
}

const STAGING_PREFIX = '.staging-';

export class ModelCache {
  private readonly entries = new Map<string, Entry>();
  /** source key -> the cache directories it aspires now (never evicted). */
  private readonly pins = new Map<string, Set<string>>();
  private scanned: Promise<void> | undefined;
  private stagingCounter = 0;

  constructor(
    readonly root: string,
    readonly maxBytes: number,
  ) {}

  /** A stable directory name for a base path URL (no credentials are part of a URL here). */
  static keyOf(url: string): string {
    return createHash('sha256').update(url).digest('hex').slice(0, 16);
  }

  /** The directory a version lives in once complete. */
  pathOf(sourceKey: string, version: bigint): string {
    return join(this.root, sourceKey, String(version));
  }

  /** True when the version is complete in the cache. */
  async has(sourceKey: string, version: bigint): Promise<boolean> {
    await this.scan();
    return this.entries.has(this.pathOf(sourceKey, version));
  }

  /** The versions a source aspires now: kept, and marked as just used. */
  async pin(sourceKey: string, versions: readonly bigint[]): Promise<void> {
    const dirs = new Set(versions.map((v) => this.pathOf(sourceKey, v)));
    this.pins.set(sourceKey, dirs);
    const now = Date.now();
    for (const dir of dirs) {
      const entry = this.entries.get(dir);
      if (!entry) continue;
      entry.lastUsed = now;
      await utimes(dir, now / 1000, now / 1000).catch(() => undefined);
    }
  }

  unpinAll(sourceKey: string): void {
    this.pins.delete(sourceKey);
  }

  /** A fresh staging directory for a download; `commit` it or `discard` it. */
  async staging(sourceKey: string, version: bigint): Promise<string> {
    await this.scan();
    const dir = join(this.root, `${STAGING_PREFIX}${sourceKey}-${version}-${process.pid}-${++this.stagingCounter}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true });
  }

  /** Deletes unpinned versions, least recently used first, until `bytes` more fit. */
  async makeRoom(bytes: number): Promise<void> {
    await this.scan();
    const pinned = new Set([...this.pins.values()].flatMap((s) => [...s]));
    let total = this.totalBytes();
    if (total + bytes <= this.maxBytes) return;
    const candidates = [...this.entries.values()].filter((e) => !pinned.has(e.dir)).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of candidates) {
      if (total + bytes <= this.maxBytes) break;
      await rm(entry.dir, { recursive: true, force: true });
      this.entries.delete(entry.dir);
      total -= entry.bytes;
    }
    if (total + bytes > this.maxBytes) {
      throw new ServingError(
        Code.RESOURCE_EXHAUSTED,
        `Model cache ${this.root} is full: ${bytes} bytes needed, ${total} of ${this.maxBytes} held by versions still aspired (--model_cache_max_bytes)`,
      );
    }
  }

  /** Moves a complete download into place. */
  async commit(staging: string, sourceKey: string, version: bigint, bytes: number): Promise<string> {
    const dir = this.pathOf(sourceKey, version);
    await mkdir(join(this.root, sourceKey), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    this.entries.set(dir, { dir, bytes, lastUsed: Date.now() });
    return dir;
  }

  totalBytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.bytes;
    return total;
  }

  /** Once: index what earlier runs left (complete versions), delete their unfinished staging dirs. */
  private scan(): Promise<void> {
    this.scanned ??= (async () => {
      await mkdir(this.root, { recursive: true });
      for (const name of await readdir(this.root)) {
        const path = join(this.root, name);
        if (name.startsWith(STAGING_PREFIX)) {
          await rm(path, { recursive: true, force: true });
          continue;
        }
        if (!(await stat(path)).isDirectory()) continue;
        for (const version of await readdir(path)) {
          const dir = join(path, version);
          const info = await stat(dir);
          if (info.isDirectory()) this.entries.set(dir, { dir, bytes: await treeBytes(dir), lastUsed: info.mtimeMs });
        }
      }
    })();
    return this.scanned;
  }
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await treeBytes(path) : (await stat(path)).size;
  }
  return total;
}
