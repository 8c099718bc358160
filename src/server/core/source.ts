/**
 * Model sources, after TF Serving's Source<StoragePath>: each configured model gets one source,
 * which pushes the model's FULL aspired version set (version -> a local directory the loader can
 * read) whenever it changes; the manager diffs it against what it holds. A source that cannot
 * look (a store that is down) pushes nothing, so whatever is served stays served.
 *
 * The file-system poller (TF Serving's FileSystemStoragePathSource) is one implementation; object
 * stores are others, chosen by the base path's scheme (`sourceFactoryFor`).
 */
import type { Logger } from '../logging.js';
import { type VersionPolicy, aspiredVersions } from './version-policy.js';
import { findVersions } from './version-source.js';

/** version -> the local directory holding it (a SavedModel). */
export type AspiredVersionSet = ReadonlyMap<bigint, string>;

export interface SourceContext {
  readonly model: string;
  readonly basePath: string;
  readonly policy: VersionPolicy;
  readonly log: Logger;
  /** > 0: look this often; 0: once; < 0: never. */
  readonly pollMs: number;
  /** The full aspired set, replacing the previous one. */
  readonly onAspired: (aspired: AspiredVersionSet) => void;
}

export interface ModelSource {
  /** Starts watching; resolves after the first look (pushed or not). */
  start(): Promise<void>;
  /** The version policy changed (same base path): push again from what was last seen. */
  setPolicy(policy: VersionPolicy): void;
  /** Stops watching; nothing is pushed after this. */
  stop(): void;
}

export type SourceFactory = (context: SourceContext) => ModelSource;

/** Scheme ("s3", "gs", ...) -> source; paths without a registered scheme are local. */
export type SourceRegistry = ReadonlyMap<string, SourceFactory>;

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The URL scheme of a base path, lower-cased, or undefined for a local path. */
export function schemeOf(basePath: string): string | undefined {
  return SCHEME.exec(basePath)?.[1]?.toLowerCase();
}

/**
 * A base path as it may be logged: a URL without its query string, fragment or user info (a
 * signed URL's signature is a credential); a local path as it is.
 */
export function shownBasePath(basePath: string): string {
  if (schemeOf(basePath) === undefined) return basePath;
  try {
    const u = new URL(basePath);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return basePath.replace(/[?#].*$/, '');
  }
}

export function sourceFactoryFor(basePath: string, registry: SourceRegistry | undefined): SourceFactory {
  const scheme = schemeOf(basePath);
  const factory = scheme === undefined ? undefined : registry?.get(scheme);
  return factory ?? fileSystemSource;
}

/**
 * Base class of polling sources: runs `look` now and then every pollMs (never two at once), and
 * applies the version policy to the versions found before pushing.
 */
export abstract class PollingSource implements ModelSource {
  private policy: VersionPolicy;
  private timer: NodeJS.Timeout | undefined;
  private looking = false;
  private stopped = false;
  /** The versions found at the last successful look. */
  private found: ReadonlyMap<bigint, string> | undefined;

  constructor(protected readonly context: SourceContext) {
    this.policy = context.policy;
  }

  /** Lists the versions (version -> local dir), or undefined when it could not (nothing pushed). */
  protected abstract look(): Promise<ReadonlyMap<bigint, string> | undefined>;

  start(): Promise<void> {
    if (this.context.pollMs < 0) return Promise.resolve();
    if (this.context.pollMs > 0) this.timer = setInterval(() => void this.poll(), this.context.pollMs).unref();
    return this.poll();
  }

  setPolicy(policy: VersionPolicy): void {
    this.policy = policy;
    if (this.found && !this.stopped) this.push(this.found);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  protected get isStopped(): boolean {
    return this.stopped;
  }

  /** The version policy now (sources that fetch versions pick what to fetch with it). */
  protected get currentPolicy(): VersionPolicy {
    return this.policy;
  }

  private async poll(): Promise<void> {
    if (this.looking || this.stopped) return;
    this.looking = true;
    try {
      const found = await this.look();
      if (found === undefined || this.stopped) return;
      this.found = found;
      this.push(found);
    } catch (error) {
      this.context.log.error('source_failed', { model: this.context.model, base_path: shownBasePath(this.context.basePath), error: String(error) });
    } finally {
      this.looking = false;
    }
  }

  private push(found: ReadonlyMap<bigint, string>): void {
    const aspired = new Map<bigint, string>();
    for (const version of aspiredVersions([...found.keys()], this.policy)) aspired.set(version, found.get(version)!);
    this.context.onAspired(aspired);
  }
}

/** TF Serving's FileSystemStoragePathSource: numeric children of the base path are versions. */
class FileSystemSource extends PollingSource {
  /**
   * A base path that cannot be listed (missing: a typo in a reload, a volume not mounted yet)
   * changes nothing: the versions served now keep serving, as in TF Serving, whose poll fails with
   * "Could not find base path" and calls back nothing. An empty but readable base path unloads.
   */
  protected async look(): Promise<ReadonlyMap<bigint, string> | undefined> {
    const { model, basePath, log } = this.context;
    const found = await findVersions(basePath);
    if (found.problem) {
      log.warn('base_path_unreadable', { model, problem: found.problem, message: 'the versions served now (if any) keep serving' });
      return undefined;
    }
    for (const { name, reason } of found.skipped) {
      if (reason !== 'not an integer') log.warn('version_dir_skipped', { model, dir: name, reason });
    }
    if (found.versions.size === 0) {
      log.warn('no_versions_found', {
        model,
        base_path: basePath,
        message: `No versions of servable ${model} found under base path ${basePath}. ` +
          'Did you forget to name your leaf directory as an integer (e.g. 00000123)?',
      });
    }
    return found.versions;
  }
}

export const fileSystemSource: SourceFactory = (context) => new FileSystemSource(context);
