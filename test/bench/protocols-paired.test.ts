/** bench:protocols' round order (bench/protocols/paired.ts): no contestant always follows the same one. */
import assert from 'node:assert/strict';
import { roundOrder } from '../../bench/protocols/paired.js';

/** How often `a` ran immediately before `b`, and anywhere before `b`, over the rounds. */
function counts(orders: readonly string[][], a: string, b: string): { right: number; before: number } {
  let right = 0;
  let before = 0;
  for (const order of orders) {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ib === ia + 1) right++;
    if (ia < ib) before++;
  }
  return { right, before };
}

describe('bench:protocols round order', () => {
  const contestants = ['tf-rest', 'oip-rest', 'tf-grpc', 'oip-grpc'];

  it('runs every contestant once per round', () => {
    for (let round = 0; round < 8; round++) {
      assert.deepEqual([...roundOrder(contestants, round)].sort(), [...contestants].sort(), `round ${round}`);
    }
  });

  it('runs each pair in both orders equally often over every two rounds', () => {
    for (const rounds of [2, 4, 6, 8]) {
      const orders = Array.from({ length: rounds }, (_, r) => roundOrder(contestants, r));
      for (const a of contestants) {
        for (const b of contestants) {
          if (a === b) continue;
          const ab = counts(orders, a, b);
          const ba = counts(orders, b, a);
          assert.equal(ab.right, ba.right, `${rounds} rounds: ${a} right before ${b} ${ab.right}x, the other way ${ba.right}x`);
          assert.equal(ab.before, ba.before, `${rounds} rounds: ${a} before ${b} ${ab.before}x, the other way ${ba.before}x`);
        }
      }
    }
  });

  it('starts with each contestant in turn, every second round', () => {
    const firsts = Array.from({ length: 8 }, (_, r) => roundOrder(contestants, r)[0]);
    assert.deepEqual(firsts.filter((_, r) => r % 2 === 0), contestants);
  });

  it('leaves the list it is given as it was', () => {
    const list = [...contestants];
    roundOrder(list, 3);
    assert.deepEqual(list, contestants);
  });
});
