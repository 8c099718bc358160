import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { memoryLogger } from '../../server/logging.js';
import { FakeClock, settle } from './fake-clock.js';
import { LeaderElector, type LeaderElectorOptions, LeaseConflictError, type LeaseRecord, type LeaseStore, defaultIdentity } from './leader-election.js';

/** One Lease with the apiserver's optimistic concurrency: every write bumps resourceVersion. */
class FakeLeaseServer {
  record: LeaseRecord | undefined;
  private version = 0;
  writes = 0;

  set(record: Omit<LeaseRecord, 'resourceVersion'>): void {
    this.record = { ...record, resourceVersion: String(++this.version) };
  }

  /** A candidate's connection to the Lease, with faults to inject. */
  connection(): LeaseStore & { fault: 'none' | 'error' | 'hang'; conflictsToInject: number } {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the connection object's methods have their own `this`
    const server = this;
    const check = (): void => {
      if (connection.fault === 'error') throw new Error('connect ECONNREFUSED');
    };
    const hang = <T>(): Promise<T> => new Promise<T>(() => {});
    const connection = {
      fault: 'none' as 'none' | 'error' | 'hang',
      conflictsToInject: 0,
      async get(): Promise<LeaseRecord | undefined> {
        if (connection.fault === 'hang') return hang();
        check();
        return server.record && { ...server.record };
      },
      async create(record: LeaseRecord): Promise<LeaseRecord> {
        if (connection.fault === 'hang') return hang();
        check();
        if (server.record) throw new LeaseConflictError();
        server.writes++;
        server.set(record);
        return { ...server.record! };
      },
      async replace(record: LeaseRecord): Promise<LeaseRecord> {
        if (connection.fault === 'hang') return hang();
        check();
        if (connection.conflictsToInject > 0) {
          connection.conflictsToInject--;
          throw new LeaseConflictError();
        }
        if (!server.record || server.record.resourceVersion !== record.resourceVersion) throw new LeaseConflictError();
        server.writes++;
        server.set(record);
        return { ...server.record! };
      },
    };
    return connection;
  }
}

interface Candidate {
  readonly elector: LeaderElector;
  readonly connection: ReturnType<FakeLeaseServer['connection']>;
  readonly log: string[];
  readonly gauge: number[];
  signal?: AbortSignal;
  running: Promise<void>;
}

function candidate(server: FakeLeaseServer, clock: FakeClock, identity: string, options: Partial<LeaderElectorOptions> = {}): Candidate {
  const connection = server.connection();
  const log: string[] = [];
  const gauge: number[] = [];
  const self: Partial<Candidate> = { connection, log, gauge };
  const elector = new LeaderElector({
    store: connection,
    identity,
    clock,
    random: () => 0,
    logger: memoryLogger(),
    observer: { setLeader: (leading) => gauge.push(leading ? 1 : 0) },
    onStartedLeading: (signal) => {
      self.signal = signal;
      log.push(`started@${clock.now() - T0}`);
    },
    onStoppedLeading: (reason) => log.push(`stopped:${reason}@${clock.now() - T0}`),
    ...options,
  });
  return Object.assign(self, { elector, running: elector.run() }) as Candidate;
}

const T0 = Date.UTC(2026, 0, 1);

describe('LeaderElector', () => {
  let clock: FakeClock;
  let server: FakeLeaseServer;

  beforeEach(() => {
    clock = new FakeClock(T0);
    server = new FakeLeaseServer();
  });

  it('creates an absent Lease; of two racing candidates exactly one leads, and keeps leading', async () => {
    const a = candidate(server, clock, 'a');
    const b = candidate(server, clock, 'b');
    await settle();
    assert.deepEqual([a.elector.isLeader(), b.elector.isLeader()], [true, false], 'a created it; b got 409 AlreadyExists');
    assert.equal(server.record?.holderIdentity, 'a');
    assert.equal(server.record?.leaseDurationSeconds, 15);
    assert.equal(server.record?.renewTime?.getTime(), T0);
    await clock.advance(60_000);
    assert.deepEqual([a.elector.isLeader(), b.elector.isLeader()], [true, false]);
    assert.equal(server.record?.renewTime?.getTime(), T0 + 60_000, 'renewed every 2 s');
    assert.equal(server.record?.acquireTime?.getTime(), T0, 'acquireTime stays');
    assert.equal(server.record?.leaseTransitions, 0);
    assert.deepEqual(a.log, ['started@0']);
    assert.deepEqual(b.log, []);
    assert.ok(b.elector.lastObservedAt()! >= T0 + 56_000, 'the standby keeps reading the Lease');
    await a.elector.release();
    await b.elector.release();
  });

  it('takes over a Lease whose renewTime + leaseDurationSeconds has passed, counting a transition', async () => {
    server.set({ holderIdentity: 'crashed', leaseDurationSeconds: 15, renewTime: new Date(T0 - 16_000), acquireTime: new Date(T0 - 3_600_000), leaseTransitions: 4 });
    const b = candidate(server, clock, 'b');
    await settle();
    assert.equal(b.elector.isLeader(), true);
    assert.equal(server.record?.holderIdentity, 'b');
    assert.equal(server.record?.leaseTransitions, 5);
    assert.equal(server.record?.acquireTime?.getTime(), T0);
    await b.elector.release();
  });

  it('waits while the holder renews, and takes over once renewals stop and the Lease expires', async () => {
    const holder = server.connection();
    server.set({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: new Date(T0), leaseTransitions: 0 });
    const b = candidate(server, clock, 'b');
    for (let i = 0; i < 30; i++) {
      await clock.advance(1000);
      const current = (await holder.get())!;
      await holder.replace({ ...current, renewTime: new Date(clock.now()) });
    }
    assert.equal(b.elector.isLeader(), false);
    const lastRenew = clock.now();
    let acquiredAt: number | undefined;
    while (acquiredAt === undefined) {
      await clock.advance(100);
      if (b.elector.isLeader()) acquiredAt = clock.now();
    }
    assert.ok(acquiredAt > lastRenew + 15_000, `not before the Lease expired (after ${acquiredAt - lastRenew} ms)`);
    assert.ok(acquiredAt <= lastRenew + 17_000, `at the first retry after (after ${acquiredAt - lastRenew} ms)`);
    assert.equal(server.record?.leaseTransitions, 1);
    await b.elector.release();
  });

  it("takes over from a dead holder whose clock ran ahead, once the Lease stayed unchanged for its duration", async () => {
    server.set({ holderIdentity: 'skewed', leaseDurationSeconds: 15, renewTime: new Date(T0 + 3_600_000), leaseTransitions: 0 });
    const b = candidate(server, clock, 'b');
    await clock.advance(14_000);
    assert.equal(b.elector.isLeader(), false);
    await clock.advance(2_000);
    assert.equal(b.elector.isLeader(), true);
    await b.elector.release();
  });

  it('steps down when renewals fail for the renew deadline, before another candidate can take over', async () => {
    const a = candidate(server, clock, 'a');
    await settle();
    const b = candidate(server, clock, 'b');
    await clock.advance(4_000);
    a.connection.fault = 'error';
    const cut = clock.now() - T0;
    await clock.advance(8_000);
    assert.equal(a.elector.isLeader(), true, 'still within the 10 s renew deadline');
    await clock.advance(2_000);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.signal?.aborted, true);
    assert.deepEqual(a.gauge, [1, 0]);
    assert.equal(b.elector.isLeader(), false, 'b waits for the Lease to expire');
    await a.running; // run() ends: main exits and a restart campaigns afresh
    await clock.advance(10_000);
    assert.equal(b.elector.isLeader(), true);
    const [stopped] = a.log.slice(1);
    const [started] = b.log;
    const at = (entry: string | undefined): number => Number(entry?.split('@')[1]);
    assert.match(stopped!, /^stopped:lost@/);
    assert.ok(at(stopped) <= cut + 10_000, `a stepped down ${at(stopped) - cut} ms after the last renewal could happen`);
    assert.ok(at(started) > at(stopped) + 4_000, `b started ${at(started) - at(stopped)} ms after a stopped: no overlap`);
    await b.elector.release();
  });

  it('steps down on time even when a renew request never returns', async () => {
    const a = candidate(server, clock, 'a');
    await settle();
    a.connection.fault = 'hang';
    await clock.advance(9_999);
    assert.equal(a.elector.isLeader(), true);
    await clock.advance(1);
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.log, ['started@0', 'stopped:lost@10000']);
  });

  it('steps down at once when another holder appears in the Lease', async () => {
    const a = candidate(server, clock, 'a');
    await settle();
    const current = server.record!;
    server.set({ ...current, holderIdentity: 'usurper', renewTime: new Date(clock.now()) });
    await clock.advance(2_000);
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.log, ['started@0', 'stopped:lost@2000']);
    assert.equal(server.record?.holderIdentity, 'usurper', 'and does not write over it');
  });

  it('retries a renew that hit a 409 (someone else edited the Lease) instead of stepping down', async () => {
    const a = candidate(server, clock, 'a');
    await settle();
    a.connection.conflictsToInject = 2;
    await clock.advance(8_000);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(server.record?.renewTime?.getTime(), T0 + 8_000);
    await a.elector.release();
  });

  it('release() empties the holder, so the standby acquires at its next retry instead of after expiry', async () => {
    const a = candidate(server, clock, 'a');
    await settle();
    const b = candidate(server, clock, 'b');
    await clock.advance(5_000);
    await a.elector.release();
    assert.deepEqual(a.log, ['started@0', 'stopped:released@5000']);
    assert.deepEqual(a.gauge, [1, 0]);
    assert.equal(server.record?.holderIdentity, '');
    assert.equal(server.record?.renewTime?.getTime(), T0 + 5_000);
    const writes = server.writes;
    await clock.advance(2_000);
    assert.equal(b.elector.isLeader(), true);
    assert.equal(server.writes, writes + 1, 'a renewed nothing after releasing');
    assert.equal(server.record?.leaseTransitions, 1);
    await b.elector.release();
    await Promise.all([a.running, b.running]);
  });

  it('release() of a candidate that is not leading only stops it campaigning', async () => {
    server.set({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: new Date(T0), leaseTransitions: 0 });
    const b = candidate(server, clock, 'b');
    await clock.advance(2_000);
    await b.elector.release();
    await b.running;
    assert.equal(b.elector.alive(), false);
    await clock.advance(60_000);
    assert.equal(server.record?.holderIdentity, 'other');
    assert.deepEqual(b.log, []);
  });

  it('gives the Lease back when release() comes while an acquire is on its way', async () => {
    const connection = server.connection();
    let releaseGet: () => void = () => {};
    let gets = 0;
    const gated: LeaseStore = {
      // The first read waits for the test; later ones (the hand-back) go straight through.
      get: () => (gets++ === 0 ? new Promise((resolve) => (releaseGet = () => resolve(connection.get()))) : connection.get()),
      create: (record) => connection.create(record),
      replace: (record) => connection.replace(record),
    };
    const started: string[] = [];
    const elector = new LeaderElector({ store: gated, identity: 'b', clock, onStartedLeading: () => started.push('b'), onStoppedLeading: () => {} });
    const running = elector.run();
    const releasing = elector.release();
    releaseGet();
    await Promise.all([running, releasing]);
    assert.deepEqual(started, []);
    assert.equal(server.record?.holderIdentity, '', 'created, then handed back');
  });

  it('validates its timings and makes a hostname-based identity', () => {
    const store = server.connection();
    const callbacks = { onStartedLeading: () => {}, onStoppedLeading: () => {} };
    assert.throws(() => new LeaderElector({ store, ...callbacks, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), RangeError);
    assert.throws(() => new LeaderElector({ store, ...callbacks, retryPeriodMs: 0 }), RangeError);
    const identity = defaultIdentity();
    assert.ok(identity.startsWith(`${hostname()}_`) && /_[0-9a-f]{8}$/.test(identity), identity);
    assert.notEqual(defaultIdentity(), identity);
  });
});
