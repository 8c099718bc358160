/**
 * TensorFlow's SharedBatchScheduler: many queues (one per model version, signature and request
 * shape) share num_batch_threads "threads", i.e. at most that many batches run at once across
 * the whole server. Free threads round-robin through the queues, one batch per queue per turn.
 */
import { type BatchJob, BatchQueue, type QueueHooks, type QueueOptions, type SizedTask } from './batch-queue.js';

export interface SchedulerOptions {
  readonly numBatchThreads: number;
  readonly threadPoolName: string;
  /** Microseconds, monotonic (tests inject one). */
  readonly now?: () => number;
}

interface JobSource {
  takeJob(): BatchJob | undefined;
}

export const monotonicMicros = (): number => performance.now() * 1000;

export class SharedBatchScheduler {
  readonly threadPoolName: string;
  readonly now: () => number;
  private readonly numBatchThreads: number;
  private readonly queues: JobSource[] = [];
  private nextQueue = 0;
  private running = 0;
  private wakePending = false;

  constructor(options: SchedulerOptions) {
    this.numBatchThreads = options.numBatchThreads;
    this.threadPoolName = options.threadPoolName;
    this.now = options.now ?? monotonicMicros;
  }

  /** Batches running now. */
  get runningBatches(): number {
    return this.running;
  }

  addQueue<T extends SizedTask>(options: QueueOptions, hooks: Pick<QueueHooks<T>, 'process' | 'idle'>): BatchQueue<T> {
    const queue = new BatchQueue<T>(options, { ...hooks, wake: () => this.wake(), now: this.now });
    this.queues.push(queue);
    return queue;
  }

  /** Forgets a queue (call once it is empty). */
  removeQueue(queue: JobSource): void {
    const index = this.queues.indexOf(queue);
    if (index < 0) return;
    this.queues.splice(index, 1);
    if (index < this.nextQueue) this.nextQueue--;
    if (this.nextQueue >= this.queues.length) this.nextQueue = 0;
  }

  /**
   * Looks for work on the next microtask: requests that arrive in the same turn of the event loop
   * then share a batch even with batch_timeout_micros 0.
   */
  private wake(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    queueMicrotask(() => {
      this.wakePending = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.numBatchThreads) {
      const job = this.nextJob();
      if (!job) return;
      this.running++;
      // Jobs settle their tasks themselves; nothing is left to report here.
      void job()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.wake();
        });
    }
  }

  private nextJob(): BatchJob | undefined {
    for (let tried = 0; tried < this.queues.length; tried++) {
      const queue = this.queues[this.nextQueue]!;
      this.nextQueue = (this.nextQueue + 1) % this.queues.length;
      const job = queue.takeJob();
      if (job) return job;
    }
    return undefined;
  }
}
