import assert from 'node:assert/strict';
import { memoryLogger } from '../../server/logging.js';
import { TerminalError } from './errors.js';
import { FakeClock, settle } from './fake-clock.js';
import { ItemExponentialBackoff } from './rate-limiter.js';
import { type ReconcileOutcome, type ReconcileResult, runWorkers } from './run-workers.js';
import { WorkQueue } from './work-queue.js';

/** A reconcile whose calls stay pending until the test settles them. */
function controllableReconcile() {
  const calls: Array<{ key: string; resolve(result: ReconcileResult): void; reject(error: Error): void }> = [];
  const reconcile = (key: string) =>
    new Promise<ReconcileResult>((resolve, reject) => {
      calls.push({ key, resolve, reject });
    });
  return { calls, reconcile };
}

describe('runWorkers', () => {
  it('reconciles keys concurrently but never the same key twice at once', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const { calls, reconcile } = controllableReconcile();
    const workers = runWorkers({ queue, reconcile, workers: 3, clock });
    queue.add('ns/a');
    queue.add('ns/b');
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['ns/a', 'ns/b']);
    queue.add('ns/a'); // changed while being reconciled
    await settle();
    assert.equal(calls.length, 2, 'the idle third worker does not take ns/a');
    calls[0]!.resolve({});
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['ns/a', 'ns/b', 'ns/a'], 'ns/a again, after the first finished');
    calls[1]!.resolve({});
    calls[2]!.resolve({});
    await workers.stop();
  });

  it('retries failures with backoff, forgets it on success, and requeues when asked', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialBackoff(5, 1000) });
    const logger = memoryLogger();
    const outcomes: ReconcileOutcome[] = [];
    const { calls, reconcile } = controllableReconcile();
    const workers = runWorkers({ queue, reconcile, logger, clock, observer: { reconciled: (outcome) => outcomes.push(outcome) } });
    queue.add('ns/a');
    await settle();
    calls[0]!.reject(new Error('apiserver said no'));
    await settle();
    assert.equal(queue.numRequeues('ns/a'), 1);
    assert.deepEqual(logger.events.map((e) => [e.level, e.event, e['key'], e['error']]), [['error', 'reconcile_failed', 'ns/a', 'apiserver said no']]);
    await clock.advance(4);
    assert.equal(calls.length, 1, 'not before the 5 ms backoff');
    await clock.advance(1);
    assert.equal(calls.length, 2);
    calls[1]!.reject(new Error('again'));
    await clock.advance(9);
    assert.equal(calls.length, 2, 'the second backoff is 10 ms');
    await clock.advance(1);
    calls[2]!.resolve({ requeueAfterMs: 30_000 });
    await settle();
    assert.equal(queue.numRequeues('ns/a'), 0, 'success forgets the backoff');
    await clock.advance(29_999);
    assert.equal(calls.length, 3);
    await clock.advance(1);
    assert.equal(calls.length, 4, 'requeued after requeueAfterMs');
    calls[3]!.resolve({});
    await clock.advance(3_600_000);
    assert.equal(calls.length, 4, 'a plain success is not requeued');
    assert.deepEqual(outcomes, ['error', 'error', 'requeue', 'success']);
    await workers.stop();
  });

  it('does not retry a TerminalError', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const logger = memoryLogger();
    let calls = 0;
    const workers = runWorkers({
      queue,
      logger,
      clock,
      reconcile: async () => {
        calls++;
        throw new TerminalError('spec.basePath is not absolute');
      },
    });
    queue.add('ns/a');
    await clock.advance(3_600_000);
    assert.equal(calls, 1);
    assert.equal(queue.numRequeues('ns/a'), 0);
    assert.equal(logger.events[0]?.event, 'reconcile_failed_terminal');
    await workers.stop();
  });

  it('stops gracefully: reconciles in flight finish, then every worker exits', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const { calls, reconcile } = controllableReconcile();
    const workers = runWorkers({ queue, reconcile, workers: 2, clock });
    assert.equal(workers.alive(), true);
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c');
    await settle();
    let stopped = false;
    const stopping = workers.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'waits for the two reconciles in flight');
    assert.equal(workers.alive(), false);
    calls[0]!.resolve({ requeueAfterMs: 10 });
    calls[1]!.reject(new Error('late failure'));
    await stopping;
    assert.deepEqual(calls.map((c) => c.key), ['ns/a', 'ns/b'], 'ns/c, still queued, was dropped');
    await clock.advance(1000);
    assert.equal(queue.length, 0, 'no requeue after shutdown');
  });

  it('rejects a worker count that is not a positive integer', () => {
    assert.throws(() => runWorkers({ queue: new WorkQueue(), reconcile: async () => ({}), workers: 0 }), RangeError);
  });
});
