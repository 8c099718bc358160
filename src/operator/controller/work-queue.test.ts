import assert from 'node:assert/strict';
import { FakeClock, settle } from './fake-clock.js';
import { ItemExponentialBackoff } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';

/** Resolves get() or reports that it is still waiting. */
async function tryGet(queue: WorkQueue): Promise<string | undefined | 'waiting'> {
  return Promise.race([queue.get(), settle().then(() => 'waiting' as const)]);
}

describe('WorkQueue', () => {
  it('hands keys out in order and deduplicates keys already waiting', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    assert.equal(queue.length, 0);
  });

  it('never hands out a key that is being processed; a re-add while processing is queued on done', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.add('ns/a');
    const key = await queue.get();
    assert.equal(key, 'ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.length, 0, 'dirty, not queued, while a worker holds it');
    assert.equal(await tryGet(queue), 'waiting');
    queue.done('ns/a');
    assert.equal(queue.length, 0, 'the waiting get() took it at once');
  });

  it('re-queues a dirty key once, and not at all when it was not re-added', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.add('ns/a');
    await queue.get();
    queue.add('ns/a');
    queue.done('ns/a');
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), 'ns/a');
    queue.done('ns/a');
    assert.equal(queue.length, 0);
    assert.equal(await tryGet(queue), 'waiting');
  });

  it('wakes waiting getters in order, one key each', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    const first = queue.get();
    const second = queue.get();
    queue.add('ns/a');
    queue.add('ns/b');
    assert.deepEqual(await Promise.all([first, second]), ['ns/a', 'ns/b']);
  });

  it('addAfter releases keys in time order and keeps the earliest of two delays', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('ns/late', 300);
    queue.addAfter('ns/early', 100);
    queue.addAfter('ns/moved', 500);
    queue.addAfter('ns/moved', 200); // earlier: wins
    queue.addAfter('ns/early', 400); // later: ignored
    queue.addAfter('ns/now', 0);
    assert.deepEqual([queue.length, await queue.get()], [1, 'ns/now']);
    await clock.advance(99);
    assert.equal(queue.length, 0);
    await clock.advance(1);
    assert.equal(queue.length, 1);
    await clock.advance(250);
    assert.equal(queue.length, 3);
    assert.deepEqual([await queue.get(), await queue.get(), await queue.get()], ['ns/early', 'ns/moved', 'ns/late']);
    await clock.advance(1000);
    assert.equal(queue.length, 0, 'the superseded delays added nothing');
  });

  it('addRateLimited backs off exponentially per key until forget', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialBackoff(5, 1_000_000) });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      queue.addRateLimited('ns/a');
      let waited = 0;
      while (queue.length === 0) {
        await clock.advance(1);
        waited++;
      }
      delays.push(waited);
      assert.equal(await queue.get(), 'ns/a');
      queue.done('ns/a');
    }
    assert.deepEqual(delays, [5, 10, 20, 40]);
    assert.equal(queue.numRequeues('ns/a'), 4);
    assert.equal(queue.numRequeues('ns/b'), 0);
    queue.forget('ns/a');
    assert.equal(queue.numRequeues('ns/a'), 0);
    queue.addRateLimited('ns/a');
    await clock.advance(4);
    assert.equal(queue.length, 0);
    await clock.advance(1);
    assert.equal(queue.length, 1, 'back to the base delay');
  });

  it('uses the default limiter: a burst beyond 100 keys is throttled by the token bucket', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    for (let i = 0; i < 102; i++) queue.addRateLimited(`ns/k${i}`);
    await clock.advance(5);
    assert.equal(queue.length, 100, 'the burst, after the 5 ms first backoff');
    await clock.advance(95);
    assert.equal(queue.length, 101, 'one token per 100 ms after that');
    await clock.advance(100);
    assert.equal(queue.length, 102);
  });

  it('resolves getters with undefined on shutDown, drops waiting keys and ignores later adds', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('ns/a');
    queue.addAfter('ns/b', 10);
    await clock.advance(10);
    assert.equal(queue.length, 0);
    assert.equal(await queue.get(), undefined);
    assert.equal(clock.pendingTimers, 0);
  });

  it('shutDownWithDrain waits until every key handed out is done, without re-queueing dirty ones', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c');
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    queue.add('ns/a'); // dirty while processing
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    assert.equal(await queue.get(), undefined, 'ns/c is dropped');
    queue.done('ns/a');
    await settle();
    assert.equal(drained, false, 'ns/b is still in flight');
    assert.equal(queue.length, 0, 'the dirty ns/a was not re-queued');
    queue.done('ns/b');
    await drain;
    assert.equal(drained, true);
    await new WorkQueue().shutDownWithDrain(); // nothing in flight: resolves at once
  });

  it('reports how long the oldest key in flight has been processed', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    assert.equal(queue.longestRunningMs(), 0);
    queue.add('ns/a');
    await queue.get();
    await clock.advance(300);
    queue.add('ns/b');
    await queue.get();
    await clock.advance(200);
    assert.equal(queue.longestRunningMs(), 500);
    queue.done('ns/a');
    assert.equal(queue.longestRunningMs(), 200);
  });

  it('tells its observer about adds after dedup and about retries', async () => {
    let added = 0;
    let retried = 0;
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, observer: { added: () => added++, retried: () => retried++ } });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.addRateLimited('ns/b');
    await clock.advance(1000);
    assert.deepEqual({ added, retried }, { added: 2, retried: 1 });
  });
});
