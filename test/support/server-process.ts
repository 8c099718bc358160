/**
 * Runs the real tfmodel-server binary for tests: on 127.0.0.1 with ephemeral ports, reading its
 * JSON log lines (stderr) to learn the bound ports and to wait for events; stopped by the test.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './corpus.js';

export const SERVER_MAIN = join(REPO_ROOT, 'dist', 'src', 'server', 'main.js');

/**
 * A TCP port on 127.0.0.1 free right now. tfmodel-server, like tensorflow_model_server, reads
 * --port=0 as "no gRPC TCP port", so tests pick one (a child process, to stay synchronous).
 */
export function freePortSync(): number {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

export interface LogEvent {
  readonly event: string;
  readonly level: string;
  readonly [field: string]: unknown;
}

export class ServerProcess {
  readonly events: LogEvent[] = [];
  readonly stdout: string[] = [];
  private readonly waiters: Array<{ match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }> = [];
  private exitCode: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    let buffer = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.onLine(line);
      }
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.stdout.push(chunk));
    this.exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts the server with `args` (plus --bind_address=127.0.0.1 and a free gRPC port unless given). */
  /**
   * Servers run on the default engine (`auto`: the native engine when built, else wasm) unless the
   * test names one; TFMODEL_TEST_SERVER_RUNTIME=wasm|tensorflow picks another default, so CI runs
   * the server suites on both engines.
   */
  static start(args: string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
    const defaults = ['--bind_address=127.0.0.1'];
    const runtime = process.env['TFMODEL_TEST_SERVER_RUNTIME'];
    if (runtime && !args.some((a) => a.startsWith('--runtime'))) defaults.push(`--runtime=${runtime}`);
    if (!args.some((a) => a.startsWith('--port='))) defaults.push(`--port=${freePortSync()}`);
    const child = spawn(process.execPath, [SERVER_MAIN, ...defaults, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServerProcess(child);
  }

  /**
   * Follows a server started by another command whose stderr is the server's (e.g. an attached
   * `podman run`); the caller passes every flag.
   */
  static startCommand(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ServerProcess(child);
  }

  private onLine(line: string): void {
    let event: LogEvent;
    try {
      event = JSON.parse(line) as LogEvent;
    } catch {
      event = { event: 'raw', level: 'info', line };
    }
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  /** The first event (past or future) matching `match`. */
  waitFor(match: (e: LogEvent) => boolean, timeoutMs = 60_000): Promise<LogEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a log event; last: ${JSON.stringify(this.events.slice(-5))}`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      void this.exitCode.then((code) => reject(new Error(`server exited (${code}) while waiting; last: ${JSON.stringify(this.events.slice(-5))}`)));
    });
  }

  async ports(): Promise<{ grpc: number; rest: number | undefined }> {
    const grpc = await this.waitFor((e) => e.event === 'grpc_listening');
    const rest = this.events.find((e) => e.event === 'rest_listening') ?? (await this.waitFor((e) => e.event === 'rest_listening' || e.event === 'serving'));
    return { grpc: Number(grpc['port']), rest: rest.event === 'rest_listening' ? Number(rest['port']) : undefined };
  }

  /** Sends SIGTERM and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exitCode;
  }

  exited(): Promise<number | null> {
    return this.exitCode;
  }
}
