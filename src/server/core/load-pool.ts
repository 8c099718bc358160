/**
 * A bounded pool for model loads or unloads: at most `concurrency` at once and, for loads, at most
 * `maxBytes` of estimated footprint at once (a single job larger than that still runs, alone).
 * Jobs start in the order they were queued (FIFO), so a large load is not starved by small ones.
 *
 * TF Serving runs loads on a thread pool of --num_load_threads (0: serially, in the manager's
 * thread) and unloads on one of --num_unload_threads; `concurrency` is that number, at least 1.
 */
export interface PoolSlot {
  /** Gives the slot back; idempotent. */
  release(): void;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: (slot: PoolSlot) => void;
}

export class LoadPool {
  private active = 0;
  private activeBytes = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private concurrencyLimit: number,
    private readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    this.concurrencyLimit = Math.max(1, Math.floor(concurrencyLimit));
  }

  get concurrency(): number {
    return this.concurrencyLimit;
  }

  /** Changes the concurrency (TF Serving's initial-load threads, then --num_load_threads). */
  setConcurrency(n: number): void {
    this.concurrencyLimit = Math.max(1, Math.floor(n));
    this.pump();
  }

  /** Jobs running now, and queued. */
  stats(): { active: number; activeBytes: number; queued: number } {
    return { active: this.active, activeBytes: this.activeBytes, queued: this.queue.length };
  }

  /** Resolves with a slot once the job fits. */
  acquire(bytes = 0): Promise<PoolSlot> {
    return new Promise((grant) => {
      this.queue.push({ bytes: Math.max(0, bytes), grant });
      this.pump();
    });
  }

  /** Runs `job` in a slot. */
  async run<T>(bytes: number, job: () => Promise<T>): Promise<T> {
    const slot = await this.acquire(bytes);
    try {
      return await job();
    } finally {
      slot.release();
    }
  }

  private fits(bytes: number): boolean {
    if (this.active >= this.concurrencyLimit) return false;
    return this.active === 0 || this.activeBytes + bytes <= this.maxBytes;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes)) {
      const { bytes, grant } = this.queue.shift()!;
      this.active++;
      this.activeBytes += bytes;
      let released = false;
      grant({
        release: () => {
          if (released) return;
          released = true;
          this.active--;
          this.activeBytes -= bytes;
          this.pump();
        },
      });
    }
  }
}
