import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { memoryLogger } from '../../server/logging.js';
import { FakeClock, settle } from './fake-clock.js';
import { objectKey } from './keys.js';
import { type InformerHandlers, type RawInformer, type RestartReason, SupervisedInformer, type SupervisedInformerOptions } from './supervised-informer.js';

type Obj = KubernetesObject & { data?: string };

function obj(name: string, resourceVersion: string, data?: string): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name, resourceVersion }, data };
}

/** Stands in for client-node's ListWatch: lists the fake apiserver's objects, then "watches". */
class FakeInformer implements RawInformer<Obj> {
  readonly cache = new Map<string, Obj>();
  stopped = false;

  constructor(
    readonly handlers: InformerHandlers<Obj>,
    private readonly apiserver: FakeApiserver,
  ) {}

  start(): Promise<void> {
    const outcome = this.apiserver.listOutcome;
    if (outcome === 'hang') return new Promise(() => {});
    if (outcome instanceof Error) {
      // As ListWatch does: the error goes to the error callbacks and start() resolves.
      this.handlers.error(outcome);
      return Promise.resolve();
    }
    for (const object of this.apiserver.objects.values()) this.deliver('ADDED', object);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  list(): Obj[] {
    return [...this.cache.values()];
  }

  deliver(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Obj): void {
    const key = objectKey(object);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.handlers.delete(object);
    } else if (this.cache.has(key)) {
      this.cache.set(key, object);
      this.handlers.update(object);
    } else {
      this.cache.set(key, object);
      this.handlers.add(object);
    }
  }
}

/** The objects that exist, and the informers created over them (the last one is current). */
class FakeApiserver {
  readonly objects = new Map<string, Obj>();
  listOutcome: 'ok' | 'hang' | Error = 'ok';
  readonly informers: FakeInformer[] = [];

  put(object: Obj): void {
    this.objects.set(objectKey(object), object);
  }

  /** Changes an object and tells the current informer's watch. */
  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Obj): void {
    if (type === 'DELETED') this.objects.delete(objectKey(object));
    else this.put(object);
    this.current.deliver(type, object);
  }

  get current(): FakeInformer {
    return this.informers.at(-1)!;
  }
}

function setUp(options: Partial<SupervisedInformerOptions<Obj>> = {}) {
  const clock = new FakeClock();
  const apiserver = new FakeApiserver();
  const logger = memoryLogger();
  const restarts: RestartReason[] = [];
  const events: string[] = [];
  const informer = new SupervisedInformer<Obj>({
    resource: 'configmaps',
    clock,
    logger,
    random: () => 0,
    observer: { watchRestarted: (resource, reason) => (assert.equal(resource, 'configmaps'), restarts.push(reason)) },
    factory: (handlers) => {
      const fake = new FakeInformer(handlers, apiserver);
      apiserver.informers.push(fake);
      return fake;
    },
    ...options,
  });
  for (const event of ['add', 'update', 'delete'] as const) {
    informer.on(event, (object) => events.push(`${event} ${object.metadata?.name}@${object.metadata?.resourceVersion}`));
  }
  return { clock, apiserver, logger, restarts, events, informer };
}

/** Advances until a new underlying informer exists; returns how long that took. */
async function timeToNextInformer(clock: FakeClock, apiserver: FakeApiserver, stepMs = 100): Promise<number> {
  const before = apiserver.informers.length;
  let waited = 0;
  while (apiserver.informers.length === before) {
    await clock.advance(stepMs);
    waited += stepMs;
    assert.ok(waited < 3_600_000, 'no restart within an hour');
  }
  return waited;
}

describe('SupervisedInformer', () => {
  it('syncs, serves list() and get(), and passes watch events on with deduplicated updates', async () => {
    const { apiserver, informer, events } = setUp();
    apiserver.put(obj('a', '1'));
    apiserver.put(obj('b', '2'));
    assert.equal(informer.hasSynced(), false);
    await informer.start();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(informer.list().map((o) => o.metadata?.name).sort(), ['a', 'b']);
    assert.equal(informer.get('ns', 'a')?.metadata?.resourceVersion, '1');
    assert.equal(informer.get('other', 'a'), undefined);
    apiserver.change('MODIFIED', obj('a', '3', 'x'));
    apiserver.change('MODIFIED', obj('a', '3', 'x')); // same resourceVersion: no event
    apiserver.change('ADDED', obj('c', '4'));
    apiserver.change('DELETED', obj('b', '2'));
    assert.deepEqual(events, ['add a@1', 'add b@2', 'update a@3', 'add c@4', 'delete b@2']);
    assert.equal(informer.get('ns', 'a')?.data, 'x');
    assert.equal(informer.get('ns', 'b'), undefined);
    await informer.stop();
  });

  it('restarts a failed informer with a fresh list after 1 s, firing what changed meanwhile', async () => {
    const { clock, apiserver, informer, events, restarts, logger } = setUp();
    apiserver.put(obj('keep', '1'));
    apiserver.put(obj('change', '1'));
    apiserver.put(obj('gone', '1'));
    await informer.start();
    events.length = 0;
    const first = apiserver.current;
    first.handlers.error(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
    assert.equal(first.stopped, true);
    assert.deepEqual(restarts, ['error']);
    assert.equal(logger.events.find((e) => e.event === 'watch_restart')?.['error'], 'Internal Server Error');
    // While it waits: the objects change, and the dead informer's late events are ignored.
    apiserver.objects.delete('ns/gone');
    apiserver.put(obj('change', '2'));
    apiserver.put(obj('new', '1'));
    first.deliver('ADDED', obj('ghost', '1'));
    assert.equal(await timeToNextInformer(clock, apiserver), 1000);
    assert.deepEqual(events.sort(), ['add new@1', 'delete gone@1', 'update change@2']);
    assert.deepEqual(informer.list().map((o) => o.metadata?.name).sort(), ['change', 'keep', 'new']);
    assert.equal(informer.restarts, 1);
    await informer.stop();
  });

  it('backs off exponentially (1 s doubling, capped at 30 s, with jitter) while restarts keep failing', async () => {
    const { clock, apiserver, informer } = setUp({ random: () => 0.5 });
    apiserver.listOutcome = new Error('connect ECONNREFUSED');
    let synced = false;
    void informer.start().then(() => (synced = true));
    await settle();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) waits.push(await timeToNextInformer(clock, apiserver, 125));
    // 1, 2, 4, 8, 16, 30, 30 s, each stretched by 12.5% (jitter 0.25 * random 0.5).
    assert.deepEqual(waits, [1125, 2250, 4500, 9000, 18000, 33750, 33750]);
    assert.equal(synced, false, 'start() waits for a successful list');
    assert.equal(informer.hasSynced(), false);
    assert.equal(informer.restarts, 8);
    apiserver.listOutcome = 'ok';
    apiserver.put(obj('a', '1'));
    await timeToNextInformer(clock, apiserver, 125);
    assert.equal(synced, true);
    await informer.stop();
  });

  it('starts the backoff over once an informer has run well for 30 s', async () => {
    const { clock, apiserver, informer } = setUp();
    await informer.start();
    apiserver.current.handlers.error(new Error('boom'));
    assert.equal(await timeToNextInformer(clock, apiserver), 1000);
    apiserver.current.handlers.error(new Error('boom'));
    assert.equal(await timeToNextInformer(clock, apiserver), 2000, 'failed again at once: longer wait');
    await clock.advance(30_000);
    apiserver.current.handlers.error(new Error('boom'));
    assert.equal(await timeToNextInformer(clock, apiserver), 1000);
    await informer.stop();
  });

  it('restarts a watch that went silent, but not one that receives bookmarks', async () => {
    const { clock, apiserver, informer, restarts } = setUp({ watchdogMs: 60_000, resyncMs: 0 });
    await informer.start();
    for (let i = 0; i < 5; i++) {
      await clock.advance(50_000);
      apiserver.current.handlers.activity(); // a bookmark
    }
    assert.equal(apiserver.informers.length, 1);
    await clock.advance(50_000);
    apiserver.change('MODIFIED', obj('a', '7')); // an event counts too
    await clock.advance(59_999);
    assert.equal(apiserver.informers.length, 1);
    await clock.advance(1);
    assert.equal(apiserver.informers.length, 2, 'restarted at once after 60 s of silence');
    assert.equal(apiserver.informers[0]!.stopped, true);
    assert.deepEqual(restarts, ['watchdog']);
    await informer.stop();
  });

  it('catches a list that never returns with the watchdog', async () => {
    const { clock, apiserver, informer, restarts } = setUp({ watchdogMs: 60_000 });
    apiserver.listOutcome = 'hang';
    let synced = false;
    void informer.start().then(() => (synced = true));
    await clock.advance(60_000);
    assert.deepEqual(restarts, ['watchdog']);
    apiserver.listOutcome = 'ok';
    await clock.advance(60_000);
    assert.equal(synced, true);
    assert.equal(apiserver.informers.length, 3);
    await informer.stop();
  });

  it('re-lists every resyncMs and fires an update for every object, without counting a restart', async () => {
    const { clock, apiserver, informer, events, restarts } = setUp({ resyncMs: 600_000, watchdogMs: 3_600_000 });
    apiserver.put(obj('a', '1'));
    apiserver.put(obj('b', '1'));
    await informer.start();
    events.length = 0;
    apiserver.objects.delete('ns/b'); // a delete the watch missed
    await clock.advance(599_999);
    assert.equal(apiserver.informers.length, 1);
    await clock.advance(1);
    assert.equal(apiserver.informers.length, 2);
    assert.deepEqual(events, ['delete b@1', 'update a@1']);
    await clock.advance(600_000);
    assert.deepEqual(events, ['delete b@1', 'update a@1', 'update a@1'], 'and again ten minutes later');
    assert.deepEqual(restarts, []);
    await informer.stop();
  });

  it('stop() stops the informer, cancels pending restarts and releases start()', async () => {
    const { clock, apiserver, informer } = setUp();
    apiserver.listOutcome = new Error('forbidden');
    const starting = informer.start();
    await settle();
    await informer.stop();
    await starting;
    assert.equal(apiserver.current.stopped, true);
    await clock.advance(3_600_000);
    assert.equal(apiserver.informers.length, 1, 'no restart after stop');
    assert.equal(clock.pendingTimers, 0);
  });

  it('logs a handler that throws and keeps delivering to the others', async () => {
    const { apiserver, informer, events, logger } = setUp();
    informer.on('add', () => {
      throw new Error('handler bug');
    });
    apiserver.put(obj('a', '1'));
    await informer.start();
    apiserver.change('ADDED', obj('b', '1'));
    assert.deepEqual(events, ['add a@1', 'add b@1']);
    assert.deepEqual(
      logger.events.filter((e) => e.event === 'informer_handler_failed').map((e) => e['key']),
      ['ns/a', 'ns/b'],
    );
    await informer.stop();
  });
});
