import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.js';
import { ItemExponentialBackoff, MaxOfRateLimiter, TokenBucket, defaultControllerRateLimiter } from './rate-limiter.js';

describe('rate limiters', () => {
  it('ItemExponentialBackoff doubles from 5 ms per key, caps at 1000 s, and forget starts over', () => {
    const limiter = new ItemExponentialBackoff();
    const delays = Array.from({ length: 5 }, () => limiter.when('a'));
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    assert.equal(limiter.when('b'), 5, 'keys back off independently');
    for (let i = 0; i < 40; i++) limiter.when('a');
    assert.equal(limiter.when('a'), 1_000_000);
    for (let i = 0; i < 2000; i++) limiter.when('a');
    assert.equal(limiter.when('a'), 1_000_000, 'no overflow past the cap');
    assert.equal(limiter.numRequeues('b'), 1);
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
    assert.equal(limiter.when('a'), 5);
  });

  it('TokenBucket allows a burst of 100, then one per 100 ms, refilling with time', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 100, clock);
    const burst = Array.from({ length: 100 }, () => bucket.when());
    assert.ok(burst.every((delay) => delay === 0));
    assert.deepEqual([bucket.when(), bucket.when(), bucket.when()], [100, 200, 300]);
    await clock.advance(1000); // 10 tokens back, 3 of them owed
    assert.deepEqual(Array.from({ length: 8 }, () => bucket.when()), [0, 0, 0, 0, 0, 0, 0, 100]);
    await clock.advance(3_600_000);
    assert.equal(Array.from({ length: 101 }, () => bucket.when()).filter((delay) => delay > 0).length, 1, 'refills only up to the burst');
  });

  it('MaxOfRateLimiter waits for the slower limiter and forgets in all', async () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(new ItemExponentialBackoff(5, 1000), new TokenBucket(10, 1, clock));
    assert.equal(limiter.when('a'), 5, 'backoff is longer than the free token');
    assert.equal(limiter.when('b'), 100, 'the bucket is longer than a first backoff');
    assert.equal(limiter.numRequeues('a'), 1);
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
  });

  it('defaultControllerRateLimiter is client-go\'s: 5 ms backoff capped by 10 qps / burst 100', () => {
    const limiter = defaultControllerRateLimiter(new FakeClock());
    assert.deepEqual([limiter.when('a'), limiter.when('a'), limiter.when('a')], [5, 10, 20]);
    for (let i = 0; i < 97; i++) limiter.when(`k${i}`);
    assert.equal(limiter.when('z'), 100);
  });
});
