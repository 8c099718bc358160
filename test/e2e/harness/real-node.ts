/**
 * A real Kubernetes node for end-to-end tests, joined to a LocalControlPlane: containerd (Debian's)
 * with its own root, state and socket in the test's dir, the kubelet built with the control plane
 * (same version), and CNI `bridge` + `host-local` on a private Linux bridge made for the run. The
 * node's IP is the bridge's; pod IPs come from the bridge's /24, which exists only on this machine;
 * pods get no default route and no masquerading, so pod traffic never leaves the machine. Images
 * come from the docker-archive tarballs of scripts/images/build.sh (`ctr images import`), the pod
 * sandbox is the locally built pause image: nothing is pulled.
 *
 * Needs root (network namespaces, mounts, cgroups). The test that starts it stops it: stop() asks
 * the kubelet to remove the pods it runs, stops the kubelet, kills what containerd's shims still
 * run (by pid), stops containerd, unmounts everything under the node's dir, deletes the bridge and
 * the CNI cache entries of its network, and removes the dir.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { freePorts, ManagedProcess, poll, waitForHttp } from './processes.js';

export interface RealNodeOptions {
  readonly plane: ControlPlane;
  /** docker-archive tarballs to import into containerd's k8s.io namespace. */
  readonly imageTarballs: readonly string[];
  /** The pod sandbox image (one of the imported ones). */
  readonly pauseImage: string;
  /** Default: tfmodel-node-<random>. */
  readonly name?: string;
  readonly startTimeoutMs?: number;
}

export interface RealNode {
  readonly name: string;
  /** The node's InternalIP: the private bridge's address. */
  readonly ip: string;
  /** The pods' subnet on the bridge (CIDR). */
  readonly podSubnet: string;
  readonly dir: string;
  /** Runs `ctr` against this node's containerd (namespace k8s.io); returns stdout. */
  ctr(args: readonly string[]): string;
  stop(): Promise<void>;
}

/** Debian paths of what the node runs besides the kubelet. */
export const NODE_TOOLS = {
  containerd: '/usr/bin/containerd',
  ctr: '/usr/bin/ctr',
  runc: '/usr/sbin/runc',
  cniBinDir: '/usr/lib/cni',
} as const;

/** Throws with what is missing (the caller turns it into a skip or, under CI, a failure). */
export function checkRealNodePrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('a real node needs root (network namespaces, mounts, cgroups)');
  const missing = Object.entries(NODE_TOOLS).filter(([, path]) => !existsSync(path)).map(([name, path]) => `${name} (${path})`);
  for (const plugin of ['bridge', 'host-local', 'loopback']) if (!existsSync(join(NODE_TOOLS.cniBinDir, plugin))) missing.push(`CNI ${plugin}`);
  if (!existsSync('/usr/bin/containerd-shim-runc-v2')) missing.push('containerd-shim-runc-v2');
  if (missing.length) throw new Error(`missing ${missing.join(', ')} (apt-get install containerd runc containernetworking-plugins)`);
}

/** The apiserver flags a real node needs: reach kubelets by IP (the node name resolves nowhere). */
export const REAL_NODE_APISERVER_ARGS = ['--kubelet-preferred-address-types=InternalIP'];

export async function startRealNode(options: RealNodeOptions): Promise<RealNode> {
  checkRealNodePrerequisites();
  const node = new LocalNode(options);
  try {
    await node.start();
  } catch (error) {
    await node.stop();
    throw error;
  }
  return node;
}

class LocalNode implements RealNode {
  readonly name: string;
  readonly dir: string;
  readonly ip: string;
  readonly podSubnet: string;
  private readonly bridge: string;
  private readonly network: string;
  private readonly socket: string;
  private readonly processes: ManagedProcess[] = [];
  private bridgeMade = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: RealNodeOptions) {
    const suffix = randomBytes(3).toString('hex');
    this.name = options.name ?? `tfmodel-node-${suffix}`;
    this.dir = join(options.plane.dir, 'node');
    this.bridge = `tfm${suffix}`;
    this.network = `tfmodel-e2e-${suffix}`;
    const third = freeSubnetOctet();
    this.podSubnet = `10.213.${third}.0/24`;
    this.ip = `10.213.${third}.1`;
    this.socket = join(this.dir, 'containerd', 'containerd.sock');
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async start(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 120_000;
    for (const sub of ['containerd', 'cni/net.d', 'cni/ipam', 'kubelet', 'pod-logs']) mkdirSync(this.path(sub), { recursive: true });

    // The private bridge: the node's IP, the pods' gateway (no default route is handed out).
    ip(['link', 'add', this.bridge, 'type', 'bridge']);
    this.bridgeMade = true;
    ip(['addr', 'add', `${this.ip}/24`, 'dev', this.bridge]);
    ip(['link', 'set', this.bridge, 'up']);

    writeFileSync(this.path('cni', 'net.d', '10-tfmodel-e2e.conflist'), JSON.stringify(this.cniConfig(), null, 2));
    writeFileSync(this.path('containerd', 'config.toml'), this.containerdConfig());
    const containerd = await this.spawn('containerd', NODE_TOOLS.containerd, ['--config', this.path('containerd', 'config.toml')]);
    await poll(() => (spawnSync(NODE_TOOLS.ctr, ['--address', this.socket, 'version'], { encoding: 'utf8' }).status === 0 ? true : undefined), {
      what: 'containerd to answer on its socket',
      timeoutMs,
      process: containerd,
    });
    for (const tarball of this.options.imageTarballs) this.ctr(['images', 'import', tarball]);

    const [kubeletPort, healthzPort] = await freePorts(2);
    writeFileSync(this.path('kubelet', 'config.yaml'), this.kubeletConfig(kubeletPort!, healthzPort!));
    const kubelet = await this.spawn('kubelet', this.options.plane.binaries.kubelet, [
      `--config=${this.path('kubelet', 'config.yaml')}`,
      `--kubeconfig=${this.options.plane.kubeconfigPath}`,
      `--root-dir=${this.path('kubelet')}`,
      `--hostname-override=${this.name}`,
      `--node-ip=${this.ip}`,
      '--v=1',
    ]);
    await waitForHttp(`http://127.0.0.1:${healthzPort}/healthz`, { what: 'kubelet /healthz', timeoutMs, process: kubelet });
    await poll(
      async () => {
        const { stdout, code } = await this.options.plane.kubectl(['get', 'node', this.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        return code === 0 && stdout.trim() === 'True' ? true : undefined;
      },
      { what: `node ${this.name} Ready`, timeoutMs, process: kubelet, intervalMs: 500 },
    );
  }

  private async spawn(name: string, binary: string, args: readonly string[]): Promise<ManagedProcess> {
    const child = await ManagedProcess.spawn(name, binary, args, { logPath: join(this.options.plane.dir, `${name}.log`), cwd: this.dir });
    this.processes.push(child);
    return child;
  }

  ctr(args: readonly string[]): string {
    return execFileSync(NODE_TOOLS.ctr, ['--address', this.socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  }

  private cniConfig(): object {
    const [a, b, c] = this.ip.split('.');
    const prefix = `${a}.${b}.${c}`;
    return {
      cniVersion: '1.0.0',
      name: this.network,
      plugins: [
        {
          type: 'bridge',
          bridge: this.bridge,
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: this.podSubnet, rangeStart: `${prefix}.10`, rangeEnd: `${prefix}.250`, gateway: this.ip }]],
            dataDir: this.path('cni', 'ipam'),
          },
        },
      ],
    };
  }

  private containerdConfig(): string {
    const q = JSON.stringify;
    return `version = 2
root = ${q(this.path('containerd', 'root'))}
state = ${q(this.path('containerd', 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = ${q(this.socket)}
[ttrpc]
  address = ${q(`${this.socket}.ttrpc`)}
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = ${q(this.path('containerd', 'opt'))}
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(this.options.pauseImage)}
  # Root here lacks CAP_SYS_RESOURCE: never lower a container's oom_score_adj below ours.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(NODE_TOOLS.cniBinDir)}
    conf_dir = ${q(this.path('cni', 'net.d'))}
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = ${q(NODE_TOOLS.runc)}
        Root = ${q(this.path('containerd', 'runc'))}
        SystemdCgroup = false
`;
  }

  private kubeletConfig(port: number, healthzPort: number): string {
    return JSON.stringify(
      {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        // The API only on the private bridge; anonymous requests are allowed there (the apiserver
        // calls it for logs and exec without a client certificate).
        address: this.ip,
        port,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort,
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false }, x509: {} },
        authorization: { mode: 'AlwaysAllow' },
        containerRuntimeEndpoint: `unix://${this.socket}`,
        podLogsDir: this.path('pod-logs'),
        // This machine: swap may be on, cgroup v1 (hybrid), no systemd, no CAP_SYS_RESOURCE.
        failSwapOn: false,
        failCgroupV1: false,
        cgroupDriver: 'cgroupfs',
        cgroupsPerQOS: false,
        enforceNodeAllocatable: [],
        // No KUBE-FIREWALL and friends in the host's iptables.
        makeIPTablesUtilChains: false,
        // No image garbage collection or evictions: the imported images are all there is.
        imageGCHighThresholdPercent: 100,
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
        serializeImagePulls: false,
        rotateCertificates: false,
        serverTLSBootstrap: false,
        registerNode: true,
        resolvConf: '/etc/resolv.conf',
        // ConfigMap volumes are rewritten on the kubelet's pod sync period (default 1 min); 15 s
        // keeps the tests that wait for that late rewrite short. It is still late: the tests rely
        // on the operator's pushes, never on this refresh.
        syncFrequency: '15s',
        shutdownGracePeriod: '0s',
      },
      null,
      2,
    );
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const kubelet = this.processes.find((p) => p.name === 'kubelet');
    if (kubelet?.running) {
      // Pods go through the kubelet, so their sandboxes (network namespaces, CNI IPs) are removed;
      // cordoned first, so that no controller's replacement lands here meanwhile.
      await this.options.plane.kubectl(['cordon', this.name]);
      await this.options.plane.kubectl(['delete', 'pods', '--all-namespaces', '--field-selector', `spec.nodeName=${this.name}`, '--grace-period=1', '--wait=false']);
      await poll(
        async () => {
          const { stdout } = await this.options.plane.kubectl(['get', 'pods', '--all-namespaces', '--field-selector', `spec.nodeName=${this.name}`, '-o', 'name']);
          const sandboxes = this.listSandboxes();
          return stdout.trim() === '' && sandboxes.length === 0 ? true : undefined;
        },
        { what: `the pods of ${this.name} to go`, timeoutMs: 60_000, intervalMs: 500 },
      ).catch((error: Error) => console.warn(`real node: ${error.message}`));
      await kubelet.stop();
    }
    const containerd = this.processes.find((p) => p.name === 'containerd');
    if (containerd?.running) {
      for (const task of this.listTasks()) spawnSync(NODE_TOOLS.ctr, ['--address', this.socket, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', task]);
    }
    this.killShims();
    await containerd?.stop();
    for (const p of this.processes) await p.stop();
    this.unmountAll();
    if (this.bridgeMade) spawnSync('ip', ['link', 'delete', this.bridge]);
    this.removeCniCache();
    this.removeContainerLogLinks();
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }

  private listSandboxes(): string[] {
    // Pause containers are tasks too; any task left means a sandbox not yet removed.
    return this.listTasks();
  }

  private listTasks(): string[] {
    const result = spawnSync(NODE_TOOLS.ctr, ['--address', this.socket, '-n', 'k8s.io', 'tasks', 'list', '-q'], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.split('\n').filter(Boolean) : [];
  }

  /** containerd-shim-runc-v2 processes serving this containerd (they outlive it by design). */
  private killShims(): void {
    for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmdline.startsWith('/usr/bin/containerd-shim-runc-v2') && cmdline.includes(this.socket)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  private unmountAll(): void {
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((m): m is string => m !== undefined && m.startsWith(`${this.dir}/`));
    for (const mount of mounts.sort().reverse()) spawnSync('umount', ['--lazy', mount]);
  }

  /** The kubelet links every container's log from /var/log/containers (a fixed path). */
  private removeContainerLogLinks(): void {
    const links = '/var/log/containers';
    if (!existsSync(links)) return;
    for (const entry of readdirSync(links)) {
      try {
        if (readlinkSync(join(links, entry)).startsWith(`${this.path('pod-logs')}/`)) rmSync(join(links, entry), { force: true });
      } catch {
        // not a link
      }
    }
  }

  private removeCniCache(): void {
    const results = '/var/lib/cni/results';
    if (!existsSync(results)) return;
    for (const entry of readdirSync(results)) if (entry.startsWith(`${this.network}-`)) rmSync(join(results, entry), { force: true });
  }
}

function ip(args: readonly string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A third octet for 10.213.X.0/24 that no route or address of this machine uses yet. */
function freeSubnetOctet(): number {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }) + execFileSync('ip', ['-4', 'addr'], { encoding: 'utf8' });
  for (let attempt = 0; attempt < 50; attempt++) {
    const octet = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`10.213.${octet}.`)) return octet;
  }
  throw new Error('no free 10.213.X.0/24 subnet');
}
