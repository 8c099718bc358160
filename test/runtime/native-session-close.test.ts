/**
 * Closing a native session (tfmodel's addon): TensorFlow frees the session and its graph on a
 * background thread, after the last run in flight, and closeSession's promise resolves then; runs in
 * flight still answer right, later runs fail FAILED_PRECONDITION. trimMemory hands free heap pages
 * back (malloc_trim).
 */
import assert from 'node:assert/strict';
import { Code, ServingError } from '../../src/server/errors.js';
import { loadAddon } from '../../src/server/runtime/native/tf-addon.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { describeWithNativeEngine } from '../support/runtimes.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';

const FEED = (values: number[]) => ({ name: 'x:0', dtype: DataType.DT_FLOAT, shape: [values.length], data: Float32Array.from(values) });

describeWithNativeEngine('native session close (off the event loop)', function () {
  this.timeout(120_000);

  it('resolves once freed; runs in flight answer right; runs after it fail FAILED_PRECONDITION', async () => {
    const addon = loadAddon();
    const session = await addon.loadSession(HALF_PLUS_TWO, ['serve'], null);
    const inFlight = Array.from({ length: 8 }, (_, i) => addon.run(session, [FEED([i, 2 * i])], ['y:0'], []));
    const closed = addon.closeSession(session);
    assert.ok(closed instanceof Promise, 'closeSession returns a promise');
    const outputs = await Promise.all(inFlight);
    outputs.forEach((out, i) => assert.deepEqual(Array.from(new Float32Array(out[0]!.data as ArrayBuffer)), [0.5 * i + 2, i + 2]));
    assert.equal(await closed, undefined);
    assert.throws(() => addon.run(session, [FEED([1])], ['y:0'], []), (e: unknown) => (e as { code?: number }).code === Code.FAILED_PRECONDITION);
    assert.equal(await addon.closeSession(session), undefined, 'closing again resolves');
  });

  it('frees many sessions without holding the caller (every close resolves)', async () => {
    const addon = loadAddon();
    const sessions = await Promise.all(Array.from({ length: 6 }, () => addon.loadSession(HALF_PLUS_TWO, ['serve'], null)));
    await Promise.all(sessions.map((s) => addon.closeSession(s)));
    for (const s of sessions) {
      await assert.rejects(async () => addon.run(s, [FEED([1])], ['y:0'], []), (e: unknown) => !(e instanceof ServingError) && (e as { code?: number }).code === Code.FAILED_PRECONDITION);
    }
  });

  it('trims the allocator in the background (malloc_trim)', async () => {
    const addon = loadAddon();
    assert.equal(typeof addon.trimMemory, 'function', 'this addon build has trimMemory; rebuild it with `npm run native:install`');
    assert.equal(typeof (await addon.trimMemory!()), 'boolean');
  });
});
