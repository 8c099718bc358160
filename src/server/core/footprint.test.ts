import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE_FOOTPRINTS, estimateFootprint } from './footprint.js';
import { estimateVersionBytes, savedModelFiles } from './version-loader.js';

describe('footprint estimate (core/footprint.ts)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfmodel-footprint-'));
    writeFileSync(join(dir, 'saved_model.pb'), Buffer.alloc(1000));
    mkdirSync(join(dir, 'variables'));
    writeFileSync(join(dir, 'variables', 'variables.data-00000-of-00001'), Buffer.alloc(50_000));
    writeFileSync(join(dir, 'variables', 'variables.index'), Buffer.alloc(100));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the graph and the variables apart', async () => {
    assert.deepEqual(await savedModelFiles(dir), { graphBytes: 1000, variablesBytes: 50_100 });
    assert.deepEqual(await savedModelFiles(join(dir, 'missing')), { graphBytes: 0, variablesBytes: 0 });
  });

  it('counts one copy per wasm worker and one native session', async () => {
    const wasm = ENGINE_FOOTPRINTS.wasm;
    const perWorker = wasm.constantBytes + wasm.graphFactor * 1000 + wasm.variablesFactor * 50_100;
    assert.equal(await estimateVersionBytes(dir, { runtime: 'wasm', threads: 3 }), Math.ceil(3 * perWorker));
    assert.equal(await estimateVersionBytes(dir, { runtime: 'wasm', threads: 0 }), Math.ceil(perWorker), 'in-thread: one copy');
    const native = ENGINE_FOOTPRINTS.tensorflow;
    assert.equal(estimateFootprint({ graphBytes: 1000, variablesBytes: 50_100 }, 'tensorflow', 1), Math.ceil(native.constantBytes + native.graphFactor * 1000 + native.variablesFactor * 50_100));
  });

  it('grows with the variables faster than their bytes on every engine (measured factors above 1)', () => {
    for (const engine of ['tensorflow', 'wasm', 'cpu'] as const) {
      const small = estimateFootprint({ graphBytes: 0, variablesBytes: 0 }, engine, 1);
      const large = estimateFootprint({ graphBytes: 0, variablesBytes: 100 * 2 ** 20 }, engine, 1);
      assert.ok(large - small > 100 * 2 ** 20, engine);
    }
  });
});
