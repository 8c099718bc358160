/**
 * Unloading a native version trims the allocator: SessionEngine.dispose closes the session, then
 * (once TensorFlow has freed it) asks the addon for malloc_trim, unless TFMODEL_TRIM_MEMORY=0. A
 * fake addon records the calls (the real trim is exercised in test/runtime/native-session-close).
 */
import assert from 'node:assert/strict';
import { HALF_PLUS_TWO } from '../../../../test/support/test-models.js';
import { inspectForSession } from './session-inspection.js';
import { SessionEngine } from './session-engine.js';
import { trimAllocator, trimsAfterClose } from './memory-trim.js';
import type { AddonSession, TfAddon } from './tf-addon.js';

function fakeAddon(calls: string[], trim: TfAddon['trimMemory'] | 'absent' = async () => true): TfAddon {
  const addon: TfAddon = {
    abiVersion: 0,
    tensorflowVersion: () => 'fake',
    loadSession: async () => ({}) as AddonSession,
    run: async () => [],
    restoreVariables: async () => undefined,
    closeSession: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      calls.push('closeSession');
    },
    sessionOptionsView: () => new Uint8Array(),
  };
  if (trim === 'absent') return addon;
  return { ...addon, trimMemory: async () => { calls.push('trimMemory'); return trim!(); } };
}

async function engineWith(addon: TfAddon, trimAfterClose?: boolean): Promise<SessionEngine> {
  const inspection = await inspectForSession(HALF_PLUS_TWO, ['serve']);
  return SessionEngine.load(HALF_PLUS_TWO, { addon, inspection, ...(trimAfterClose === undefined ? {} : { trimAfterClose }) });
}

describe('native memory trim after unload', () => {
  it('dispose trims once, after the session is closed; disposing again does neither', async () => {
    const calls: string[] = [];
    const engine = await engineWith(fakeAddon(calls), true);
    await engine.dispose();
    assert.deepEqual(calls, ['closeSession', 'trimMemory']);
    await engine.dispose();
    assert.deepEqual(calls, ['closeSession', 'trimMemory']);
  });

  it('does not trim when turned off', async () => {
    const calls: string[] = [];
    const engine = await engineWith(fakeAddon(calls), false);
    await engine.dispose();
    assert.deepEqual(calls, ['closeSession']);
  });

  it('a failed trim or an addon without trimMemory still unloads cleanly', async () => {
    const failing: string[] = [];
    await (await engineWith(fakeAddon(failing, async () => { throw new Error('boom'); }), true)).dispose();
    assert.deepEqual(failing, ['closeSession', 'trimMemory']);
    const old: string[] = [];
    await (await engineWith(fakeAddon(old, 'absent'), true)).dispose();
    assert.deepEqual(old, ['closeSession']);
    assert.equal(await trimAllocator({}), false);
  });

  it('is on by default; TFMODEL_TRIM_MEMORY=0 turns it off', () => {
    assert.equal(trimsAfterClose({}), true);
    assert.equal(trimsAfterClose({ TFMODEL_TRIM_MEMORY: '1' }), true);
    assert.equal(trimsAfterClose({ TFMODEL_TRIM_MEMORY: '0' }), false);
  });
});
