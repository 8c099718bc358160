import assert from 'node:assert/strict';
import { LoadPool } from './load-pool.js';

/** Starts jobs of the given sizes; returns what ran together and a way to finish each. */
function start(pool: LoadPool, sizes: readonly number[]) {
  const running = new Set<number>();
  let peak = 0;
  const order: number[] = [];
  const finish = new Map<number, () => void>();
  const done = sizes.map((bytes, i) =>
    pool.run(bytes, async () => {
      running.add(i);
      order.push(i);
      peak = Math.max(peak, running.size);
      await new Promise<void>((resolve) => finish.set(i, resolve));
      running.delete(i);
    }),
  );
  return { running, order, finish, done, peak: () => peak };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('LoadPool', () => {
  it('runs one job at a time with concurrency 0 or 1 (TF Serving: serial loads), in order', async () => {
    for (const concurrency of [0, 1]) {
      const pool = new LoadPool(concurrency);
      const jobs = start(pool, [0, 0, 0]);
      await tick();
      assert.deepEqual([...jobs.running], [0]);
      assert.equal(pool.stats().queued, 2);
      for (const i of [0, 1, 2]) {
        await tick();
        jobs.finish.get(i)!();
        await tick();
      }
      await Promise.all(jobs.done);
      assert.deepEqual(jobs.order, [0, 1, 2]);
      assert.equal(jobs.peak(), 1);
    }
  });

  it('runs up to `concurrency` jobs at once', async () => {
    const pool = new LoadPool(3);
    const jobs = start(pool, [0, 0, 0, 0, 0]);
    await tick();
    assert.equal(jobs.running.size, 3);
    for (const finish of [...jobs.finish.values()]) finish();
    await tick();
    for (const finish of [...jobs.finish.values()]) finish();
    await Promise.all(jobs.done);
    assert.equal(jobs.peak(), 3);
  });

  it('keeps the bytes in flight under the cap, yet runs a job larger than the cap alone', async () => {
    const pool = new LoadPool(10, 100);
    const jobs = start(pool, [60, 30, 20, 500, 10]);
    await tick();
    assert.deepEqual([...jobs.running].sort(), [0, 1], '60 + 30 fit, + 20 would not');
    assert.equal(pool.stats().activeBytes, 90);
    jobs.finish.get(0)!();
    await tick();
    await tick();
    assert.deepEqual([...jobs.running].sort(), [1, 2], 'FIFO: 500 waits behind 20');
    jobs.finish.get(1)!();
    jobs.finish.get(2)!();
    await tick();
    await tick();
    assert.deepEqual([...jobs.running], [3], 'the 500-byte job runs alone');
    jobs.finish.get(3)!();
    await tick();
    await tick();
    jobs.finish.get(4)!();
    await Promise.all(jobs.done);
    assert.deepEqual(pool.stats(), { active: 0, activeBytes: 0, queued: 0 });
  });

  it('gives a slot back when the job throws', async () => {
    const pool = new LoadPool(1);
    await assert.rejects(pool.run(0, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await pool.run(0, async () => 7), 7);
  });
});
