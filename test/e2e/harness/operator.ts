/**
 * The operator and its serving pods in end-to-end tests.
 *
 * startOperatorProcess runs the real tfmodel-operator binary (dist/src/operator/main.js) against
 * the control plane. Pods on kwok nodes run in name only, so ServingPods plays the kubelet for the
 * serving pods of one TFModel: for every Running pod it starts a real tfmodel-server on loopback,
 * keeps the pod's model.config file in step with the ConfigMap (as a ConfigMap volume would), and
 * maps "namespace/pod" to the server's ports in the file the operator reads (--pod-address-map).
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/corpus.js';
import type { ControlPlane } from './control-plane.js';
import { freePorts, ManagedProcess, waitForHttp } from './processes.js';

export const OPERATOR_MAIN = join(REPO_ROOT, 'dist', 'src', 'operator', 'main.js');
export const SERVER_MAIN = join(REPO_ROOT, 'dist', 'src', 'server', 'main.js');

export interface OperatorProcess {
  readonly process: ManagedProcess;
  /** http://127.0.0.1:PORT, serving /metrics, /healthz and /readyz. */
  readonly url: string;
}

export interface OperatorProcessOptions {
  /** Where the log goes (appended). */
  readonly logPath: string;
  readonly kubeconfig: string;
  readonly podAddressMap?: string;
  /** Extra flags, e.g. --version-not-found-grace-seconds=5. */
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Wait for /readyz (default true). */
  readonly waitReady?: boolean;
}

export async function startOperatorProcess(options: OperatorProcessOptions): Promise<OperatorProcess> {
  const [port] = await freePorts(1);
  const args = [
    OPERATOR_MAIN,
    `--kubeconfig=${options.kubeconfig}`,
    `--http-address=127.0.0.1:${port}`,
    '--leader-election-namespace=default',
    ...(options.podAddressMap ? [`--pod-address-map=${options.podAddressMap}`] : []),
    ...(options.args ?? []),
  ];
  const process = await ManagedProcess.spawn('tfmodel-operator', globalThis.process.execPath, args, { logPath: options.logPath, env: options.env });
  const url = `http://127.0.0.1:${port}`;
  if (options.waitReady ?? true) await waitForHttp(`${url}/readyz`, { what: 'tfmodel-operator /readyz', timeoutMs: 60_000, process });
  return { process, url };
}

export interface ServingPod {
  readonly name: string;
  readonly uid: string;
  readonly server: ManagedProcess;
  readonly restPort: number;
  readonly grpcPort: number;
  readonly configPath: string;
}

export interface ServingPodsOptions {
  readonly plane: ControlPlane;
  readonly namespace: string;
  readonly tfmodel: string;
  /** Holds the address map, each pod's config file and server log. */
  readonly dir: string;
  /** The --pod-address-map file shared with the operator. */
  readonly addressMapPath: string;
  readonly intervalMs?: number;
}

/** Real tfmodel-servers for the kwok pods of one TFModel; stop() ends them all. */
export class ServingPods {
  readonly pods = new Map<string, ServingPod>();
  private readonly core: CoreV1Api;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private lastError: string | undefined;

  constructor(private readonly options: ServingPodsOptions) {
    this.core = options.plane.kubeConfig().makeApiClient(CoreV1Api);
    mkdirSync(options.dir, { recursive: true });
  }

  start(): void {
    const tick = (): void => {
      this.syncing = this.sync().catch((error: unknown) => {
        this.lastError = (error as Error).message;
      });
      void this.syncing.then(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs ?? 300);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** The last error of a sync round, if any (for assertion messages). */
  get error(): string | undefined {
    return this.lastError;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.syncing;
    await Promise.all([...this.pods.values()].map((pod) => pod.server.stop(5_000)));
    this.pods.clear();
  }

  /** One kubelet round: start servers for new Running pods, stop those of gone pods, sync files. */
  async sync(): Promise<void> {
    const { namespace, tfmodel } = this.options;
    const [podList, configMap] = await Promise.all([
      this.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${tfmodel},app.kubernetes.io/name=tfmodel-server` }),
      this.core.readNamespacedConfigMap({ namespace, name: `${tfmodel}-server-config` }).catch(() => undefined),
    ]);
    const modelConfig = configMap?.data?.['model.config'];
    const running = podList.items.filter((pod: V1Pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp);
    const wanted = new Set(running.map((pod) => pod.metadata!.uid!));
    let changed = false;
    for (const [uid, pod] of this.pods) {
      if (wanted.has(uid)) continue;
      this.pods.delete(uid);
      changed = true;
      await pod.server.stop(5_000);
    }
    for (const pod of running) {
      const uid = pod.metadata!.uid!;
      if (this.pods.has(uid) || modelConfig === undefined) continue;
      this.pods.set(uid, await this.startServer(pod.metadata!.name!, uid, modelConfig));
      changed = true;
    }
    if (modelConfig !== undefined) {
      for (const pod of this.pods.values()) writeIfChanged(pod.configPath, modelConfig);
    }
    if (changed) this.writeAddressMap();
  }

  private async startServer(name: string, uid: string, modelConfig: string): Promise<ServingPod> {
    const podDir = join(this.options.dir, name);
    mkdirSync(podDir, { recursive: true });
    const configPath = join(podDir, 'model.config');
    writeIfChanged(configPath, modelConfig);
    const [grpcPort, restPort] = (await freePorts(2)) as [number, number];
    const server = await ManagedProcess.spawn(`tfmodel-server ${name}`, process.execPath, [
      SERVER_MAIN,
      `--port=${grpcPort}`,
      `--rest_api_port=${restPort}`,
      '--bind_address=127.0.0.1',
      `--model_config_file=${configPath}`,
      '--model_config_file_poll_wait_seconds=1',
      '--file_system_poll_wait_seconds=1',
    ], { logPath: join(podDir, 'server.log') });
    return { name, uid, server, restPort, grpcPort, configPath };
  }

  private writeAddressMap(): void {
    const map: Record<string, { host: string; restPort: number; grpcPort: number }> = {};
    for (const pod of this.pods.values()) map[`${this.options.namespace}/${pod.name}`] = { host: '127.0.0.1', restPort: pod.restPort, grpcPort: pod.grpcPort };
    const path = this.options.addressMapPath;
    const merged = { ...readJson(path), ...map };
    for (const key of Object.keys(merged)) {
      if (key.startsWith(`${this.options.namespace}/${this.options.tfmodel}-`) && !(key in map)) delete merged[key];
    }
    writeFileSync(`${path}.tmp`, JSON.stringify(merged, null, 2));
    renameSync(`${path}.tmp`, path);
  }
}

function writeIfChanged(path: string, content: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return;
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

function readJson(path: string): Record<string, { host: string; restPort: number; grpcPort: number }> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, { host: string; restPort: number; grpcPort: number }>;
  } catch {
    return {};
  }
}
