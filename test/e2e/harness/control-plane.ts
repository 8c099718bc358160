/**
 * A real Kubernetes control plane for end-to-end tests, as plain processes on 127.0.0.1 in a fresh
 * temp dir: etcd, kube-apiserver (token auth, RBAC, ServiceAccount token signing), kube-controller-
 * manager, kube-scheduler and kwok (fake nodes that run pods in name only). The test that starts it
 * stops it; stop() kills every process group it started and removes the dir.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlaneBinaries } from './binaries.js';
import { apiserverArgs, controllerManagerArgs, etcdArgs, kwokArgs, type Layout, paths, schedulerArgs } from './components.js';
import { writeKubeconfig } from './kubeconfig.js';
import { type KubectlOptions, type KubectlResult, runKubectl } from './kubectl.js';
import { createFakeNodes, type FakeNodeSpec } from './kwok-nodes.js';
import { freePorts, type HttpResponse, httpGet, ManagedProcess, poll, waitForHttp } from './processes.js';

export interface ControlPlaneOptions {
  /** From controlPlaneBinaries() (which skips or fails the suite when they cannot be had). */
  readonly binaries: ControlPlaneBinaries;
  /** Fake nodes to create, and wait Ready, before startControlPlane resolves. */
  readonly nodes?: readonly FakeNodeSpec[];
  /** Extra kube-apiserver flags, e.g. `--feature-gates=...`. */
  readonly apiserverArgs?: readonly string[];
  /** Limit for each readiness wait (etcd, apiserver, each controller). Default 90 s. */
  readonly startTimeoutMs?: number;
  /** Keep the temp dir (logs, etcd data) after stop(); default: TFMODEL_E2E_KEEP_DIR=1. */
  readonly keepDir?: boolean;
}

export interface ProcessInfo {
  readonly name: string;
  readonly pid: number;
  readonly running: boolean;
  readonly logPath: string;
}

export interface ControlPlane {
  /** The temp dir holding logs (`<component>.log`), etcd data, keys and kubeconfigs. */
  readonly dir: string;
  /** Admin kubeconfig (bearer token in group system:masters, CA-verified TLS). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** etcd's client URL, http://127.0.0.1:PORT (no TLS, loopback only). */
  readonly etcdUrl: string;
  readonly adminToken: string;
  /** PEM bundle that kube-apiserver's serving certificate chains to. */
  readonly caPem: string;
  readonly binaries: ControlPlaneBinaries;
  /** Runs the real kubectl as admin (or `kubeconfig`/`asUser`); resolves with any exit code unless `check`. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** @kubernetes/client-node config loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig authenticating with `token` (e.g. from `kubectl create token`); returns its path. */
  kubeconfigForToken(token: string, options?: { readonly namespace?: string }): string;
  /** Stops kube-apiserver and starts it again on the same port, certificate and etcd data. */
  restartApiserver(): Promise<void>;
  /** Creates fake kwok nodes and waits until kwok reports them Ready. */
  addNodes(nodes: readonly FakeNodeSpec[]): Promise<void>;
  /** Every process started so far (a restarted apiserver appears twice). */
  processes(): ProcessInfo[];
  /** Kills every process it started (process groups, SIGTERM then SIGKILL) and removes the dir. Idempotent. */
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'tfmodel-e2e-'));
  const [etcdPort, etcdPeerPort, apiserverPort, schedulerPort, kwokPort] = await freePorts(5);
  const plane = new LocalControlPlane({ dir, etcdPort: etcdPort!, etcdPeerPort: etcdPeerPort!, apiserverPort: apiserverPort!, schedulerPort: schedulerPort!, kwokPort: kwokPort! }, options);
  try {
    await plane.start();
    if (options.nodes?.length) await plane.addNodes(options.nodes);
  } catch (error) {
    await plane.stop();
    throw error;
  }
  return plane;
}

class LocalControlPlane implements ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly etcdUrl: string;
  readonly adminToken = randomBytes(24).toString('hex');
  readonly binaries: ControlPlaneBinaries;
  private ca: string | undefined;
  private readonly started: ManagedProcess[] = [];
  private readonly current = new Map<string, ManagedProcess>();
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private kubeconfigs = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly layout: Layout,
    private readonly options: ControlPlaneOptions,
  ) {
    this.dir = layout.dir;
    this.binaries = options.binaries;
    this.kubeconfigPath = paths(this.dir).adminKubeconfig;
    this.server = `https://127.0.0.1:${layout.apiserverPort}`;
    this.etcdUrl = `http://127.0.0.1:${layout.etcdPort}`;
    this.timeoutMs = options.startTimeoutMs ?? 90_000;
    // A private HOME keeps kubectl's cache, kwok's ~/.kwok and helm's config out of the user's.
    this.env = { HOME: paths(this.dir).home, KUBECACHEDIR: join(paths(this.dir).home, '.kube', 'cache') };
  }

  get caPem(): string {
    if (this.ca === undefined) throw new Error('kube-apiserver has not written its certificate yet');
    return this.ca;
  }

  async start(): Promise<void> {
    const p = paths(this.dir);
    mkdirSync(p.home);
    mkdirSync(p.certDir);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(p.serviceAccountKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    writeFileSync(p.tokens, `${this.adminToken},admin,admin,system:masters\n`, { mode: 0o600 });

    const etcd = await this.spawn('etcd', this.binaries.etcd, etcdArgs(this.layout));
    await waitForHttp(`http://127.0.0.1:${this.layout.etcdPort}/health`, { what: 'etcd /health', timeoutMs: this.timeoutMs, process: etcd });

    await this.startApiserver();
    this.ca = readFileSync(p.apiserverCert, 'utf8');
    writeKubeconfig(this.kubeconfigPath, { server: this.server, caPem: this.ca, token: this.adminToken, user: 'admin' });
    // The kubeconfig's CA must verify the serving certificate, or every client would fail later.
    await this.apiGet('/version');

    const controllerManager = await this.spawn('kube-controller-manager', this.binaries.kubeControllerManager, controllerManagerArgs(this.layout));
    const scheduler = await this.spawn('kube-scheduler', this.binaries.kubeScheduler, schedulerArgs(this.layout));
    const kwok = await this.spawn('kwok', this.binaries.kwok, kwokArgs(this.layout));
    await Promise.all([
      waitForHttp(`https://127.0.0.1:${this.layout.schedulerPort}/healthz`, { what: 'kube-scheduler /healthz', timeoutMs: this.timeoutMs, process: scheduler }),
      waitForHttp(`http://127.0.0.1:${this.layout.kwokPort}/healthz`, { what: 'kwok /healthz', timeoutMs: this.timeoutMs, process: kwok }),
      // The controller-manager serves nothing; these two objects are its work (serviceaccount and
      // root-ca-cert-publisher controllers), and pods cannot be admitted without the first.
      this.waitForObject('/api/v1/namespaces/default/serviceaccounts/default', controllerManager),
      this.waitForObject('/api/v1/namespaces/default/configmaps/kube-root-ca.crt', controllerManager),
    ]);
  }

  private async startApiserver(): Promise<void> {
    const apiserver = await this.spawn('kube-apiserver', this.binaries.kubeApiserver, apiserverArgs(this.layout, this.options.apiserverArgs));
    // Probed without verifying TLS: on first start the CA does not exist until it is serving.
    await waitForHttp(`${this.server}/readyz`, {
      what: 'kube-apiserver /readyz',
      timeoutMs: this.timeoutMs,
      process: apiserver,
      headers: { Authorization: `Bearer ${this.adminToken}` },
    });
  }

  private async spawn(name: string, binary: string, args: readonly string[]): Promise<ManagedProcess> {
    const logPath = paths(this.dir).log(name);
    appendFileSync(logPath, `=== ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
    const child = await ManagedProcess.spawn(name, binary, args, { logPath, env: this.env, cwd: this.dir });
    this.started.push(child);
    this.current.set(name, child);
    return child;
  }

  /** GET on the apiserver as admin, TLS verified with the CA. Throws unless 200. */
  private async apiGet(path: string): Promise<HttpResponse> {
    const response = await httpGet(`${this.server}${path}`, { ca: this.caPem, headers: { Authorization: `Bearer ${this.adminToken}` } });
    if (response.status !== 200) throw new Error(`GET ${path}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
    return response;
  }

  private waitForObject(path: string, by: ManagedProcess): Promise<HttpResponse> {
    return poll(() => this.apiGet(path), { what: `${path} (created by ${by.name})`, timeoutMs: this.timeoutMs, process: by });
  }

  kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
    return runKubectl({ binary: this.binaries.kubectl, kubeconfig: this.kubeconfigPath, env: this.env }, args, options);
  }

  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromFile(this.kubeconfigPath);
    return config;
  }

  kubeconfigForToken(token: string, options: { readonly namespace?: string } = {}): string {
    const path = join(this.dir, `token-${++this.kubeconfigs}.kubeconfig`);
    return writeKubeconfig(path, { server: this.server, caPem: this.caPem, token, user: `token-${this.kubeconfigs}`, namespace: options.namespace });
  }

  async restartApiserver(): Promise<void> {
    if (this.stopping) throw new Error('the control plane is stopped');
    await this.current.get('kube-apiserver')?.stop();
    await this.startApiserver();
  }

  addNodes(nodes: readonly FakeNodeSpec[]): Promise<void> {
    return createFakeNodes(this, nodes, { timeoutMs: this.timeoutMs });
  }

  processes(): ProcessInfo[] {
    return this.started.map((p) => ({ name: p.name, pid: p.pid, running: p.running, logPath: p.logPath }));
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const stopByName = (...names: string[]) => Promise.all(this.started.filter((p) => names.includes(p.name)).map((p) => p.stop()));
    // Clients first, so none of them spends its shutdown retrying against a dead apiserver.
    await stopByName('kwok', 'kube-scheduler', 'kube-controller-manager');
    await stopByName('kube-apiserver');
    await stopByName('etcd');
    await Promise.all(this.started.map((p) => p.stop())); // anything not named above
    if (!(this.options.keepDir ?? process.env['TFMODEL_E2E_KEEP_DIR'] === '1')) rmSync(this.dir, { recursive: true, force: true });
  }
}
