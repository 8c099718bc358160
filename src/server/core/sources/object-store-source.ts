/**
 * A model source over an object store: versions are the numeric children of the base path's
 * prefix (as on a file system), each aspired version is downloaded into the local cache and only
 * then pushed, so the manager loads from local disk and a new version in the bucket hot-loads.
 *
 * Nothing is pushed when the store cannot be listed (down, wrong credentials, no such bucket, an
 * empty prefix): whatever is served stays served, and the log says why. A version is skipped
 * (and tried again at the next poll) while it looks half-uploaded, when its objects change during
 * the download, or when a download fails; the policy then picks among the others, so a model
 * keeps serving the version it has.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PollingSource, type SourceContext } from '../source.js';
import { aspiredVersions } from '../version-policy.js';
import { ModelCache } from './model-cache.js';
import { type ObjectStore, type StoredObject, describeStoreError } from './object-store.js';

const VERSION_NAME = /^\d+$/;
const MANIFEST = '.tfmodel-objects.json';

export interface ObjectStoreSourceOptions {
  readonly store: ObjectStore;
  /** The prefix of the model (ends with '/', or '' for the bucket's root). */
  readonly prefix: string;
  readonly cache: ModelCache;
}

export class ObjectStoreSource extends PollingSource {
  private readonly key: string;
  /** Last problem logged, so a store that stays down is logged once per change. */
  private lastProblem: string | undefined;

  constructor(
    context: SourceContext,
    private readonly options: ObjectStoreSourceOptions,
  ) {
    super(context);
    this.key = ModelCache.keyOf(context.basePath);
  }

  override stop(): void {
    super.stop();
    this.options.cache.unpinAll(this.key);
  }

  protected async look(): Promise<ReadonlyMap<bigint, string> | undefined> {
    const { store, prefix, cache } = this.options;
    let names: string[];
    try {
      names = await store.listChildren(prefix);
    } catch (error) {
      this.problem(`Could not list ${this.context.basePath}: ${describeStoreError(error)}`);
      return undefined;
    }
    const listed = names.filter((n) => VERSION_NAME.test(n));
    if (listed.length === 0) {
      this.problem(`No versions of servable ${this.context.model} found under base path ${this.context.basePath}`);
      return undefined;
    }
    const byVersion = new Map<bigint, string>();
    for (const name of listed) if (!byVersion.has(BigInt(name))) byVersion.set(BigInt(name), name);

    // The policy picks among the versions; one that cannot be fetched now is left out and the
    // policy asked again, so the model keeps (or gets) a version it can serve.
    const candidates = new Set(byVersion.keys());
    for (;;) {
      const chosen = aspiredVersions([...candidates], this.currentPolicy);
      if (chosen.length === 0) {
        this.problem(`No version under ${this.context.basePath} could be fetched`);
        return undefined;
      }
      let failed = false;
      for (const version of chosen) {
        if (this.isStopped) return undefined;
        if (await cache.has(this.key, version)) continue;
        const ok = await this.fetchVersion(version, `${prefix}${byVersion.get(version)!}/`);
        if (!ok) {
          candidates.delete(version);
          failed = true;
          break;
        }
      }
      if (failed) continue;
      await cache.pin(this.key, chosen);
      this.lastProblem = undefined;
      return new Map(chosen.map((v) => [v, cache.pathOf(this.key, v)]));
    }
  }

  /** Downloads one version into the cache; false (logged) when it is not complete or fails. */
  private async fetchVersion(version: bigint, versionPrefix: string): Promise<boolean> {
    const { store, cache } = this.options;
    const { model, log } = this.context;
    const where = `${this.context.basePath.replace(/\/+$/, '')}/${versionPrefix.slice(this.options.prefix.length)}`;
    let objects: StoredObject[];
    try {
      objects = (await store.listObjects(versionPrefix)).filter((o) => !o.key.endsWith('/'));
    } catch (error) {
      log.error('version_fetch_failed', { model, version, url: where, error: `Could not list ${where}: ${describeStoreError(error)}` });
      return false;
    }
    const incomplete = incompleteReason(objects.map((o) => o.key.slice(versionPrefix.length)));
    if (incomplete) {
      log.warn('version_incomplete', { model, version, url: where, reason: `${incomplete}; tried again at the next poll` });
      return false;
    }
    const bytes = objects.reduce((sum, o) => sum + o.size, 0);
    let staging: string | undefined;
    const started = performance.now();
    try {
      await cache.makeRoom(bytes);
      staging = await cache.staging(this.key, version);
      for (const object of objects) {
        if (this.isStopped) throw new Error('source stopped');
        await this.download(object, versionPrefix, staging);
      }
      // Objects replaced while we downloaded (an upload in progress): try again later.
      const again = (await store.listObjects(versionPrefix)).filter((o) => !o.key.endsWith('/'));
      const changed = manifestOf(again) !== manifestOf(objects);
      if (changed) throw new Error('its objects changed during the download (an upload in progress?)');
      await writeFile(join(staging, MANIFEST), manifestOf(objects));
      await cache.commit(staging, this.key, version, bytes);
      staging = undefined;
      log.info('version_fetched', { model, version, url: where, objects: objects.length, bytes, ms: Math.round(performance.now() - started) });
      return true;
    } catch (error) {
      log.error('version_fetch_failed', { model, version, url: where, error: `Could not fetch ${where}: ${describeStoreError(error)}` });
      return false;
    } finally {
      if (staging) await cache.discard(staging);
    }
  }

  private async download(object: StoredObject, versionPrefix: string, staging: string): Promise<void> {
    const path = join(staging, object.key.slice(versionPrefix.length));
    const rel = relative(staging, path);
    if (rel.startsWith('..') || rel.split(sep).includes('..')) throw new Error(`object key ${object.key} escapes the version directory`);
    await mkdir(dirname(path), { recursive: true });
    const { body, etag } = await this.options.store.read(object.key);
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        md5.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(body, count, createWriteStream(path));
    if (size !== object.size) throw new Error(`${object.key}: ${size} bytes read, ${object.size} listed`);
    if (object.etag && etag && etag !== object.etag) throw new Error(`${object.key}: ETag ${etag} read, ${object.etag} listed (replaced during the download)`);
    const digest = md5.digest('hex');
    if (object.md5 && object.md5 !== digest) throw new Error(`${object.key}: MD5 ${digest} of the bytes read, ${object.md5} published`);
  }

  private problem(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.context.log.warn('base_path_unreadable', { model: this.context.model, problem: `${message}; the versions served stay served` });
  }
}

function manifestOf(objects: readonly StoredObject[]): string {
  return JSON.stringify([...objects].map((o) => [o.key, o.size, o.etag]).sort());
}

/**
 * Why a version's objects do not (yet) make a whole SavedModel: no saved_model.pb, or variables
 * with shards missing (variables.data-00000-of-00002 without -00001-, or data without the index).
 */
export function incompleteReason(names: readonly string[]): string | undefined {
  const set = new Set(names);
  if (!set.has('saved_model.pb') && !set.has('saved_model.pbtxt')) return 'no saved_model.pb yet';
  const shards = names.flatMap((n) => {
    const m = /^variables\/variables\.data-(\d+)-of-(\d+)$/.exec(n);
    return m ? [{ index: Number(m[1]), of: Number(m[2]) }] : [];
  });
  const hasIndex = set.has('variables/variables.index');
  if (shards.length > 0 && !hasIndex) return 'variables/variables.index missing';
  if (hasIndex && shards.length === 0) return 'variables/variables.data-* missing';
  if (shards.length > 0) {
    const of = shards[0]!.of;
    for (let i = 0; i < of; i++) {
      const name = `variables/variables.data-${String(i).padStart(5, '0')}-of-${String(of).padStart(5, '0')}`;
      if (!set.has(name)) return `${name} missing`;
    }
  }
  return undefined;
}
