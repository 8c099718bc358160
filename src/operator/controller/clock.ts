/**
 * Time as the controller machinery sees it: injected everywhere so tests drive backoffs, leases
 * and watchdogs with a FakeClock instead of sleeping.
 */

/** Opaque handle returned by Clock.setTimeout. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A sleep that `cancel()` ends early (resolving, not rejecting), so loops can stop promptly. */
export interface CancellableSleep {
  readonly done: Promise<void>;
  cancel(): void;
}

export function sleep(clock: Clock, ms: number): CancellableSleep {
  let cancel = (): void => {};
  const done = new Promise<void>((resolve) => {
    const handle = clock.setTimeout(resolve, ms);
    cancel = () => {
      clock.clearTimeout(handle);
      resolve();
    };
  });
  return { done, cancel };
}
