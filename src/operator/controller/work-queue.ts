/**
 * A keyed work queue with client-go's workqueue semantics:
 *
 * - a key waiting in the queue is there once, however often it is added (dedup);
 * - a key is handed to one worker at a time: added again while processing, it is marked dirty and
 *   queued again when that worker calls done(key);
 * - addAfter delays an add (a pending delay keeps the earliest time), addRateLimited delays it by
 *   the rate limiter (per-key backoff, overall token bucket), forget clears the key's backoff.
 *
 * Keys are "namespace/name" strings. After shutDown() get() resolves undefined at once and keys
 * still waiting are dropped (the next leader re-lists everything anyway); workers finish what they
 * hold, and shutDownWithDrain() resolves when they have.
 */
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import { type RateLimiter, defaultControllerRateLimiter } from './rate-limiter.js';

/** Hooks for the work queue metrics (OperatorMetrics implements them). */
export interface WorkQueueObserver {
  /** A key went into the queue (not counted when deduplicated away). */
  added(): void;
  /** addRateLimited was called. */
  retried(): void;
}

export interface WorkQueueOptions {
  readonly clock?: Clock;
  readonly rateLimiter?: RateLimiter;
  readonly observer?: WorkQueueObserver;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly observer: WorkQueueObserver | undefined;

  /** Keys ready to hand out, in order. */
  private queue: string[] = [];
  /** Keys that need processing: queued ones, and processing ones re-added meanwhile. */
  private readonly dirty = new Set<string>();
  /** Keys held by a worker, with when it got them. */
  private readonly processing = new Map<string, number>();
  /** Delayed adds: key -> when it becomes ready. */
  private readonly waiting = new Map<string, number>();
  private waitingTimer: { readonly handle: TimerHandle; readonly due: number } | undefined;
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainers: Array<() => void> = [];
  private shutdown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.observer = options.observer;
  }

  /** Keys waiting to be handed out (the queue depth metric). */
  get length(): number {
    return this.queue.length;
  }

  get shuttingDown(): boolean {
    return this.shutdown;
  }

  add(key: string): void {
    if (this.shutdown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.observer?.added();
    if (this.processing.has(key)) return; // done(key) will queue it again
    this.queue.push(key);
    this.dispatch();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shutdown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending !== undefined && pending <= readyAt) return;
    this.waiting.set(key, readyAt);
    this.armWaitingTimer();
  }

  addRateLimited(key: string): void {
    if (this.shutdown) return;
    this.observer?.retried();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key to process; waits for one; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shutdown) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends the processing of `key`; queues it again if it was added meanwhile. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key)) {
      if (this.shutdown) this.dirty.delete(key);
      else this.queue.push(key);
    }
    this.dispatch();
    if (this.processing.size === 0) for (const drained of this.drainers.splice(0)) drained();
  }

  /** How long the oldest key still being processed has been held (0 when none). */
  longestRunningMs(): number {
    let oldest = Infinity;
    for (const since of this.processing.values()) oldest = Math.min(oldest, since);
    return oldest === Infinity ? 0 : this.clock.now() - oldest;
  }

  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    if (this.waitingTimer) this.clock.clearTimeout(this.waitingTimer.handle);
    this.waitingTimer = undefined;
    this.waiting.clear();
    for (const key of this.queue) this.dirty.delete(key);
    this.queue = [];
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  /** Shuts down, then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.set(key, this.clock.now());
    return key;
  }

  private dispatch(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      this.getters.shift()!(this.take());
    }
  }

  /** One timer, for the earliest delayed add. */
  private armWaitingTimer(): void {
    let due = Infinity;
    for (const readyAt of this.waiting.values()) due = Math.min(due, readyAt);
    if (this.waitingTimer?.due === due) return;
    if (this.waitingTimer) this.clock.clearTimeout(this.waitingTimer.handle);
    this.waitingTimer = undefined;
    if (due === Infinity) return;
    const handle = this.clock.setTimeout(() => this.releaseWaiting(), Math.max(0, due - this.clock.now()));
    this.waitingTimer = { handle, due };
  }

  private releaseWaiting(): void {
    this.waitingTimer = undefined;
    const now = this.clock.now();
    // Map iteration is insertion order and sort is stable: equal times keep the order they came in.
    const ready = [...this.waiting].filter(([, readyAt]) => readyAt <= now).sort((a, b) => a[1] - b[1]);
    for (const [key] of ready) {
      this.waiting.delete(key);
      this.add(key);
    }
    this.armWaitingTimer();
  }
}
