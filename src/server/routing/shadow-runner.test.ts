import assert from 'node:assert/strict';
import { notFound } from '../errors.js';
import type { ServableHandle, ShadowCall } from '../core/types.js';
import type { ShadowEvent } from '../observability.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { ShadowRunner } from './shadow-runner.js';

const y = (v: number): Map<string, HostTensor> => new Map([['y', { dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.from([v]) }]]);

/** A manager seam whose version 2 answers `answer`, after `gate` resolves. */
function fakeCore(answer: number, gate: Promise<void> = Promise.resolve()) {
  const state = { runs: 0, released: 0 };
  return {
    state,
    acquire: ({ version }: { version?: bigint }): ServableHandle => {
      if (version !== 2n) throw notFound(`Servable not found for request: Specific(m, ${version})`);
      return {
        name: 'm', version: 2n, signatures: [], signatureDefs: {},
        engine: { run: async () => { state.runs++; await gate; return y(answer); } },
        release: () => void state.released++,
      } as unknown as ServableHandle;
    },
  };
}

const call = (primaryY: number): ShadowCall => ({ signatureName: 'serving_default', inputs: new Map(), outputs: y(primaryY) });

describe('ShadowRunner', () => {
  it('runs copies after the caller\'s turn and reports the comparison', async () => {
    const events: ShadowEvent[] = [];
    const core = fakeCore(3.5);
    const runner = new ShadowRunner({ core, observer: { shadow: (e) => void events.push(e) } });
    runner.submit('m', 1n, 2n, call(2.5));
    assert.equal(core.state.runs, 0, 'nothing runs on the caller\'s stack');
    await runner.drained();
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], {
      model: 'm', primary: 1n, shadow: 2n, outcome: 'run', primaryFailed: false, shadowFailed: false,
      comparisons: [{ output: 'y', maxAbsDiff: 1, maxRelDiff: 1 / 3.5, top1: undefined }],
    });
    assert.equal(core.state.released, 1);
  });

  it('drops and counts copies beyond the queue bound, never blocking', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const events: ShadowEvent[] = [];
    const core = fakeCore(2.5, gate);
    const runner = new ShadowRunner({ core, observer: { shadow: (e) => void events.push(e) }, maxQueued: 2, concurrency: 1 });
    for (let i = 0; i < 5; i++) runner.submit('m', 1n, 2n, call(2.5));
    // One starts running on the next turn; until then all five count against the queue of two.
    assert.equal(events.filter((e) => e.outcome === 'dropped').length, 3);
    open();
    await runner.drained();
    assert.equal(events.filter((e) => e.outcome === 'run').length, 2);
    assert.ok(events.filter((e) => e.outcome === 'run').every((e) => e.comparisons?.[0]?.maxAbsDiff === 0));
  });

  it('counts the failures of either side', async () => {
    const events: ShadowEvent[] = [];
    const runner = new ShadowRunner({ core: fakeCore(1), observer: { shadow: (e) => void events.push(e) } });
    runner.submit('m', 1n, 7n, call(1));
    runner.submit('m', 1n, 2n, { signatureName: 'serving_default', inputs: new Map(), error: notFound('x') });
    await runner.drained();
    assert.deepEqual(events.map((e) => [e.shadow, e.primaryFailed, e.shadowFailed, e.comparisons === undefined]), [[7n, false, true, true], [2n, true, false, true]]);
  });
});
