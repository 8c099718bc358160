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

const x = (v: number): Map<string, HostTensor> => new Map([['x', { dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.from([v]) }]]);

/** A manager seam whose version 2 answers y = 0.5x + `offset` on every row, recording each run's rows. */
function rowsCore(offset: number, runs: number[]) {
  return {
    acquire: (): ServableHandle => ({
      name: 'm', version: 2n, signatureDefs: {},
      signatures: [{ key: 'serving_default', methodName: '', inputs: [{ alias: 'x', tensorName: 'x:0', dtype: DataType.DT_FLOAT, shape: undefined }], outputs: [] }],
      engine: { run: async ({ inputs }: { inputs: Map<string, HostTensor> }) => {
        const input = inputs.get('x')!;
        runs.push(input.shape[0]!);
        return new Map([['y', { dtype: DataType.DT_FLOAT, shape: [...input.shape], data: (input.data as Float32Array).map((v) => 0.5 * v + offset) }]]);
      } },
      release: () => undefined,
    }) as unknown as ServableHandle,
  };
}

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

  it('runs the copies queued for one shadow as one engine run and compares each with its own caller\'s answer', async () => {
    const events: ShadowEvent[] = [];
    const runs: number[] = [];
    // y = 0.5x + 3 (half_plus_three) on every row.
    const core = rowsCore(3, runs);
    const runner = new ShadowRunner({ core, observer: { shadow: (e) => void events.push(e) }, maxBatchRows: 4 });
    // The primary answered y = 0.5x + 2 to each caller.
    for (let i = 0; i < 6; i++) runner.submit('m', 1n, 2n, { signatureName: 'serving_default', inputs: x(i), outputs: y(0.5 * i + 2) });
    await runner.drained();
    assert.deepEqual(runs, [4, 2], 'two runs for six copies (4 rows at most per run)');
    assert.deepEqual(events.map((e) => e.comparisons?.[0]?.maxAbsDiff), [1, 1, 1, 1, 1, 1]);
    assert.deepEqual(events.map((e) => e.comparisons?.[0]?.maxRelDiff), [0, 1, 2, 3, 4, 5].map((i) => 1 / (0.5 * i + 3)), 'each copy against its own row');
  });

  it('holds copies arriving on later turns for the batch timeout, and starts a run as soon as a full batch is queued', async () => {
    const events: ShadowEvent[] = [];
    const runs: number[] = [];
    const core = rowsCore(2, runs);
    // A timeout no test waits for: only the full batch (3 rows) can start the run.
    const runner = new ShadowRunner({ core, observer: { shadow: (e) => void events.push(e) }, maxBatchRows: 3, batchTimeoutMs: 3_600_000 });
    for (let i = 0; i < 3; i++) {
      runner.submit('m', 1n, 2n, { signatureName: 'serving_default', inputs: x(i), outputs: y(0.5 * i + 2) });
      await new Promise((resolve) => setImmediate(resolve));
      if (i < 2) assert.deepEqual(runs, [], `copy ${i + 1} of 3 still waits for the batch`);
    }
    await runner.drained();
    assert.deepEqual(runs, [3], 'copies of three turns in one run');
    assert.deepEqual(events.map((e) => e.comparisons?.[0]?.maxAbsDiff), [0, 0, 0]);

    // A lone copy runs once its timeout passes.
    const soon = new ShadowRunner({ core, observer: { shadow: (e) => void events.push(e) }, maxBatchRows: 3, batchTimeoutMs: 5 });
    soon.submit('m', 1n, 2n, { signatureName: 'serving_default', inputs: x(4), outputs: y(5) });
    await soon.drained();
    assert.deepEqual(runs, [3, 1]);
    assert.equal(events.at(-1)?.comparisons?.[0]?.maxAbsDiff, 1);
  });

  it('starts a run at once when the queue is full, so a bound below a batch\'s rows does not drop while waiting', async () => {
    const events: ShadowEvent[] = [];
    const runs: number[] = [];
    const runner = new ShadowRunner({ core: rowsCore(2, runs), observer: { shadow: (e) => void events.push(e) }, maxQueued: 2, maxBatchRows: 32, batchTimeoutMs: 3_600_000 });
    for (let i = 0; i < 2; i++) runner.submit('m', 1n, 2n, { signatureName: 'serving_default', inputs: x(i), outputs: y(0.5 * i + 2) });
    await runner.drained();
    assert.deepEqual(runs, [2], 'both queued copies in one run, without waiting the hour');
    for (let i = 0; i < 3; i++) runner.submit('m', 1n, 2n, { signatureName: 'serving_default', inputs: x(i), outputs: y(0.5 * i + 2) });
    await runner.drained();
    assert.deepEqual(runs, [2, 2]);
    assert.deepEqual(events.map((e) => e.outcome), ['run', 'run', 'dropped', 'run', 'run'], 'the third copy of one turn found the queue full');
  });
});
