/** tfmodel-operator's command line (documented in src/operator/README.md and by --help). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface OperatorFlags {
  readonly kubeconfig?: string;
  /** Undefined: every namespace. */
  readonly namespace?: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  /** client-go's LeaseDuration, RenewDeadline and RetryPeriod (kube-controller-manager's flags). */
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly serverImage: string;
  readonly serverGpuImage: string;
  readonly workers: number;
  readonly podAddressMap?: string;
  /** Seconds a label waits for a version no pod reports before PromotionBlocked. */
  readonly versionNotFoundGraceSeconds: number;
  /** Serving pods require a per-TFModel admin token for model management (issue 7 item 8). */
  readonly adminToken: boolean;
  /** The Secret holding the key the tokens derive from, in leaderElectionNamespace (the operator's own). */
  readonly adminKeySecret: string;
}

export type OperatorCommand = { readonly kind: 'run'; readonly flags: OperatorFlags } | { readonly kind: 'help' | 'version' };

export class OperatorUsageError extends Error {
  override readonly name = 'OperatorUsageError';
}

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function operatorVersion(): string {
  return VERSION;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'http-address': { type: 'string' },
  'leader-elect': { type: 'string' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'server-image': { type: 'string' },
  'server-gpu-image': { type: 'string' },
  workers: { type: 'string' },
  'pod-address-map': { type: 'string' },
  'version-not-found-grace-seconds': { type: 'string' },
  'admin-token': { type: 'string' },
  'admin-key-secret': { type: 'string' },
  help: { type: 'boolean' },
  version: { type: 'boolean' },
} as const;

export function usage(): string {
  return `Usage: tfmodel-operator [flags]

Reconciles TFModel resources (serving.tfmodel.dev/v1alpha1) into tfmodel-server Deployments.

  --kubeconfig=PATH                  cluster credentials (default: in-cluster, else $KUBECONFIG, else ~/.kube/config)
  --namespace=NS                     watch only this namespace (default: all namespaces)
  --http-address=HOST:PORT           /metrics, /healthz, /readyz (default 0.0.0.0:8080)
  --leader-elect=true|false          Lease-based leader election (default true)
  --leader-election-namespace=NS     where the Lease lives (default: $POD_NAMESPACE, else default)
  --leader-election-id=NAME          the Lease's name (default tfmodel-operator)
  --leader-elect-lease-duration=D    how long a standby waits before taking over an unrenewed Lease (default 15s)
  --leader-elect-renew-deadline=D    how long the leader retries renewing before it gives up and exits (default 10s)
  --leader-elect-retry-period=D      between attempts to acquire or renew (default 2s)
  --server-image=IMAGE               CPU serving image (default ghcr.io/tfmodel/tfmodel-server:${VERSION})
  --server-gpu-image=IMAGE           GPU serving image (default ghcr.io/tfmodel/tfmodel-server-gpu:${VERSION})
  --workers=N                        concurrent reconciles, never two for one TFModel (default 4)
  --pod-address-map=FILE             tests/local development: JSON {"ns/pod": {"host","restPort","grpcPort"}}
  --version-not-found-grace-seconds=N  wait before a label to a version no pod reports is blocked (default 60)
  --admin-token=true|false           serving pods run with --admin_token_file (a token per TFModel, in a Secret
                                     the operator creates) so only the operator may reload them (default true)
  --admin-key-secret=NAME            the Secret (in the --leader-election-namespace) holding the key the tokens
                                     derive from; created when absent (default tfmodel-operator-admin-key)
  --version, --help
`;
}

export function parseOperatorFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): OperatorCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new OperatorUsageError((error as Error).message);
  }
  if (values['help']) return { kind: 'help' };
  if (values['version']) return { kind: 'version' };
  const text = (name: keyof typeof OPTIONS): string | undefined => {
    const value = values[name];
    if (value === '') throw new OperatorUsageError(`--${name} must not be empty`);
    return value as string | undefined;
  };
  const [httpHost, httpPort] = hostPort(text('http-address') ?? '0.0.0.0:8080');
  return {
    kind: 'run',
    flags: {
      ...(text('kubeconfig') ? { kubeconfig: text('kubeconfig')! } : {}),
      ...(text('namespace') ? { namespace: text('namespace')! } : {}),
      httpHost,
      httpPort,
      leaderElect: bool('leader-elect', text('leader-elect') ?? 'true'),
      leaderElectionNamespace: text('leader-election-namespace') ?? env['POD_NAMESPACE'] ?? 'default',
      leaderElectionId: text('leader-election-id') ?? 'tfmodel-operator',
      leaseDurationMs: duration('leader-elect-lease-duration', text('leader-elect-lease-duration') ?? '15s'),
      renewDeadlineMs: duration('leader-elect-renew-deadline', text('leader-elect-renew-deadline') ?? '10s'),
      retryPeriodMs: duration('leader-elect-retry-period', text('leader-elect-retry-period') ?? '2s'),
      serverImage: text('server-image') ?? `ghcr.io/tfmodel/tfmodel-server:${VERSION}`,
      serverGpuImage: text('server-gpu-image') ?? `ghcr.io/tfmodel/tfmodel-server-gpu:${VERSION}`,
      workers: integer('workers', text('workers') ?? '4', 1),
      ...(text('pod-address-map') ? { podAddressMap: text('pod-address-map')! } : {}),
      versionNotFoundGraceSeconds: integer('version-not-found-grace-seconds', text('version-not-found-grace-seconds') ?? '60', 0),
      adminToken: bool('admin-token', text('admin-token') ?? 'true'),
      adminKeySecret: text('admin-key-secret') ?? 'tfmodel-operator-admin-key',
    },
  };
}

function hostPort(value: string): [string, number] {
  const colon = value.lastIndexOf(':');
  if (colon < 0) throw new OperatorUsageError(`--http-address=${value}: expected HOST:PORT`);
  return [value.slice(0, colon) || '0.0.0.0', integer('http-address', value.slice(colon + 1), 0)];
}

function integer(name: string, value: string, min: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min) throw new OperatorUsageError(`--${name}=${value}: expected an integer >= ${min}`);
  return parsed;
}

/** A Go duration as kube-controller-manager takes them: 15s, 500ms, 1m30s. */
function duration(name: string, value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new OperatorUsageError(`--${name}=${value}: expected a duration such as 15s or 500ms`);
  }
  const ms = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * units[unit!]!, 0);
  if (ms <= 0) throw new OperatorUsageError(`--${name}=${value}: must be positive`);
  return ms;
}

function bool(name: string, value: string): boolean {
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new OperatorUsageError(`--${name}=${value}: expected true or false`);
}
