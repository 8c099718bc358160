import assert from 'node:assert/strict';
import { type BatchingConfig, batchingConfigFrom, parseBatchingParameters } from '../config/batching-config.js';
import { Code, ServingError } from '../errors.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { type BatchStatsObserver, createBatching } from './index.js';
import { type RecordingEngine, floats, latch, recordingEngine, settle } from './test-support.js';

function config(text: string): BatchingConfig {
  return batchingConfigFrom(parseBatchingParameters(text), 4);
}

interface Recorded {
  queuing: Array<[string, number]>;
  input: number[];
  processed: number[];
  padding: Array<[number, number]>;
  wrapped: number;
}

function recordingObserver(): Recorded & BatchStatsObserver & { batchQueuing(pool: string, micros: number): void } {
  const r: Recorded = { queuing: [], input: [], processed: [], padding: [], wrapped: 0 };
  return Object.assign(r, {
    batchQueuing: (pool: string, micros: number) => void r.queuing.push([pool, micros]),
    inputBatchSize: (size: number) => void r.input.push(size),
    processedBatchSize: (size: number) => void r.processed.push(size),
    paddingSize: (padding: number, batch: number) => void r.padding.push([padding, batch]),
    wrappedRun: () => void r.wrapped++,
  });
}

const run = (engine: { run: RecordingEngine['run'] }, values: number[], extra: Partial<Parameters<RecordingEngine['run']>[0]> = {}) =>
  engine.run({ signature: 'serving_default', inputs: new Map([['x', floats([values.length, 1], values)]]), ...extra });

const values = (tensor: HostTensor | undefined): number[] => Array.from(tensor!.data as Float32Array);
const batchSizes = (inner: RecordingEngine): number[] => inner.seen.map((r) => r.inputs.get('x')!.shape[0]!);

async function rejection(promise: Promise<unknown>): Promise<ServingError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ServingError, `expected a ServingError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('BatchingEngine', () => {
  it('merges concurrent requests into one batch and splits the results back', async () => {
    const inner = recordingEngine();
    const observer = recordingObserver();
    const engine = createBatching(config('max_batch_size { value: 8 }'), { observer }).wrap(inner);
    const results = await Promise.all([run(engine, [1, 2]), run(engine, [3]), run(engine, [4, 5, 6])]);
    assert.deepEqual(batchSizes(inner), [6]);
    assert.deepEqual(values(inner.seen[0]!.inputs.get('x')), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(results.map((r) => values(r.get('y'))), [[3, 5], [7], [9, 11, 13]]);
    assert.deepEqual(results.map((r) => values(r.get('n'))), [[0, 1], [2], [3, 4, 5]]);
    assert.deepEqual(results[2]!.get('y')!.shape, [3, 1]);
    assert.deepEqual(observer.queuing.map(([pool]) => pool), ['batch_threads', 'batch_threads', 'batch_threads']);
    assert.ok(observer.queuing.every(([, micros]) => micros >= 0));
    assert.deepEqual(observer.input, [2, 1, 3]);
    assert.deepEqual(observer.processed, [6]);
    assert.deepEqual(observer.padding, [[0, 6]]);
    assert.equal(observer.wrapped, 1);
  });

  it('closes a batch at max_batch_size and starts the next one', async () => {
    const inner = recordingEngine();
    const engine = createBatching(config('max_batch_size { value: 4 } num_batch_threads { value: 1 }')).wrap(inner);
    await Promise.all([run(engine, [1, 2]), run(engine, [3, 4]), run(engine, [5, 6, 7]), run(engine, [8])]);
    assert.deepEqual(batchSizes(inner), [4, 4]);
    assert.deepEqual(values(inner.seen[1]!.inputs.get('x')), [5, 6, 7, 8]);
  });

  it('refuses a request larger than max_batch_size with TF\'s error', async () => {
    const engine = createBatching(config('max_batch_size { value: 2 }')).wrap(recordingEngine());
    const error = await rejection(run(engine, [1, 2, 3]));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.equal(error.message, 'Task size 3 is larger than maximum input batch size 2');
  });

  it('runs at most num_batch_threads batches at once', async () => {
    const inner = recordingEngine();
    const gate = latch();
    inner.gate = gate.promise;
    const batching = createBatching(config('max_batch_size { value: 1 } num_batch_threads { value: 2 } max_enqueued_batches { value: 100 }'));
    const engine = batching.wrap(inner);
    const pending = [1, 2, 3, 4, 5].map((v) => run(engine, [v]));
    await settle();
    assert.equal(inner.active, 2);
    assert.equal(batching.scheduler.runningBatches, 2);
    gate.open();
    const results = await Promise.all(pending);
    assert.equal(inner.maxActive, 2);
    assert.deepEqual(results.map((r) => values(r.get('y'))), [[3], [5], [7], [9], [11]]);
  });

  it('shares the batch threads across engines, taking turns between queues', async () => {
    const batching = createBatching(config('max_batch_size { value: 1 } num_batch_threads { value: 1 } max_enqueued_batches { value: 10 }'));
    const order: string[] = [];
    const tagged = (name: string): RecordingEngine => {
      const inner = recordingEngine();
      const run = inner.run.bind(inner);
      inner.run = (request) => {
        order.push(`${name}${values(request.inputs.get('x'))[0]}`);
        return run(request);
      };
      return inner;
    };
    const a = batching.wrap(tagged('a'));
    const b = batching.wrap(tagged('b'));
    await Promise.all([run(a, [1]), run(a, [2]), run(a, [3]), run(b, [1]), run(b, [2])]);
    assert.deepEqual(order, ['a1', 'b1', 'a2', 'b2', 'a3']);
  });

  it('batches what arrives while every thread is busy (batch_timeout_micros 0)', async () => {
    const inner = recordingEngine();
    const gate = latch();
    inner.gate = gate.promise;
    const engine = createBatching(config('max_batch_size { value: 10 } num_batch_threads { value: 1 }')).wrap(inner);
    const first = run(engine, [1]);
    await settle();
    const later = [run(engine, [2]), run(engine, [3])];
    await settle();
    const more = run(engine, [4]);
    gate.open();
    await Promise.all([first, ...later, more]);
    assert.deepEqual(batchSizes(inner), [1, 3]);
  });

  it('refuses requests with UNAVAILABLE when max_enqueued_batches batches wait', async () => {
    const inner = recordingEngine();
    const gate = latch();
    inner.gate = gate.promise;
    const engine = createBatching(
      config('max_batch_size { value: 2 } num_batch_threads { value: 1 } max_enqueued_batches { value: 2 }'),
    ).wrap(inner);
    const running = run(engine, [1, 2]);
    await settle();
    // The running batch has left the queue; two more batches fit, the fifth request does not.
    const queued = [run(engine, [3, 4]), run(engine, [5]), run(engine, [6])];
    const error = await rejection(run(engine, [7]));
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.equal(
      error.message,
      'The batch scheduling queue to which this task was submitted is full; currently 2 batches enqueued and max_enqueued_batches is 2',
    );
    gate.open();
    await Promise.all([running, ...queued]);
    assert.deepEqual(batchSizes(inner), [2, 2, 2]);
  });

  it('waits batch_timeout_micros for more requests, but runs a full batch at once', async () => {
    const inner = recordingEngine();
    const engine = createBatching(config('max_batch_size { value: 3 } batch_timeout_micros { value: 60000 }')).wrap(inner);
    const started = performance.now();
    const first = run(engine, [1]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = run(engine, [2]);
    await Promise.all([first, second]);
    assert.ok(performance.now() - started >= 55, 'the batch waited for its timeout');
    assert.deepEqual(batchSizes(inner), [2]);

    const fullStart = performance.now();
    await Promise.all([run(engine, [1]), run(engine, [2, 3])]);
    assert.ok(performance.now() - fullStart < 50, 'a full batch does not wait');
    assert.deepEqual(batchSizes(inner), [2, 3]);
  });

  it('pads batches to the next allowed size with the first row of the last request and drops those rows', async () => {
    const inner = recordingEngine();
    const observer = recordingObserver();
    const engine = createBatching(config('max_batch_size { value: 8 } allowed_batch_sizes: [2, 4, 8]'), { observer }).wrap(inner);
    const results = await Promise.all([run(engine, [1, 2]), run(engine, [3, 4, 5])]);
    assert.deepEqual(values(inner.seen[0]!.inputs.get('x')), [1, 2, 3, 4, 5, 3, 3, 3]);
    assert.deepEqual(results.map((r) => values(r.get('y'))), [[3, 5], [7, 9, 11]]);
    assert.deepEqual(observer.padding, [[3, 8]]);
    assert.deepEqual(observer.processed, [8]);
  });

  it('queues requests of different shapes apart unless pad_variable_length_inputs is set', async () => {
    const rows = (width: number, start: number) =>
      floats([1, width], Array.from({ length: width }, (_, i) => start + i));
    const request = (width: number, start: number) => ({ signature: 's', inputs: new Map([['x', rows(width, start)]]) });

    const apart = recordingEngine();
    const plain = createBatching(config('max_batch_size { value: 8 }')).wrap(apart);
    await Promise.all([plain.run(request(2, 1)), plain.run(request(3, 10)), plain.run(request(2, 5))]);
    assert.deepEqual(apart.seen.map((r) => r.inputs.get('x')!.shape), [[2, 2], [1, 3]]);

    const padded = recordingEngine();
    const padding = createBatching(config('max_batch_size { value: 8 } pad_variable_length_inputs: true')).wrap(padded);
    const results = await Promise.all([padding.run(request(2, 1)), padding.run(request(3, 10))]);
    assert.equal(padded.seen.length, 1);
    assert.deepEqual(padded.seen[0]!.inputs.get('x')!.shape, [2, 3]);
    // The first request's row is padded with its own first element, as TF does.
    assert.deepEqual(values(padded.seen[0]!.inputs.get('x')), [1, 2, 1, 10, 11, 12]);
    assert.deepEqual(results[0]!.get('y')!.shape, [1, 3]);
  });

  it('keeps signatures and output filters in separate batches', async () => {
    const inner = recordingEngine();
    const engine = createBatching(config('max_batch_size { value: 8 }')).wrap(inner);
    const results = await Promise.all([
      run(engine, [1]),
      run(engine, [2], { signature: 'other' }),
      run(engine, [3], { outputFilter: ['y'] }),
      run(engine, [4], { outputFilter: [] }),
    ]);
    assert.deepEqual(inner.seen.map((r) => [r.signature, r.outputFilter, r.inputs.get('x')!.shape[0]]), [
      ['serving_default', undefined, 2],
      ['other', undefined, 1],
      ['serving_default', ['y'], 1],
    ]);
    assert.deepEqual([...results[2]!.keys()], ['y']);
    assert.deepEqual(values(results[3]!.get('y')), [9]);
  });

  it('never batches a stateful engine', async () => {
    const inner = recordingEngine({ stateful: true });
    assert.equal(createBatching(config('')).wrap(inner), inner);
  });

  it('refuses inputs TF cannot batch, with its messages', async () => {
    const engine = createBatching(config('')).wrap(recordingEngine());
    const scalar = await rejection(engine.run({ signature: 's', inputs: new Map([['x', floats([], [1])]]) }));
    assert.equal(scalar.code, Code.INVALID_ARGUMENT);
    assert.equal(scalar.message, 'Batching Run() input tensors must have at least one dimension');
    const none = await rejection(engine.run({ signature: 's', inputs: new Map() }));
    assert.equal(none.message, 'Batching Run() must have at least one input tensor');
    const uneven = await rejection(
      engine.run({ signature: 's', inputs: new Map([['x', floats([2], [1, 2])], ['z', floats([1], [1])]]) }),
    );
    assert.equal(uneven.message, 'Batching Run() input tensors must have equal 0th-dimension size');
  });

  it('runs requests with zero rows directly', async () => {
    const inner = recordingEngine();
    const engine = createBatching(config('')).wrap(inner);
    const result = await engine.run({ signature: 's', inputs: new Map([['x', floats([0, 1], [])]]) });
    assert.deepEqual(result.get('y')!.shape, [0, 1]);
    assert.equal(inner.seen.length, 1);
  });

  it('fails every request of a batch when the batch fails', async () => {
    const engine = createBatching(config('')).wrap(recordingEngine({ fail: new ServingError(Code.INTERNAL, 'boom') }));
    const errors = await Promise.all([rejection(run(engine, [1])), rejection(run(engine, [2]))]);
    assert.deepEqual(errors.map((e) => e.message), ['boom', 'boom']);
  });

  it('rejects outputs that cannot be split, as TF does', async () => {
    const engine = createBatching(config('')).wrap(recordingEngine({ scalarOutput: true }));
    const error = await rejection(run(engine, [1]));
    assert.equal(error.code, Code.FAILED_PRECONDITION);
    assert.equal(error.message, 'Batched output tensor has 0 dimensions');
  });

  it('lets queued requests finish on dispose, then refuses new ones', async () => {
    const inner = recordingEngine();
    const engine = createBatching(config('max_batch_size { value: 8 } batch_timeout_micros { value: 10000000 }')).wrap(inner);
    const pending = run(engine, [1]);
    await settle();
    assert.equal(inner.seen.length, 0, 'the batch waits for its (long) timeout');
    await engine.dispose();
    assert.deepEqual(values((await pending).get('y')), [3]);
    assert.ok(inner.disposed);
    const error = await rejection(run(engine, [2]));
    assert.equal(error.code, Code.UNAVAILABLE);
  });
});
