import assert from 'node:assert/strict';
import { OperatorUsageError, parseOperatorFlags } from './flags.js';

describe('operator flags', () => {
  it('has defaults for a cluster deployment', () => {
    const command = parseOperatorFlags([], { POD_NAMESPACE: 'tfmodel-system' });
    assert.equal(command.kind, 'run');
    if (command.kind !== 'run') return;
    assert.equal(command.flags.namespace, undefined, 'all namespaces');
    assert.equal(command.flags.httpHost, '0.0.0.0');
    assert.equal(command.flags.httpPort, 8080);
    assert.equal(command.flags.leaderElect, true);
    assert.equal(command.flags.leaderElectionNamespace, 'tfmodel-system');
    assert.equal(command.flags.workers, 4);
    assert.equal(command.flags.adminToken, true, 'model management on the pods is protected unless switched off');
    assert.equal(command.flags.adminKeySecret, 'tfmodel-operator-admin-key');
    assert.match(command.flags.serverImage, /tfmodel-server:\d+\.\d+\.\d+$/);
  });

  it('reads every flag', () => {
    const command = parseOperatorFlags([
      '--kubeconfig=/k', '--namespace=ml', '--http-address=127.0.0.1:0', '--leader-elect=false', '--leader-election-namespace=ops',
      '--leader-election-id=x', '--server-image=a', '--server-gpu-image=b', '--workers=8', '--pod-address-map=/m.json', '--version-not-found-grace-seconds=5',
      '--admin-token=false', '--admin-key-secret=k', '--leader-elect-lease-duration=1m30s', '--leader-elect-renew-deadline=45s', '--leader-elect-retry-period=500ms',
    ]);
    assert.deepEqual(command, {
      kind: 'run',
      flags: {
        kubeconfig: '/k', namespace: 'ml', httpHost: '127.0.0.1', httpPort: 0, leaderElect: false, leaderElectionNamespace: 'ops', leaderElectionId: 'x',
        leaseDurationMs: 90_000, renewDeadlineMs: 45_000, retryPeriodMs: 500,
        serverImage: 'a', serverGpuImage: 'b', workers: 8, podAddressMap: '/m.json', versionNotFoundGraceSeconds: 5, adminToken: false, adminKeySecret: 'k',
      },
    });
  });

  it('refuses unknown flags and bad values with a message naming them', () => {
    assert.throws(() => parseOperatorFlags(['--no-such=1']), (e: Error) => e instanceof OperatorUsageError && /no-such/.test(e.message));
    assert.throws(() => parseOperatorFlags(['--workers=0']), /--workers=0: expected an integer >= 1/);
    assert.throws(() => parseOperatorFlags(['--leader-elect=maybe']), /expected true or false/);
    assert.throws(() => parseOperatorFlags(['--leader-elect-lease-duration=15']), /expected a duration/);
    assert.throws(() => parseOperatorFlags(['--leader-elect-renew-deadline=0s']), /must be positive/);
    assert.throws(() => parseOperatorFlags(['--http-address=8080']), /expected HOST:PORT/);
    assert.throws(() => parseOperatorFlags(['--namespace=']), /must not be empty/);
  });
});
