/**
 * An informer that keeps itself alive. client-node 1.x's informer (ListWatch) re-lists on 410 Gone
 * but stops for good on any other error, never notices a watch that went silent, and never
 * re-lists on its own. This supervisor owns the object cache and runs one underlying informer at a
 * time (from a factory, so tests use a fake and production kubeInformerFactory):
 *
 * - on an error it discards that informer and starts a fresh one after a jittered exponential
 *   backoff (1 s doubling to 30 s, plus up to 25%); the fresh one lists again, and the supervisor
 *   diffs the list against its cache, so objects deleted meanwhile fire `delete`;
 * - a watchdog restarts the informer when nothing (no event, no bookmark, no reconnect) arrived for
 *   `watchdogMs`, which also catches a list or watch request that hangs (client-node sets no
 *   client-side timeout);
 * - every `resyncMs` it re-lists the same way and fires `update` for every object, so the
 *   controller re-reconciles everything periodically (level-based safety net).
 *
 * A fresh underlying informer per attempt, rather than stop()/start() on the same one, because
 * ListWatch.stop() aborts its request and the abort then surfaces as an error callback, which on a
 * restarted instance would abort the new watch too. Events from a discarded informer are ignored.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../server/logging.js';
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import { errorMessage } from './errors.js';
import { objectKey, refKey } from './keys.js';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (object: T) => void;
/** Why the supervisor replaced a running informer (scheduled resyncs are not counted). */
export type RestartReason = 'error' | 'watchdog';

/** What an underlying informer reports to the supervisor. */
export interface InformerHandlers<T> {
  add(object: T): void;
  update(object: T): void;
  delete(object: T): void;
  /** The informer stopped: it will deliver nothing more. */
  error(error: unknown): void;
  /** Proof of life without an object change: a bookmark, a (re)connect. */
  activity(): void;
}

/** One list-then-watch run; start() resolves once the list is in and the watch is open. */
export interface RawInformer<T> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Its cache (compared with the supervisor's after each list). */
  list(): ReadonlyArray<T>;
}

export type InformerFactory<T> = (handlers: InformerHandlers<T>) => RawInformer<T>;

/** Hook for the watch restart metric (OperatorMetrics implements it). */
export interface InformerObserver {
  watchRestarted(resource: string, reason: RestartReason): void;
}

export interface SupervisedInformerOptions<T> {
  /** Names the resource in logs and metrics, e.g. "tfmodels". */
  readonly resource: string;
  readonly factory: InformerFactory<T>;
  readonly logger?: Logger;
  readonly observer?: InformerObserver;
  readonly clock?: Clock;
  /** [0, 1), for the backoff jitter. */
  readonly random?: () => number;
  /** Default 1 s. */
  readonly initialBackoffMs?: number;
  /** Default 30 s. */
  readonly maxBackoffMs?: number;
  /** Restart when nothing arrived for this long. Default 5 minutes. */
  readonly watchdogMs?: number;
  /** Re-list and fire `update` for every object this often; 0 never. Default 10 minutes. */
  readonly resyncMs?: number;
}

const BACKOFF_JITTER = 0.25;

interface Attempt<T> {
  informer?: RawInformer<T>;
  readonly resync: boolean;
  /** Keys that got an event from this attempt before it synced. */
  readonly notified: Set<string>;
  syncedAt?: number;
}

export class SupervisedInformer<T extends KubernetesObject> {
  readonly resource: string;
  private readonly options: SupervisedInformerOptions<T>;
  private readonly clock: Clock;
  private readonly watchdogMs: number;
  private readonly store = new Map<string, T>();
  private readonly handlers: Record<InformerEvent, Array<InformerHandler<T>>> = { add: [], update: [], delete: [] };
  private current: Attempt<T> | undefined;
  private consecutiveFailures = 0;
  private restartCount = 0;
  private lastActivity = 0;
  private synced = false;
  private started = false;
  private stopped = false;
  private readonly syncWaiters: Array<() => void> = [];
  private watchdogTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private relaunchTimer: TimerHandle | undefined;

  constructor(options: SupervisedInformerOptions<T>) {
    this.options = options;
    this.resource = options.resource;
    this.clock = options.clock ?? systemClock;
    this.watchdogMs = options.watchdogMs ?? 5 * 60_000;
  }

  on(event: InformerEvent, handler: InformerHandler<T>): void {
    this.handlers[event].push(handler);
  }

  /** Starts (once); resolves when the first list has been delivered, or on stop(). */
  start(): Promise<void> {
    const synced = new Promise<void>((resolve) => {
      if (this.synced || this.stopped) resolve();
      else this.syncWaiters.push(resolve);
    });
    if (!this.started && !this.stopped) {
      this.started = true;
      void this.launch(false);
    }
    return synced;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    const attempt = this.current;
    this.current = undefined;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    if (attempt) await stopQuietly(attempt.informer);
  }

  /** True once the first full list has been delivered (stays true across restarts, as in client-go). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Restarts after errors or watchdog timeouts (not scheduled resyncs). */
  get restarts(): number {
    return this.restartCount;
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** `namespace` is '' for cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined {
    return this.store.get(refKey({ namespace, name }));
  }

  private async launch(resync: boolean): Promise<void> {
    if (this.stopped) return;
    const attempt: Attempt<T> = { resync, notified: new Set() };
    this.current = attempt;
    this.touch();
    this.armWatchdog();
    const live = (): boolean => this.current === attempt;
    try {
      attempt.informer = this.options.factory({
        add: (object) => {
          if (live()) this.upsert(attempt, object);
        },
        update: (object) => {
          if (live()) this.upsert(attempt, object);
        },
        delete: (object) => {
          if (live()) this.remove(object);
        },
        error: (error) => this.fail(attempt, error, 'error'),
        activity: () => {
          if (live()) this.touch();
        },
      });
      if (!live()) {
        await stopQuietly(attempt.informer);
        return;
      }
      await attempt.informer.start();
    } catch (error) {
      this.fail(attempt, error, 'error');
      return;
    }
    if (live()) this.markSynced(attempt);
  }

  private upsert(attempt: Attempt<T>, object: T): void {
    this.touch();
    const key = objectKey(object);
    const previous = this.store.get(key);
    this.store.set(key, object);
    const pending = attempt.syncedAt === undefined;
    if (!previous) {
      if (pending) attempt.notified.add(key);
      this.emit('add', object);
      return;
    }
    // A resync fires one update per object when its list completes.
    if (pending && attempt.resync) return;
    const version = object.metadata?.resourceVersion;
    if (version !== undefined && version === previous.metadata?.resourceVersion) return;
    if (pending) attempt.notified.add(key);
    this.emit('update', object);
  }

  private remove(object: T): void {
    this.touch();
    if (this.store.delete(objectKey(object))) this.emit('delete', object);
  }

  private markSynced(attempt: Attempt<T>): void {
    attempt.syncedAt = this.clock.now();
    // What the fresh list lacks was deleted while we were not watching.
    const listed = new Set((attempt.informer?.list() ?? []).map(objectKey));
    for (const [key, object] of [...this.store]) {
      if (listed.has(key)) continue;
      this.store.delete(key);
      this.emit('delete', object);
    }
    if (attempt.resync) {
      for (const [key, object] of [...this.store]) if (!attempt.notified.has(key)) this.emit('update', object);
    }
    if (!this.synced) {
      this.synced = true;
      this.options.logger?.info('informer_synced', { resource: this.resource, objects: this.store.size });
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    const resyncMs = this.options.resyncMs ?? 10 * 60_000;
    if (resyncMs > 0) this.resyncTimer = this.clock.setTimeout(() => this.resync(attempt), resyncMs);
  }

  private resync(attempt: Attempt<T>): void {
    if (this.current !== attempt) return;
    this.retire(attempt);
    void this.launch(true);
  }

  private fail(attempt: Attempt<T>, error: unknown, reason: RestartReason): void {
    if (this.current !== attempt || this.stopped) return;
    const now = this.clock.now();
    // An informer that ran healthy for a while starts the backoff over.
    const maxBackoffMs = this.options.maxBackoffMs ?? 30_000;
    if (attempt.syncedAt !== undefined && now - attempt.syncedAt >= maxBackoffMs) this.consecutiveFailures = 0;
    const delayMs = reason === 'watchdog' ? 0 : this.backoff(this.consecutiveFailures++);
    this.retire(attempt);
    this.restartCount++;
    this.options.observer?.watchRestarted(this.resource, reason);
    this.options.logger?.warn('watch_restart', { resource: this.resource, reason, error: errorMessage(error), retryInMs: delayMs, restarts: this.restartCount });
    this.relaunchTimer = this.clock.setTimeout(() => {
      this.relaunchTimer = undefined;
      void this.launch(false);
    }, delayMs);
  }

  private retire(attempt: Attempt<T>): void {
    this.current = undefined;
    this.clearTimers();
    void stopQuietly(attempt.informer);
  }

  private backoff(failures: number): number {
    const initial = this.options.initialBackoffMs ?? 1000;
    const max = this.options.maxBackoffMs ?? 30_000;
    const random = this.options.random ?? Math.random;
    return Math.round(Math.min(max, initial * 2 ** failures) * (1 + BACKOFF_JITTER * random()));
  }

  private touch(): void {
    this.lastActivity = this.clock.now();
  }

  /** Checks idleness when it could first have expired, rather than re-arming on every event. */
  private armWatchdog(): void {
    if (this.watchdogTimer !== undefined) this.clock.clearTimeout(this.watchdogTimer);
    const attempt = this.current;
    const check = (): void => {
      this.watchdogTimer = undefined;
      if (!attempt || this.current !== attempt) return;
      const idle = this.clock.now() - this.lastActivity;
      if (idle >= this.watchdogMs) this.fail(attempt, new Error(`nothing received for ${idle} ms`), 'watchdog');
      else this.watchdogTimer = this.clock.setTimeout(check, this.watchdogMs - idle);
    };
    this.watchdogTimer = this.clock.setTimeout(check, this.watchdogMs);
  }

  private clearTimers(): void {
    for (const timer of [this.watchdogTimer, this.resyncTimer, this.relaunchTimer]) {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
    this.watchdogTimer = this.resyncTimer = this.relaunchTimer = undefined;
  }

  private emit(event: InformerEvent, object: T): void {
    for (const handler of this.handlers[event]) {
      try {
        handler(object);
      } catch (error) {
        this.options.logger?.error('informer_handler_failed', { resource: this.resource, handler: event, key: objectKey(object), error: errorMessage(error) });
      }
    }
  }
}

async function stopQuietly<T>(informer: RawInformer<T> | undefined): Promise<void> {
  try {
    await informer?.stop();
  } catch {
    // A discarded informer's failure to stop changes nothing.
  }
}
