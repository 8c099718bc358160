/**
 * The operator and its serving pods in end-to-end tests.
 *
 * startOperatorProcess runs the real tfmodel-operator binary (dist/src/operator/main.js) against
 * the control plane. Pods on kwok nodes run in name only, so ServingPods plays the kubelet for the
 * serving pods of one TFModel: for every Running pod it starts a real tfmodel-server on loopback
 * with the pod's own container args (ports and the config directory mapped), keeps the pod's
 * config files in step with the ConfigMap (as a ConfigMap volume would), writes the pod's Secret
 * volumes (the admin token) into the pod's directory as the kubelet would, and
 * maps "namespace/pod" to the server's ports in the file the operator reads (--pod-address-map).
 */
import { CoreV1Api, type V1EnvVar, type V1Pod } from '@kubernetes/client-node';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MODEL_CACHE_PATH } from '../../../src/operator/api/tfmodel.js';
import { CONFIG_DIR } from '../../../src/operator/render/owned-objects.js';
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
  /** Where the leader-election Lease lives (--leader-election-namespace); default "default". */
  readonly leaderElectionNamespace?: string;
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
    `--leader-election-namespace=${options.leaderElectionNamespace ?? 'default'}`,
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
    const files = configMap?.data;
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
      if (this.pods.has(uid) || files === undefined) continue;
      this.pods.set(uid, await this.startServer(pod, files));
      changed = true;
    }
    // Like a ConfigMap volume: the files follow the ConfigMap (the server reads them at start).
    for (const pod of this.pods.values()) {
      for (const [file, content] of Object.entries(files ?? {})) writeIfChanged(join(dirname(pod.configPath), file), content);
    }
    if (changed) this.writeAddressMap();
  }

  /** Runs the pod's own container args, with loopback ports and the ConfigMap files in podDir. */
  private async startServer(pod: V1Pod, files: Readonly<Record<string, string>>): Promise<ServingPod> {
    const name = pod.metadata!.name!;
    const podDir = join(this.options.dir, name);
    mkdirSync(podDir, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeIfChanged(join(podDir, file), content);
    const secretDirs = await this.secretVolumes(pod, podDir);
    const [grpcPort, restPort] = (await freePorts(2)) as [number, number];
    const args = (pod.spec!.containers[0]!.args ?? []).map((arg) => {
      for (const [mountPath, dir] of secretDirs) if (arg.includes(`=${mountPath}/`)) return arg.replace(`=${mountPath}/`, `=${dir}/`);
      if (arg.startsWith('--port=')) return `--port=${grpcPort}`;
      if (arg.startsWith('--rest_api_port=')) return `--rest_api_port=${restPort}`;
      // The cache emptyDir: a directory of the pod's own.
      if (arg === `--model_cache_dir=${MODEL_CACHE_PATH}`) return `--model_cache_dir=${join(podDir, 'model-cache')}`;
      return arg.replace(`=${CONFIG_DIR}/`, `=${podDir}/`);
    });
    const server = await ManagedProcess.spawn(`tfmodel-server ${name}`, process.execPath, [SERVER_MAIN, ...args, '--bind_address=127.0.0.1'], {
      logPath: join(podDir, 'server.log'),
      env: { ...process.env, ...(await this.containerEnv(pod.spec!.containers[0]!.env ?? [], pod.metadata!.namespace!)) },
    });
    return { name, uid: pod.metadata!.uid!, server, restPort, grpcPort, configPath: join(podDir, 'model.config') };
  }

  /**
   * The container's Secret volumes as the kubelet mounts them: each item's decoded value as a file
   * in a directory of the pod's own (mode 0400), by mount path. A missing Secret that is not
   * optional keeps the pod from starting (the kubelet waits; the next sync round tries again).
   */
  private async secretVolumes(pod: V1Pod, podDir: string): Promise<Map<string, string>> {
    const dirs = new Map<string, string>();
    const namespace = pod.metadata!.namespace!;
    for (const mount of pod.spec!.containers[0]!.volumeMounts ?? []) {
      const source = pod.spec!.volumes?.find((v) => v.name === mount.name)?.secret;
      if (!source) continue;
      const secret = await this.core.readNamespacedSecret({ namespace, name: source.secretName! }).catch(() => undefined);
      if (!secret) {
        if (source.optional) continue;
        throw new Error(`pod ${pod.metadata!.name}: Secret ${namespace}/${source.secretName} of volume ${mount.name} does not exist yet`);
      }
      const dir = join(podDir, 'volumes', mount.name);
      mkdirSync(dir, { recursive: true });
      const items = source.items ?? Object.keys(secret.data ?? {}).map((key) => ({ key, path: key }));
      for (const item of items) {
        const encoded = secret.data?.[item.key];
        if (encoded !== undefined) writeFileSync(join(dir, item.path), Buffer.from(encoded, 'base64'), { mode: 0o400 });
      }
      dirs.set(mount.mountPath, dir);
    }
    return dirs;
  }

  /**
   * The container's env as the kubelet resolves it: literal values, and secretKeyRefs read from
   * the Secret through the API (an optional ref to a missing key or Secret is left out).
   */
  private async containerEnv(env: readonly V1EnvVar[], namespace: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const secrets = new Map<string, Record<string, string> | undefined>();
    for (const variable of env) {
      if (variable.value !== undefined) {
        out[variable.name] = variable.value;
        continue;
      }
      const ref = variable.valueFrom?.secretKeyRef;
      if (!ref) throw new Error(`env ${variable.name}: only values and secretKeyRefs are simulated`);
      if (!secrets.has(ref.name!)) {
        const secret = await this.core.readNamespacedSecret({ namespace, name: ref.name! }).catch(() => undefined);
        secrets.set(ref.name!, secret?.data);
      }
      const encoded = secrets.get(ref.name!)?.[ref.key];
      if (encoded === undefined) {
        if (ref.optional) continue;
        throw new Error(`env ${variable.name}: Secret ${ref.name} has no key ${ref.key}`);
      }
      out[variable.name] = Buffer.from(encoded, 'base64').toString('utf8');
    }
    return out;
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
