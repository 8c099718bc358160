/** kubeLeaseStore through client-node's real CoordinationV1Api, against a recording server on 127.0.0.1. */
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { LeaseConflictError } from './leader-election.js';
import { kubeLeaseStore, microTimeToDate } from './lease-store.js';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

type Reply = { status: number; body: object };

describe('kubeLeaseStore (CoordinationV1Api over HTTP)', () => {
  let server: Server;
  let api: CoordinationV1Api;
  const requests: Recorded[] = [];
  let reply: (request: Recorded) => Reply;

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const recorded = { method: request.method ?? '', path: request.url ?? '', body };
        requests.push(recorded);
        const { status, body: answer } = reply(recorded);
        response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'test', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'test' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
    api = kubeConfig.makeApiClient(CoordinationV1Api);
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    requests.length = 0;
  });

  const status = (code: number, reason: string): Reply => ({ status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code } });
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'op', namespace: 'sys', resourceVersion: '41', labels: { team: 'ml' } },
    spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:00.000000Z', renewTime: '2026-01-01T00:00:05.123456Z', leaseTransitions: 2 },
  };

  it('reads a Lease, parsing the MicroTime strings client-node leaves in place', async () => {
    reply = () => ({ status: 200, body: lease });
    const record = await kubeLeaseStore(api, 'sys', 'op').get();
    assert.equal(requests[0]?.path, '/apis/coordination.k8s.io/v1/namespaces/sys/leases/op');
    assert.deepEqual(record, {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: new Date('2026-01-01T00:00:00Z'),
      renewTime: new Date('2026-01-01T00:00:05.123Z'),
      leaseTransitions: 2,
      resourceVersion: '41',
    });
  });

  it('answers undefined for a Lease that does not exist (404)', async () => {
    reply = () => status(404, 'NotFound');
    assert.equal(await kubeLeaseStore(api, 'sys', 'op').get(), undefined);
  });

  it('sends times with six fraction digits, as the apiserver requires for MicroTime', async () => {
    reply = (request) => ({ status: 201, body: { ...JSON.parse(request.body), metadata: { name: 'op', namespace: 'sys', resourceVersion: '1' } } });
    const renew = new Date('2026-01-01T00:00:05.007Z');
    const created = await kubeLeaseStore(api, 'sys', 'op').create({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: renew, renewTime: renew, leaseTransitions: 0 });
    const sent = JSON.parse(requests[0]!.body) as { spec: Record<string, unknown>; metadata: Record<string, unknown> };
    assert.equal(requests[0]?.method, 'POST');
    assert.equal(sent.spec['renewTime'], '2026-01-01T00:00:05.007000Z');
    assert.equal(sent.spec['acquireTime'], '2026-01-01T00:00:05.007000Z');
    assert.deepEqual(sent.metadata, { name: 'op', namespace: 'sys' });
    assert.equal(created.renewTime?.getTime(), renew.getTime());
    assert.equal(created.resourceVersion, '1');
  });

  it('replaces over the version read, keeping the metadata and spec fields it does not manage', async () => {
    const store = kubeLeaseStore(api, 'sys', 'op');
    reply = () => ({ status: 200, body: { ...lease, spec: { ...lease.spec, strategy: 'OldestEmulationVersion' } } });
    const current = (await store.get())!;
    reply = (request) => ({ status: 200, body: { ...JSON.parse(request.body), metadata: { ...lease.metadata, resourceVersion: '42' } } });
    const written = await store.replace({ ...current, holderIdentity: '', renewTime: new Date('2026-01-01T00:00:09Z') });
    const put = requests[1]!;
    const sent = JSON.parse(put.body) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    assert.equal(put.method, 'PUT');
    assert.equal(put.path, '/apis/coordination.k8s.io/v1/namespaces/sys/leases/op');
    assert.equal(sent.metadata['resourceVersion'], '41');
    assert.deepEqual(sent.metadata['labels'], { team: 'ml' });
    assert.equal(sent.spec['strategy'], 'OldestEmulationVersion');
    assert.equal(sent.spec['holderIdentity'], '');
    assert.equal(sent.spec['renewTime'], '2026-01-01T00:00:09.000000Z');
    assert.equal(written.resourceVersion, '42');
  });

  it('turns 409 (AlreadyExists on create, Conflict on replace) into LeaseConflictError and passes other errors on', async () => {
    const store = kubeLeaseStore(api, 'sys', 'op');
    const record = { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0, resourceVersion: '41' };
    reply = () => status(409, 'AlreadyExists');
    await assert.rejects(store.create(record), LeaseConflictError);
    reply = () => status(409, 'Conflict');
    await assert.rejects(store.replace(record), LeaseConflictError);
    reply = () => status(403, 'Forbidden');
    await assert.rejects(store.get(), (error: { code?: number }) => error.code === 403);
  });

  it('microTimeToDate takes strings, Dates and nothing', () => {
    assert.equal(microTimeToDate('2026-01-01T00:00:00.999999Z')?.toISOString(), '2026-01-01T00:00:00.999Z');
    assert.equal(microTimeToDate(new Date(5))?.getTime(), 5);
    assert.equal(microTimeToDate(undefined), undefined);
    assert.equal(microTimeToDate('not a time'), undefined);
  });
});
