import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { Code, ServingError } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { HALF_PLUS_TWO } from '../../../../test/support/test-models.js';
import { WorkerPoolEngine } from './worker-pool.js';

const request = { signature: 'serving_default', inputs: new Map([['x', { dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.from([2]) }]]) };
const threadsOf = (pool: WorkerPoolEngine): Worker[] => (pool as unknown as { workers: Array<{ worker: Worker }> }).workers.map((w) => w.worker);

describe('WorkerPoolEngine', () => {
  it('spreads concurrent requests over its workers', async () => {
    const pool = await WorkerPoolEngine.load(HALF_PLUS_TWO, { backend: 'wasm', threads: 2 });
    try {
      assert.equal(pool.size, 2);
      const results = await Promise.all(Array.from({ length: 20 }, () => pool.run(request)));
      assert.ok(results.every((r) => (r.get('y')!.data as Float32Array)[0] === 3));
    } finally {
      await pool.dispose();
    }
  });

  it('fails in-flight requests UNAVAILABLE when a worker dies, then replaces it', async () => {
    const pool = await WorkerPoolEngine.load(HALF_PLUS_TWO, { backend: 'wasm', threads: 1 });
    try {
      const inFlight = pool.run(request);
      await threadsOf(pool)[0]!.terminate();
      await assert.rejects(inFlight, (e) => e instanceof ServingError && e.code === Code.UNAVAILABLE);
      for (let i = 0; i < 100 && pool.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(pool.size, 1, 'a replacement worker started');
      assert.equal(((await pool.run(request)).get('y')!.data as Float32Array)[0], 3);
    } finally {
      await pool.dispose();
    }
  });

  it('reports a model that fails to load in a worker as the model error', async () => {
    await assert.rejects(WorkerPoolEngine.load(join(HALF_PLUS_TWO, 'nope'), { backend: 'wasm', threads: 2 }), (e) => e instanceof ServingError && e.code === Code.NOT_FOUND);
  });
});
