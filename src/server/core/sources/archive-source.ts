/**
 * https:// (and http://) base paths naming one archive, .tar.gz / .tgz / .tar / .zip, that holds
 * the model's base directory: numbered version directories at its root (or under one top-level
 * directory), or a single SavedModel at its root whose version is the archive's numeric file name
 * (.../hpt/3.tar.gz). The URL is polled with If-None-Match / If-Modified-Since: a changed archive
 * is downloaded (bounded by the cache), checked (Content-Length, gzip and zip CRCs, an optional
 * #sha256=<hex> fragment), extracted with every entry checked (no path escapes, no links, no
 * bomb), and the versions the policy picks that the cache lacks are renamed into it. A version
 * already in the cache is not replaced: publish a new version number to change a model.
 *
 * Nothing is pushed when the archive cannot be fetched or is refused: whatever is served stays
 * served, and the log says why. URLs are logged without their query string (a signed URL's
 * signature is a credential).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { PollingSource, type SourceContext, shownBasePath } from '../source.js';
import { aspiredVersions } from '../version-policy.js';
import { ArchiveRefused, type ExtractLimits } from './archive-entries.js';
import { extractTar } from './archive-tar.js';
import { extractZip } from './archive-zip.js';
import { ModelCache } from './model-cache.js';
import { incompleteReason } from './object-store-source.js';

type ArchiveKind = 'tar.gz' | 'tar' | 'zip';

const KINDS: ReadonlyArray<[string, ArchiveKind]> = [['.tar.gz', 'tar.gz'], ['.tgz', 'tar.gz'], ['.tar', 'tar'], ['.zip', 'zip']];
const VERSION_NAME = /^\d+$/;
const MANIFEST = '.tfmodel-archive.json';
const MAX_ENTRIES = 100_000;

/** The archive format of a URL's path, and its file name without the extension. */
export function archiveOf(url: string): { kind: ArchiveKind; stem: string } | undefined {
  const path = new URL(url).pathname.toLowerCase();
  const file = path.slice(path.lastIndexOf('/') + 1);
  for (const [ext, kind] of KINDS) if (file.endsWith(ext) && file.length > ext.length) return { kind, stem: file.slice(0, -ext.length) };
  return undefined;
}

/** The URL as it may be logged: no query string, no fragment, no user info. */
export const shownUrl = shownBasePath;

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { message?: string; code?: string } | undefined;
  return cause?.message ? `${error.message}: ${cause.message}` : error.message;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const file of await filesUnder(dir)) total += (await stat(join(dir, file))).size;
  return total;
}

interface Seen {
  readonly etag?: string;
  readonly lastModified?: string;
  /** The archive was good: its versions. */
  readonly versions?: ReadonlySet<bigint>;
}

export interface ArchiveSourceOptions {
  readonly cache: ModelCache;
}

export class ArchiveSource extends PollingSource {
  private readonly key: string;
  private seen: Seen | undefined;
  private lastProblem: string | undefined;

  constructor(
    context: SourceContext,
    private readonly options: ArchiveSourceOptions,
  ) {
    super(context);
    this.key = ModelCache.keyOf(context.basePath);
  }

  override stop(): void {
    super.stop();
    this.options.cache.unpinAll(this.key);
  }

  protected async look(): Promise<ReadonlyMap<bigint, string> | undefined> {
    const { basePath } = this.context;
    const shown = shownUrl(basePath);
    const archive = archiveOf(basePath);
    if (!archive) return this.problem(`${shown} does not name an archive (.tar.gz, .tgz, .tar or .zip)`);
    const seen = this.seen;
    const cached = seen?.versions ? await this.cachedChoice(seen.versions) : undefined;
    // A server that sends neither validator: the archive is fetched once, not polled for changes.
    if (cached && !seen?.etag && !seen?.lastModified) return cached;
    const headers: Record<string, string> = {};
    if (seen && (cached || !seen.versions)) {
      if (seen.etag) headers['if-none-match'] = seen.etag;
      if (seen.lastModified) headers['if-modified-since'] = seen.lastModified;
    }
    let response: Response;
    try {
      response = await fetch(basePath.replace(/#.*$/, ''), { headers, redirect: 'follow' });
    } catch (error) {
      return this.problem(`Could not fetch ${shown}: ${describeFetchError(error)}`);
    }
    if (response.status === 304) {
      await response.body?.cancel();
      return cached; // unchanged: served as before, or still the archive already refused
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return this.problem(`Could not fetch ${shown}: HTTP ${response.status} ${response.statusText}`);
    }
    const validators = { ...(response.headers.get('etag') ? { etag: response.headers.get('etag')! } : {}), ...(response.headers.get('last-modified') ? { lastModified: response.headers.get('last-modified')! } : {}) };
    try {
      const versions = await this.fetchArchive(response, archive.kind, archive.stem);
      this.seen = { ...validators, versions: new Set(versions.keys()) };
      this.lastProblem = undefined;
      return versions;
    } catch (error) {
      // An archive refused for what it holds is not downloaded again until it changes; one whose
      // transfer failed is tried again at the next poll.
      if (error instanceof ArchiveRefused) this.seen = validators;
      const reason = error instanceof ArchiveRefused ? `refused: ${error.message}` : describeFetchError(error);
      return this.problem(`Could not fetch ${shown}: ${reason}`);
    }
  }

  /** The versions the policy picks among `versions`, if every one is complete in the cache. */
  private async cachedChoice(versions: ReadonlySet<bigint>): Promise<ReadonlyMap<bigint, string> | undefined> {
    const { cache } = this.options;
    const chosen = aspiredVersions([...versions], this.currentPolicy);
    for (const version of chosen) if (!(await cache.has(this.key, version))) return undefined;
    await cache.pin(this.key, chosen);
    return new Map(chosen.map((v) => [v, cache.pathOf(this.key, v)]));
  }

  /** Downloads, checks and extracts the archive, and commits the chosen versions the cache lacks. */
  private async fetchArchive(response: Response, kind: ArchiveKind, stem: string): Promise<ReadonlyMap<bigint, string>> {
    const { cache } = this.options;
    const { model, log, basePath } = this.context;
    const started = performance.now();
    const limits: ExtractLimits = { maxBytes: cache.maxBytes, maxEntries: MAX_ENTRIES };
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) throw new ArchiveRefused(`${declared} bytes, more than the cache holds (--model_cache_max_bytes ${limits.maxBytes})`);
    const staging = await cache.staging(this.key, 0n);
    try {
      const file = join(staging, `archive.${kind}`);
      const sha256 = createHash('sha256');
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          sha256.update(chunk);
          callback(size > limits.maxBytes ? new ArchiveRefused(`more than ${limits.maxBytes} bytes (--model_cache_max_bytes)`) : null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), count, createWriteStream(file));
      if (Number.isFinite(declared) && size !== declared) throw new Error(`${size} bytes received, ${declared} announced (cut off)`);
      const digest = sha256.digest('hex');
      const wanted = /#sha256=([0-9a-f]{64})$/i.exec(basePath)?.[1]?.toLowerCase();
      if (wanted && wanted !== digest) throw new ArchiveRefused(`its SHA-256 is ${digest}, the URL's #sha256= says ${wanted}`);
      const tree = join(staging, 'tree');
      const budget = await (kind === 'zip' ? extractZip(file, tree, limits) : extractTar(file, kind === 'tar.gz', tree, limits)).catch((error: unknown) => {
        // A gzip, tar or zip format error: the archive itself is bad (not the transfer).
        throw error instanceof ArchiveRefused ? error : new ArchiveRefused(`not a valid .${kind}: ${describeFetchError(error)}`);
      });
      await rm(file);
      const found = await this.versionsIn(tree, stem);
      const chosen = aspiredVersions([...found.keys()], this.currentPolicy);
      for (const version of chosen) {
        if (await cache.has(this.key, version)) continue;
        const dir = found.get(version)!;
        const bytes = await treeBytes(dir);
        await cache.makeRoom(bytes);
        await writeFile(join(dir, MANIFEST), JSON.stringify({ url: shownUrl(basePath), sha256: digest }));
        await cache.commit(dir, this.key, version, bytes);
      }
      await cache.pin(this.key, chosen);
      log.info('archive_fetched', { model, url: shownUrl(basePath), bytes: size, expanded_bytes: budget.bytes, versions: [...found.keys()].map(String), ms: Math.round(performance.now() - started) });
      return new Map(chosen.map((v) => [v, cache.pathOf(this.key, v)]));
    } finally {
      await cache.discard(staging);
    }
  }

  /** version -> its extracted directory: numbered directories at the root (or under one directory), or one SavedModel at the root. */
  private async versionsIn(tree: string, stem: string): Promise<Map<bigint, string>> {
    let root = tree;
    let names = await readdir(root, { withFileTypes: true });
    if (names.length === 1 && names[0]!.isDirectory() && !VERSION_NAME.test(names[0]!.name)) {
      root = join(root, names[0]!.name);
      names = await readdir(root, { withFileTypes: true });
    }
    const found = new Map<bigint, string>();
    if (names.some((e) => e.isFile() && (e.name === 'saved_model.pb' || e.name === 'saved_model.pbtxt'))) {
      if (!VERSION_NAME.test(stem)) throw new ArchiveRefused(`it holds one SavedModel at its root, so its file name must be the version number (e.g. 1.tar.gz), not "${stem}"`);
      found.set(BigInt(stem), root);
    } else {
      for (const e of names) if (e.isDirectory() && VERSION_NAME.test(e.name) && !found.has(BigInt(e.name))) found.set(BigInt(e.name), join(root, e.name));
    }
    for (const [version, dir] of found) {
      const incomplete = incompleteReason(await filesUnder(dir));
      if (!incomplete) continue;
      this.context.log.warn('version_incomplete', { model: this.context.model, version, url: shownUrl(this.context.basePath), reason: `${incomplete} in the archive; not served` });
      found.delete(version);
    }
    if (found.size === 0) throw new ArchiveRefused('it holds no complete numbered version directory (1/saved_model.pb, ...) nor a SavedModel at its root');
    return found;
  }

  private problem(message: string): undefined {
    if (message !== this.lastProblem) {
      this.lastProblem = message;
      this.context.log.warn('base_path_unreadable', { model: this.context.model, problem: `${message}; the versions served stay served` });
    }
    return undefined;
  }
}
