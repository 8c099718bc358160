/**
 * The checks main gives the health server.
 *
 * Readiness: every informer has synced, and this replica is either the leader or a standby that
 * can read the Lease. A standby counts as ready on purpose: if readiness required leadership, a
 * rolling update would deadlock (the new pod cannot lead until the old one exits, and the old one
 * is not stopped until the new one is ready), and standbys would page as unready forever. Standbys
 * run their informers too, so a failover starts with a warm cache.
 *
 * Liveness: the loops that must keep running (workers, leader election) are running. The
 * informers supervise themselves and never stop, so they are not part of it.
 */
import type { Clock } from './clock.js';
import type { HealthCheck } from './health-server.js';

export interface SyncedInformer {
  readonly resource: string;
  hasSynced(): boolean;
}

export function informersSynced(informers: readonly SyncedInformer[]): HealthCheck {
  return () => {
    const pending = informers.filter((informer) => !informer.hasSynced()).map((informer) => informer.resource);
    return pending.length === 0 ? undefined : `informers not synced: ${pending.join(', ')}`;
  };
}

export interface ElectorState {
  isLeader(): boolean;
  lastObservedAt(): number | undefined;
}

/** Leading, or a standby whose last successful read of the Lease is at most `staleAfterMs` old. */
export function leaderOrStandby(elector: ElectorState, clock: Pick<Clock, 'now'>, staleAfterMs: number): HealthCheck {
  return () => {
    if (elector.isLeader()) return undefined;
    const observed = elector.lastObservedAt();
    if (observed === undefined) return 'leader election: the Lease has not been read yet';
    const age = clock.now() - observed;
    return age <= staleAfterMs ? undefined : `leader election: the Lease was last read ${Math.round(age / 1000)} s ago`;
  };
}

/** Unhealthy once `alive()` turns false (a loop that exited). */
export function loopAlive(name: string, loop: { alive(): boolean }): HealthCheck {
  return () => (loop.alive() ? undefined : `${name} stopped`);
}
