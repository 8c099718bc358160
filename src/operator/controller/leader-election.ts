/**
 * Lease-based leader election (coordination.k8s.io/v1), client-go's algorithm with
 * controller-runtime's defaults (lease 15 s, renew deadline 10 s, retry 2 s):
 *
 * - a candidate takes the Lease when it is absent, released (empty holder) or expired, writing
 *   with the resourceVersion it read, so of two racing candidates the apiserver lets one win (the
 *   other gets 409 Conflict);
 * - expired means renewTime + leaseDurationSeconds < now, or the holder has not changed the Lease
 *   for a whole lease duration by our own clock (client-go's rule, which does not trust the
 *   holder's clock; the first rule assumes clocks within a few seconds, as NTP gives);
 * - the leader renews every retry period; if it cannot renew for renewDeadline (which is shorter
 *   than the lease, so it stops before anyone else may start), or it sees another holder, it steps
 *   down: onStoppedLeading('lost'), after which main exits and a restart campaigns afresh. The
 *   deadline is a timer, so a renew request that hangs (client-node has no timeout) cannot hold it
 *   off;
 * - release() on graceful shutdown empties holderIdentity so the next candidate takes over at its
 *   next retry instead of waiting for expiry.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../server/logging.js';
import { type CancellableSleep, type Clock, type TimerHandle, sleep, systemClock } from './clock.js';
import { errorMessage } from './errors.js';

/** A Lease's spec, with times as Dates, and the resourceVersion it was read at. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
  readonly leaseTransitions: number;
  readonly resourceVersion?: string;
}

/** The seam to the apiserver (kubeLeaseStore in production). */
export interface LeaseStore {
  /** undefined when the Lease does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  /** Rejects with LeaseConflictError when it exists already. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Writes over the version `record.resourceVersion`; LeaseConflictError when it changed since. */
  replace(record: LeaseRecord): Promise<LeaseRecord>;
}

export class LeaseConflictError extends Error {
  constructor(message = 'the Lease was changed by someone else') {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export type StoppedLeadingReason = 'lost' | 'released';

/** Hook for the leader gauge (OperatorMetrics implements it). */
export interface LeaderObserver {
  setLeader(leading: boolean): void;
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  /** Default: hostname and a random suffix, unique per process. */
  readonly identity?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** `signal` aborts when leadership ends. */
  readonly onStartedLeading: (signal: AbortSignal) => void;
  readonly onStoppedLeading: (reason: StoppedLeadingReason) => void;
  readonly logger?: Logger;
  readonly observer?: LeaderObserver;
  readonly clock?: Clock;
  /** [0, 1), for the jitter between acquire attempts. */
  readonly random?: () => number;
}

/** client-go's JitterFactor: acquire attempts wait retryPeriod * (1 + 1.2 * random). */
const ACQUIRE_JITTER = 1.2;

/** 'conflict': the Lease changed between our read and write (409); the next read tells by whom. */
type Attempt = 'held' | 'held-by-other' | 'conflict' | 'failed';

export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly options: LeaderElectorOptions;
  private leading = false;
  private stopped = false;
  private releasing = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private leadership: AbortController | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private pause: CancellableSleep | undefined;
  /** The last record read or written, and when (our clock) it last changed. */
  private observed: LeaseRecord | undefined;
  private observedChangedAt = 0;
  private lastReadAt: number | undefined;

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.store = options.store;
    this.identity = options.identity ?? defaultIdentity();
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod > 0');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** True while run() is campaigning or leading. */
  alive(): boolean {
    return this.running;
  }

  /** When the Lease was last read successfully (a standby that reads it can reach the apiserver). */
  lastObservedAt(): number | undefined {
    return this.lastReadAt;
  }

  /**
   * Campaigns, then leads (calling onStartedLeading); resolves when leadership ends, after
   * onStoppedLeading, or when release() stops a candidate. Call once.
   */
  run(): Promise<void> {
    this.loop ??= this.campaignAndLead();
    return this.loop;
  }

  /**
   * Stops campaigning; if leading, steps down and empties the Lease's holder so the next candidate
   * takes over at once. Resolves when run() has finished.
   */
  release(): Promise<void> {
    this.stopped = true;
    this.pause?.cancel();
    if (this.leading) {
      this.releasing = true;
      this.endLeadership();
    }
    return this.loop ?? Promise.resolve();
  }

  private async campaignAndLead(): Promise<void> {
    this.running = true;
    try {
      let result: Attempt = 'failed';
      while (!this.stopped) {
        result = await this.attempt();
        if (result === 'held') break;
        await this.wait(this.retryPeriodMs * (1 + ACQUIRE_JITTER * (this.options.random ?? Math.random)()));
      }
      if (this.stopped) {
        // release() came while an acquire was on its way: give back what it won.
        if (result === 'held') await this.releaseLease();
        return;
      }
      this.startLeading();
      while (this.leading) {
        await this.wait(this.retryPeriodMs);
        if (!this.leading) break;
        // Awaited even when release() ends leadership meanwhile, so no renew lands after the release.
        result = await this.attempt();
        if (!this.leading) break;
        if (result === 'held') this.armDeadline();
        else if (result === 'held-by-other') this.stepDown('lost', 'another candidate holds the Lease');
        // 'failed' or 'conflict': try again next period; the deadline timer steps down if that goes on.
      }
      if (this.releasing) {
        await this.releaseLease();
        this.options.onStoppedLeading('released');
      }
    } finally {
      this.running = false;
    }
  }

  private async releaseLease(): Promise<void> {
    try {
      const current = await this.store.get();
      if (current?.holderIdentity !== this.identity) return;
      const now = new Date(this.clock.now());
      await this.store.replace({ ...current, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now });
      this.options.logger?.info('leader_released', { identity: this.identity });
    } catch (error) {
      // Not fatal: the Lease simply expires.
      this.options.logger?.warn('leader_release_failed', { identity: this.identity, error: errorMessage(error) });
    }
  }

  private async attempt(): Promise<Attempt> {
    const now = this.clock.now();
    const desired = (previous: LeaseRecord | undefined): LeaseRecord => {
      const ours = previous?.holderIdentity === this.identity;
      return {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: ours ? previous.acquireTime : new Date(now),
        renewTime: new Date(now),
        leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous && !ours ? 1 : 0),
        resourceVersion: previous?.resourceVersion,
      };
    };
    try {
      const current = await this.store.get();
      this.lastReadAt = now;
      if (!current) return this.written(await this.store.create(desired(undefined)), now);
      this.observe(current, now);
      if (current.holderIdentity !== this.identity) {
        if (this.leading) return 'held-by-other';
        if (current.holderIdentity !== '' && !this.expired(current, now)) return 'held-by-other';
      }
      return this.written(await this.store.replace(desired(current)), now);
    } catch (error) {
      if (error instanceof LeaseConflictError) return 'conflict';
      this.options.logger?.warn('leader_election_error', { identity: this.identity, leading: this.leading, error: errorMessage(error) });
      return 'failed';
    }
  }

  private written(record: LeaseRecord, now: number): Attempt {
    this.observe(record, now);
    return 'held';
  }

  private observe(record: LeaseRecord, now: number): void {
    const previous = this.observed;
    const changed =
      !previous ||
      previous.holderIdentity !== record.holderIdentity ||
      previous.resourceVersion !== record.resourceVersion ||
      previous.renewTime?.getTime() !== record.renewTime?.getTime();
    this.observed = record;
    if (changed) this.observedChangedAt = now;
  }

  private expired(record: LeaseRecord, now: number): boolean {
    const durationMs = record.leaseDurationSeconds * 1000;
    const renewedAt = record.renewTime?.getTime();
    if (renewedAt === undefined || renewedAt + durationMs < now) return true;
    return now - this.observedChangedAt >= durationMs;
  }

  private startLeading(): void {
    this.leading = true;
    this.leadership = new AbortController();
    this.armDeadline();
    this.options.observer?.setLeader(true);
    this.options.logger?.info('leader_elected', { identity: this.identity });
    this.options.onStartedLeading(this.leadership.signal);
  }

  /** Steps down if no renewal succeeds within renewDeadline from now. */
  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = this.clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      this.stepDown('lost', `could not renew the Lease within ${this.renewDeadlineMs} ms`);
    }, this.renewDeadlineMs);
  }

  private stepDown(reason: StoppedLeadingReason, why: string): void {
    if (!this.leading) return;
    this.endLeadership();
    this.options.logger?.error('leader_lost', { identity: this.identity, reason: why });
    this.options.onStoppedLeading(reason);
  }

  private endLeadership(): void {
    this.leading = false;
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.pause?.cancel();
    this.options.observer?.setLeader(false);
    this.leadership?.abort();
  }

  private async wait(ms: number): Promise<void> {
    this.pause = sleep(this.clock, ms);
    await this.pause.done;
    this.pause = undefined;
  }
}
