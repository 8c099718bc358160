/**
 * Command lines of the control plane's components: the minimal flags controller-runtime's envtest
 * uses, plus what a controller-manager, a scheduler and kwok need. Everything listens on
 * 127.0.0.1 only.
 */
import { join } from 'node:path';

/** Files and ports one control plane uses; all paths are inside its temp dir. */
export interface Layout {
  readonly dir: string;
  readonly etcdPort: number;
  readonly etcdPeerPort: number;
  readonly apiserverPort: number;
  readonly schedulerPort: number;
  readonly kwokPort: number;
}

export const paths = (dir: string) => ({
  etcdData: join(dir, 'etcd'),
  certDir: join(dir, 'pki'),
  /** kube-apiserver writes its self-signed serving cert (and CA) here on first start. */
  apiserverCert: join(dir, 'pki', 'apiserver.crt'),
  serviceAccountKey: join(dir, 'sa.key'),
  tokens: join(dir, 'tokens.csv'),
  adminKubeconfig: join(dir, 'admin.kubeconfig'),
  home: join(dir, 'home'),
  log: (name: string) => join(dir, `${name}.log`),
});

export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
/** Pod IPs kwok hands out (nothing listens on them). */
export const POD_CIDR = '10.1.0.0/16';

export function etcdArgs(layout: Layout): string[] {
  const client = `http://127.0.0.1:${layout.etcdPort}`;
  const peer = `http://127.0.0.1:${layout.etcdPeerPort}`;
  return [
    `--data-dir=${paths(layout.dir).etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Tests do not need durability; fsync on every write is most of etcd's latency.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiserverArgs(layout: Layout, extra: readonly string[] = []): string[] {
  const p = paths(layout.dir);
  return [
    `--etcd-servers=http://127.0.0.1:${layout.etcdPort}`,
    `--cert-dir=${p.certDir}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${layout.apiserverPort}`,
    '--advertise-address=127.0.0.1',
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    // One RSA key signs and verifies ServiceAccount tokens (`kubectl create token`).
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${p.serviceAccountKey}`,
    `--service-account-signing-key-file=${p.serviceAccountKey}`,
    `--token-auth-file=${p.tokens}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--profiling=false',
    // The `kubernetes` Service cannot point at a loopback address (the reconciler logs an error
    // every 10 s); nothing here reaches the apiserver through it.
    '--endpoint-reconciler-type=none',
    ...extra,
  ];
}

export function controllerManagerArgs(layout: Layout): string[] {
  const p = paths(layout.dir);
  return [
    `--kubeconfig=${p.adminKubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=0', // no serving endpoint needed: readiness is judged by its effects
    `--service-account-private-key-file=${p.serviceAccountKey}`,
    // Published to every namespace as the kube-root-ca.crt ConfigMap.
    `--root-ca-file=${p.apiserverCert}`,
    // kwok's node heartbeats could lapse for longer than the default 50 s here (with etcd 3.4,
    // which lacks RequestWatchProgress, kwok's watch-list requests failed and it re-listed; and on
    // a loaded 2-core machine they still can), and the node
    // lifecycle controller would then mark every pod on the node NotReady for good: kwok does not
    // set pod conditions again. Tests do not exercise node failure, so give heartbeats an hour.
    '--node-monitor-grace-period=1h',
  ];
}

export function schedulerArgs(layout: Layout): string[] {
  return [
    `--kubeconfig=${paths(layout.dir).adminKubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${layout.schedulerPort}`,
  ];
}

/** The annotation that puts a Node under this kwok's management (kwok-nodes.ts sets it). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';

export function kwokArgs(layout: Layout): string[] {
  return [
    `--kubeconfig=${paths(layout.dir).adminKubeconfig}`,
    // Only nodes created by the tests, never anything else that might register.
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
    `--cidr=${POD_CIDR}`,
    '--node-ip=127.0.0.1',
    `--server-address=127.0.0.1:${layout.kwokPort}`,
  ];
}
