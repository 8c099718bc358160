/** Kubeconfig files for the test control plane: one cluster, one bearer-token user. */
import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';

export interface KubeconfigSpec {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** PEM bundle the server certificate chains to (kube-apiserver's self-signed cert-dir pair). */
  readonly caPem: string;
  readonly token: string;
  /** Names the user and context entries; informational only (the token decides who you are). */
  readonly user: string;
  readonly namespace?: string;
}

export function kubeconfigYaml(spec: KubeconfigSpec): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: spec.server, 'certificate-authority-data': Buffer.from(spec.caPem).toString('base64') } }],
    users: [{ name: spec.user, user: { token: spec.token } }],
    contexts: [{ name: spec.user, context: { cluster: 'e2e', user: spec.user, ...(spec.namespace ? { namespace: spec.namespace } : {}) } }],
    'current-context': spec.user,
  });
}

/** Writes the file owner-readable only: it holds a credential. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): string {
  writeFileSync(path, kubeconfigYaml(spec), { mode: 0o600 });
  return path;
}
