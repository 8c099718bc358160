/**
 * Long-running helper processes for end-to-end tests: each runs in its own process group with its
 * output in a log file, is stopped by pid (the whole group), and is killed when the test process
 * exits, so a crashed or interrupted mocha run leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SpawnOptions {
  /** Where stdout and stderr go (appended: a restarted process keeps its earlier output). */
  readonly logPath: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Processes still running, for the exit safety net below. */
const live = new Set<ManagedProcess>();

export class ManagedProcess {
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) once the process has been reaped. */
  readonly exited: Promise<number | string>;
  private exitStatus: number | string | undefined;

  private constructor(
    readonly name: string,
    readonly logPath: string,
    child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
    this.pid = child.pid;
    child.on('error', () => undefined); // e.g. a failed kill(); the exit promise tells the story
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = code ?? signal ?? 'unknown';
        live.delete(this);
        resolve(this.exitStatus);
      });
    });
  }

  /** Starts `command` as the leader of a new process group, output to `logPath`. */
  static spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): Promise<ManagedProcess> {
    installExitSafetyNet();
    const log = openSync(options.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', log, log],
        // Own process group: stop() signals the whole group, and a Ctrl-C meant for mocha does not
        // race our orderly shutdown (the exit safety net below covers that case).
        detached: true,
      });
    } finally {
      closeSync(log); // the child has its own copy of the descriptor by now
    }
    if (child.pid === undefined) {
      return new Promise((_, reject) => child.once('error', (error) => reject(new Error(`${name}: cannot start ${command}: ${error.message}`))));
    }
    const managed = new ManagedProcess(name, options.logPath, child);
    live.add(managed);
    return Promise.resolve(managed);
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** How it ended, or undefined while running. */
  get exitDescription(): string | undefined {
    return this.exitStatus === undefined ? undefined : `exit ${this.exitStatus}`;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once reaped. Idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // The leader is gone; anything it left in its group goes too.
    signalGroup(this.pid, 'SIGKILL');
  }

  /** The last `lines` lines of its log, for error messages. */
  logTail(lines = 40): string {
    return tailOfFile(this.logPath, lines);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** True while any process of group `pgid` exists. */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let safetyNetInstalled = false;

/** Kills every live process group when mocha exits or is interrupted, whoever forgot to stop it. */
function installExitSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  const killAll = (): void => {
    for (const p of live) signalGroup(p.pid, 'SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(signal, onSignal);
      // Without listeners of its own the process would have died of the signal: keep that.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export function tailOfFile(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(no log: ${(error as Error).message})`;
  }
}

/** `count` distinct free ports (held open together so the OS cannot hand out one twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export interface HttpGetOptions {
  readonly headers?: Record<string, string>;
  /** PEM CA bundle for https; without it the server certificate is not verified (probes only). */
  readonly ca?: string | Buffer;
  readonly timeoutMs?: number;
}

/** One GET; resolves with any status, rejects on connection errors. */
export function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
  const parsed = new URL(url);
  const send = parsed.protocol === 'https:' ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      parsed,
      {
        method: 'GET',
        headers: options.headers,
        ca: options.ca,
        rejectUnauthorized: options.ca !== undefined,
        timeout: options.timeoutMs ?? 5_000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message. */
  readonly what: string;
  /** A process whose exit ends the wait at once (its log tail goes into the error). */
  readonly process?: ManagedProcess;
}

/**
 * Calls `check` until it returns a value other than undefined. A throwing check counts as "not
 * yet"; its last error is reported on timeout.
 */
export async function poll<T>(check: () => Promise<T | undefined> | T | undefined, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no attempt finished';
  for (;;) {
    if (options.process && !options.process.running) {
      throw new Error(`${options.process.name} exited (${options.process.exitDescription}) while waiting for ${options.what}; log ${options.process.logPath}:\n${options.process.logTail()}`);
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = 'condition not met yet';
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= deadline) {
      const tail = options.process ? `; log ${options.process.logPath}:\n${options.process.logTail()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what} (last: ${last})${tail}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** Waits until GET `url` answers 200 (e.g. /readyz, /health). */
export function waitForHttp(url: string, options: PollOptions & HttpGetOptions): Promise<HttpResponse> {
  return poll(async () => {
    const response = await httpGet(url, options);
    if (response.status === 200) return response;
    throw new Error(`HTTP ${response.status}: ${response.body.slice(0, 300)}`);
  }, options);
}

/**
 * The TCP addresses ("127.0.0.1:6443", "[::]:80") process `pid` listens on, from /proc (Linux):
 * its socket inodes matched against the listening entries of /proc/net/tcp and tcp6.
 */
export function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1]!, fields[3], fields[9]!];
      if (state === '0A' && inodes.has(inode)) addresses.push(decodeProcAddress(local));
    }
  }
  return addresses;
}

/** /proc/net/tcp* writes addresses as hex in host (little-endian) byte order per 32-bit word. */
function decodeProcAddress(hex: string): string {
  const [ip, port] = hex.split(':') as [string, string];
  const words = ip.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const bytes = words.join('').match(/../g)!.map((b) => parseInt(b, 16));
  const host =
    bytes.length === 4
      ? bytes.join('.')
      : `[${Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':')}]`;
  return `${host}:${parseInt(port, 16)}`;
}
