/**
 * kubeInformerFactory against a scripted apiserver on 127.0.0.1: client-node's real ListWatch and
 * Watch, so these tests pin down the client-node behaviour the supervisor relies on.
 */
import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { memoryLogger } from '../../server/logging.js';
import { kubeInformerFactory } from './kube-informer.js';
import { configMaps, customResources } from './kube-resources.js';
import { SupervisedInformer } from './supervised-informer.js';

type WatchScript = (response: ServerResponse, query: URLSearchParams) => void;

class ScriptedApiserver {
  readonly lists: URLSearchParams[] = [];
  readonly watches: URLSearchParams[] = [];
  /** One script per watch request, in order; when they run out, watches stay open and silent. */
  readonly watchScripts: WatchScript[] = [];
  readonly openWatches = new Set<ServerResponse>();
  items: object[] = [];
  listResourceVersion = '10';
  private server: Server | undefined;

  async start(): Promise<KubeConfig> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'test', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'test' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
    return kubeConfig;
  }

  async close(): Promise<void> {
    for (const response of this.openWatches) response.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.searchParams.get('watch') === 'true') {
      this.watches.push(url.searchParams);
      this.openWatches.add(response);
      response.on('close', () => this.openWatches.delete(response));
      const script = this.watchScripts.shift();
      if (script) script(response, url.searchParams);
      else response.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      return;
    }
    this.lists.push(url.searchParams);
    const kind = url.pathname.endsWith('/configmaps') ? 'ConfigMapList' : 'TFModelList';
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ kind, apiVersion: 'v1', metadata: { resourceVersion: this.listResourceVersion }, items: this.items }));
  }
}

function events(response: ServerResponse, ...lines: object[]): void {
  if (!response.headersSent) response.writeHead(200, { 'Content-Type': 'application/json' });
  for (const line of lines) response.write(`${JSON.stringify(line)}\n`);
}

function rawConfigMap(name: string, resourceVersion: string): object {
  // What the apiserver sends for list items: no apiVersion/kind, string timestamps.
  return { metadata: { name, namespace: 'ns', resourceVersion, creationTimestamp: '2026-01-01T00:00:00Z' }, data: { k: name } };
}

async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

describe('kubeInformerFactory (client-node ListWatch over HTTP)', () => {
  let apiserver: ScriptedApiserver;
  let informer: SupervisedInformer<V1ConfigMap> | undefined;

  beforeEach(() => {
    apiserver = new ScriptedApiserver();
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await apiserver.close();
  });

  it('lists then watches with bookmarks and a server-side timeout; list and watch objects have the same typed shape', async () => {
    apiserver.items = [rawConfigMap('a', '5')];
    apiserver.watchScripts.push((response) =>
      events(
        response,
        { type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', ...rawConfigMap('b', '11') } },
        { type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '12' } } },
      ),
    );
    const kubeConfig = await apiserver.start();
    let activity = 0;
    const factory = kubeInformerFactory(kubeConfig, configMaps(kubeConfig, { namespace: 'ns', labelSelector: 'app=x' }), {
      watchTimeoutSeconds: () => 42,
    });
    const configMapInformer = new SupervisedInformer<V1ConfigMap>({
      resource: 'configmaps',
      factory: (handlers) => factory({ ...handlers, activity: () => (activity++, handlers.activity()) }),
    });
    informer = configMapInformer;
    await configMapInformer.start();
    await eventually(() => configMapInformer.get('ns', 'b') !== undefined, 'the watched object');
    await eventually(() => activity >= 3, 'connect, ADDED and BOOKMARK to count as activity');

    assert.equal(apiserver.lists[0]?.get('labelSelector'), 'app=x');
    const watch = apiserver.watches[0]!;
    assert.deepEqual(
      Object.fromEntries(['resourceVersion', 'labelSelector', 'allowWatchBookmarks', 'timeoutSeconds'].map((k) => [k, watch.get(k)])),
      { resourceVersion: '10', labelSelector: 'app=x', allowWatchBookmarks: 'true', timeoutSeconds: '42' },
    );
    for (const name of ['a', 'b']) {
      const object = configMapInformer.get('ns', name)!;
      assert.equal(object.kind, 'ConfigMap', `${name}: kind`);
      assert.equal(object.apiVersion, 'v1', `${name}: apiVersion`);
      assert.ok(object.metadata?.creationTimestamp instanceof Date, `${name}: creationTimestamp is a Date`);
      assert.deepEqual(object.data, { k: name });
    }
  });

  it('survives a server-side close (re-watch from the last version) and a 410 (re-list), both without a restart', async () => {
    apiserver.items = [rawConfigMap('a', '5')];
    apiserver.watchScripts.push(
      (response) => {
        events(response, { type: 'MODIFIED', object: rawConfigMap('a', '11') });
        response.end(); // the apiserver's timeoutSeconds ran out
      },
      (response) => {
        events(response, { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 } });
        response.end();
      },
    );
    const kubeConfig = await apiserver.start();
    informer = new SupervisedInformer({ resource: 'configmaps', factory: kubeInformerFactory(kubeConfig, configMaps(kubeConfig, { namespace: 'ns' })) });
    await informer.start();
    apiserver.items = [rawConfigMap('a', '20')];
    apiserver.listResourceVersion = '20';
    await eventually(() => apiserver.watches.length === 3, 'the third watch');
    assert.deepEqual(apiserver.watches.map((w) => w.get('resourceVersion')), ['10', '11', '20']);
    assert.equal(apiserver.lists.length, 2, 'one re-list, for the 410');
    assert.equal(informer.restarts, 0);
    assert.equal(informer.get('ns', 'a')?.metadata?.resourceVersion, '20');
  });

  it('restarts with a fresh list when a watch fails with another error (where ListWatch alone would stop)', async () => {
    apiserver.items = [rawConfigMap('a', '5'), rawConfigMap('b', '6')];
    let firstWatch: ServerResponse | undefined;
    apiserver.watchScripts.push(
      (response) => {
        firstWatch = response;
        response.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      },
      (response) => {
        response.writeHead(500, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ kind: 'Status', code: 500, message: 'etcd is sad' }));
      },
    );
    const kubeConfig = await apiserver.start();
    const logger = memoryLogger();
    const deleted: string[] = [];
    informer = new SupervisedInformer({
      resource: 'configmaps',
      logger,
      initialBackoffMs: 10,
      factory: kubeInformerFactory(kubeConfig, configMaps(kubeConfig, { namespace: 'ns' })),
    });
    informer.on('delete', (object) => deleted.push(object.metadata!.name!));
    await informer.start();
    apiserver.items = [rawConfigMap('a', '5')];
    firstWatch!.end(); // ListWatch re-watches, and that watch gets the 500
    await eventually(() => deleted.length > 0, 'the restarted informer to sync');
    assert.equal(informer.restarts, 1);
    assert.equal(apiserver.watches.length, 3);
    assert.equal(apiserver.lists.length, 2);
    const restart = logger.events.find((e) => e.event === 'watch_restart');
    assert.equal(restart?.['error'], 'Internal Server Error', 'client-node reports the status text, with statusCode 500');
    assert.deepEqual(deleted, ['b'], 'deleted while the watch was down');
  });

  it('stop() closes the watch and reports nothing afterwards', async () => {
    const kubeConfig = await apiserver.start();
    const logger = memoryLogger();
    informer = new SupervisedInformer({ resource: 'configmaps', logger, factory: kubeInformerFactory(kubeConfig, configMaps(kubeConfig, { namespace: 'ns' })) });
    await informer.start();
    await eventually(() => apiserver.openWatches.size === 1, 'the watch to open');
    await informer.stop();
    await eventually(() => apiserver.openWatches.size === 0, 'the watch connection to close');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(logger.events.filter((e) => e.level !== 'info'), []);
    assert.equal(informer.restarts, 0);
  });

  it('watches custom resources at their group path, raw JSON both ways', async () => {
    apiserver.items = [{ apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', metadata: { name: 'm', namespace: 'ns', resourceVersion: '3' }, spec: { basePath: '/models/m' } }];
    const kubeConfig = await apiserver.start();
    const resource = customResources(kubeConfig, { group: 'serving.tfmodel.dev', version: 'v1alpha1', plural: 'tfmodels' });
    assert.equal(resource.path, '/apis/serving.tfmodel.dev/v1alpha1/tfmodels');
    const tfmodels = new SupervisedInformer({ resource: 'tfmodels', factory: kubeInformerFactory(kubeConfig, resource) });
    try {
      await tfmodels.start();
      assert.deepEqual(tfmodels.get('ns', 'm'), apiserver.items[0]);
      await eventually(() => apiserver.watches.length === 1, 'the watch');
    } finally {
      await tfmodels.stop();
    }
    assert.equal(
      customResources(kubeConfig, { group: 'serving.tfmodel.dev', version: 'v1alpha1', plural: 'tfmodels', namespace: 'team-a' }).path,
      '/apis/serving.tfmodel.dev/v1alpha1/namespaces/team-a/tfmodels',
    );
  });
});
