/**
 * One queue of a SharedBatchScheduler, with TensorFlow's semantics (shared_batch_scheduler.h,
 * internal::Queue): a deque of batches whose last one is open. A task joins the open batch; when
 * it does not fit, the open batch closes and a new one starts, unless the queue already holds
 * max_enqueued_batches batches (then the task is refused with UNAVAILABLE). A batch thread takes
 * the front batch if it is closed, or the open one once it is full, has waited
 * batch_timeout_micros since its first task, or the queue is closing.
 */
import { Code, ServingError, invalidArgument } from '../errors.js';

export interface QueueOptions {
  readonly maxBatchSize: number;
  readonly batchTimeoutMicros: number;
  readonly maxEnqueuedBatches: number;
}

export interface SizedTask {
  /** Rows (dim 0) the task adds to a batch. */
  readonly size: number;
}

export interface QueueHooks<T> {
  /** Runs a batch; must not reject (failures belong to the tasks). */
  process(tasks: T[]): Promise<void>;
  /** Something may have become schedulable: the scheduler should look for work. */
  wake(): void;
  /** The queue became empty (nothing waiting, nothing running). */
  idle(): void;
  /** Microseconds, monotonic. */
  now(): number;
}

/** A batch a thread may run: call it once. */
export type BatchJob = () => Promise<void>;

interface PendingBatch<T> {
  readonly tasks: T[];
  size: number;
  startMicros: number;
  /** Set by the timeout timer, so a timer firing a little early still releases the batch. */
  timedOut: boolean;
}

export class BatchQueue<T extends SizedTask> {
  private readonly batches: PendingBatch<T>[] = [emptyBatch()];
  private running = 0;
  private closing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly emptyWaiters: Array<() => void> = [];

  constructor(
    private readonly options: QueueOptions,
    private readonly hooks: QueueHooks<T>,
  ) {}

  /** Adds a task, or throws TF's INVALID_ARGUMENT (too large) / UNAVAILABLE (queue full). */
  schedule(task: T): void {
    if (this.closing) throw new ServingError(Code.UNAVAILABLE, 'The batch scheduling queue is closed: the servable is unloading');
    const { maxBatchSize, maxEnqueuedBatches } = this.options;
    if (task.size > maxBatchSize) {
      throw invalidArgument(`Task size ${task.size} is larger than maximum input batch size ${maxBatchSize}`);
    }
    if (this.openBatch().size + task.size > maxBatchSize) {
      if (this.batches.length >= maxEnqueuedBatches) {
        throw new ServingError(
          Code.UNAVAILABLE,
          'The batch scheduling queue to which this task was submitted is full; currently ' +
            `${this.batches.length} batches enqueued and max_enqueued_batches is ${maxEnqueuedBatches}`,
        );
      }
      this.startNewBatch();
    }
    const open = this.openBatch();
    if (open.tasks.length === 0) {
      open.startMicros = this.hooks.now();
      this.armTimer(open);
    }
    open.tasks.push(task);
    open.size += task.size;
    this.hooks.wake();
  }

  /** The next batch ready to run, as a job for a batch thread; undefined when none is ready. */
  takeJob(): BatchJob | undefined {
    if (this.batches.length === 1 && this.openBatchSchedulable()) this.startNewBatch();
    if (this.batches.length < 2) return undefined;
    const batch = this.batches.shift()!;
    this.running++;
    return () => this.run(batch.tasks);
  }

  /** Nothing waiting and nothing running. */
  isEmpty(): boolean {
    return this.running === 0 && this.batches.length === 1 && this.openBatch().tasks.length === 0;
  }

  /** Refuses new tasks, releases the open batch at once, and resolves when every task has run. */
  close(): Promise<void> {
    this.closing = true;
    if (this.isEmpty()) return Promise.resolve();
    this.hooks.wake();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  private async run(tasks: T[]): Promise<void> {
    try {
      await this.hooks.process(tasks);
    } finally {
      this.running--;
      if (this.isEmpty()) {
        for (const resolve of this.emptyWaiters.splice(0)) resolve();
        this.hooks.idle();
      }
    }
  }

  private openBatch(): PendingBatch<T> {
    return this.batches[this.batches.length - 1]!;
  }

  private openBatchSchedulable(): boolean {
    const open = this.openBatch();
    if (open.tasks.length === 0) return false;
    return (
      this.closing ||
      open.size >= this.options.maxBatchSize ||
      open.timedOut ||
      this.hooks.now() >= open.startMicros + this.options.batchTimeoutMicros
    );
  }

  private startNewBatch(): void {
    this.disarmTimer();
    this.batches.push(emptyBatch());
  }

  private armTimer(batch: PendingBatch<T>): void {
    const timeoutMicros = this.options.batchTimeoutMicros;
    if (timeoutMicros <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      batch.timedOut = true;
      this.hooks.wake();
    }, Math.ceil(timeoutMicros / 1000));
  }

  private disarmTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function emptyBatch<T>(): PendingBatch<T> {
  return { tasks: [], size: 0, startMicros: 0, timedOut: false };
}
