import assert from 'node:assert/strict';
import { ROOT_CONTEXT, createContextKey } from '@opentelemetry/api';
import { SynchronousContextManager } from './sync-context-manager.js';

describe('SynchronousContextManager', () => {
  const key = createContextKey('k');
  it('scopes a context to the synchronous part of a call, nested, and restores it even on a throw', async () => {
    const manager = new SynchronousContextManager();
    const outer = ROOT_CONTEXT.setValue(key, 'outer');
    const seen: unknown[] = [];
    const pending = manager.with(outer, async () => {
      seen.push(manager.active().getValue(key));
      manager.with(outer.setValue(key, 'inner'), () => seen.push(manager.active().getValue(key)));
      seen.push(manager.active().getValue(key));
      await Promise.resolve();
      seen.push(manager.active().getValue(key));
    });
    seen.push(manager.active().getValue(key));
    await pending;
    assert.deepEqual(seen, ['outer', 'inner', 'outer', undefined, undefined]);
    assert.throws(() => manager.with(outer, () => {
      throw new Error('x');
    }));
    assert.equal(manager.active(), ROOT_CONTEXT);
    const bound = manager.bind(outer, () => manager.active().getValue(key));
    assert.equal(bound(), 'outer');
  });
});
