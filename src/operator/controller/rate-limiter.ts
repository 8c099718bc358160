/**
 * Retry delays for the work queue, as client-go's DefaultControllerRateLimiter: a per-key
 * exponential backoff (5 ms doubling to 1000 s) and an overall token bucket (10 qps, burst 100),
 * whichever asks for the longer wait. The backoff spaces out one failing key; the bucket stops a
 * burst of failing keys from hammering the apiserver.
 */
import { type Clock, systemClock } from './clock.js';

export interface RateLimiter {
  /** Records a retry of `key` and returns how long (ms) to wait before handing it out again. */
  when(key: string): number;
  /** Clears the key's history (after a success). */
  forget(key: string): void;
  /** Retries recorded since the last forget. */
  numRequeues(key: string): number;
}

export class ItemExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000 * 1000,
  ) {}

  when(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    // 2 ** exponent reaches Infinity rather than overflowing, so min() caps it safely.
    return Math.min(this.baseMs * 2 ** exponent, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * golang.org/x/time/rate's Reserve(): every call takes a token, going into debt when empty; the
 * debt is the wait. Tokens refill continuously at `qps` up to `burst`.
 */
export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(): number {
    const now = Math.max(this.clock.now(), this.last);
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(): void {}

  numRequeues(): number {
    return 0;
  }
}

/** Asks every limiter (each records the retry) and waits for the longest. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

export function defaultControllerRateLimiter(clock: Pick<Clock, 'now'> = systemClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialBackoff(5, 1000 * 1000), new TokenBucket(10, 100, clock));
}
