/**
 * The controller loop: N workers take keys from the work queue and reconcile them. This is the one
 * place that decides retries (error: rate-limited requeue; success: forget the backoff, then requeue
 * after requeueAfterMs if asked), logs failures and records reconcile metrics; reconcilers hold
 * only logic. The queue guarantees no key is reconciled by two workers at once.
 */
import type { Logger } from '../../server/logging.js';
import { type Clock, systemClock } from './clock.js';
import { TerminalError, errorMessage } from './errors.js';
import type { WorkQueue } from './work-queue.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (e.g. to re-check pods during a promotion). */
  readonly requeueAfterMs?: number;
}

/** Level-based: re-read the object for `key` ("namespace/name"); throw to retry with backoff. */
export type Reconcile = (key: string) => Promise<ReconcileResult>;

export type ReconcileOutcome = 'success' | 'error' | 'requeue';

/** Hook for reconcile metrics (OperatorMetrics implements it). */
export interface ReconcileObserver {
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
}

export interface RunWorkersOptions {
  readonly queue: WorkQueue;
  readonly reconcile: Reconcile;
  /** Concurrent reconciles. Default 4. */
  readonly workers?: number;
  readonly logger?: Logger;
  readonly observer?: ReconcileObserver;
  readonly clock?: Pick<Clock, 'now'>;
}

export interface Workers {
  /** Resolves when every worker has exited (after the queue shuts down). */
  readonly done: Promise<void>;
  /** True while every worker loop is running (for /healthz). */
  alive(): boolean;
  /** Shuts the queue down, waits for reconciles in flight, then for the workers to exit. */
  stop(): Promise<void>;
}

export function runWorkers(options: RunWorkersOptions): Workers {
  const count = options.workers ?? 4;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`);
  let running = 0;
  const loops = Array.from({ length: count }, async () => {
    running++;
    try {
      for (let key = await options.queue.get(); key !== undefined; key = await options.queue.get()) {
        await processKey(key, options);
      }
    } finally {
      running--;
    }
  });
  const done = Promise.all(loops).then(() => undefined);
  return {
    done,
    alive: () => running === count && !options.queue.shuttingDown,
    stop: async () => {
      await options.queue.shutDownWithDrain();
      await done;
    },
  };
}

async function processKey(key: string, options: RunWorkersOptions): Promise<void> {
  const { queue, logger, observer } = options;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  let outcome: ReconcileOutcome;
  try {
    const result = await options.reconcile(key);
    queue.forget(key);
    const after = result.requeueAfterMs;
    if (after !== undefined && after > 0) {
      queue.addAfter(key, after);
      outcome = 'requeue';
    } else {
      outcome = 'success';
    }
  } catch (error) {
    outcome = 'error';
    if (error instanceof TerminalError) {
      queue.forget(key);
      logger?.error('reconcile_failed_terminal', { key, error: errorMessage(error) });
    } else {
      const retries = queue.numRequeues(key);
      queue.addRateLimited(key);
      logger?.error('reconcile_failed', { key, error: errorMessage(error), retries });
    }
  } finally {
    queue.done(key);
  }
  observer?.reconciled(outcome, (clock.now() - started) / 1000);
}
