import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from './pooled-kube-config.js';

describe('PooledKubeConfig', function () {
  this.timeout(30_000);
  let dir: string;
  let server: Server;
  let tlsConnections = 0;
  let kubeconfigYaml: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tfmodel-pooled-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (request, response) => {
      const ok = request.headers.authorization === 'Bearer t0ken';
      response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      response.end(JSON.stringify(ok ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } } : { kind: 'Status', code: 401 }));
    });
    server.on('secureConnection', () => tlsConnections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfigYaml = JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': cert.toString('base64') } }],
      users: [{ name: 'u', user: { token: 't0ken' } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    });
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  async function connectionsFor(kc: KubeConfig, requests: number): Promise<number> {
    const before = tlsConnections;
    const api = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < requests; i++) assert.equal((await api.readNamespacedConfigMap({ name: 'x', namespace: 'default' })).metadata?.name, 'x');
    return tlsConnections - before;
  }

  it('reuses one verified keep-alive connection for sequential API calls', async () => {
    const pooled = new PooledKubeConfig();
    pooled.loadFromString(kubeconfigYaml);
    assert.equal(await connectionsFor(pooled, 5), 1);
    pooled.destroyAgents();
  });

  it('is needed: client-node alone opens a TLS connection per call', async () => {
    const plain = new KubeConfig();
    plain.loadFromString(kubeconfigYaml);
    // If this starts failing, client-node pools connections itself and PooledKubeConfig can go.
    assert.equal(await connectionsFor(plain, 5), 5);
  });

  it('still verifies the server: a wrong CA fails', async () => {
    const other = JSON.parse(kubeconfigYaml) as { clusters: Array<{ cluster: Record<string, string> }> };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other', '-keyout', join(dir, 'k2.pem'), '-out', join(dir, 'c2.pem')], { stdio: 'ignore' });
    other.clusters[0]!.cluster['certificate-authority-data'] = readFileSync(join(dir, 'c2.pem')).toString('base64');
    const pooled = new PooledKubeConfig();
    pooled.loadFromString(JSON.stringify(other));
    await assert.rejects(pooled.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'x', namespace: 'default' }), /certificate|self.signed|unable to verify/i);
    pooled.destroyAgents();
  });
});
