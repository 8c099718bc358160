/**
 * Runs one server under test as its own process and follows its JSON log lines (on stderr, like
 * tfmodel-server's; the baselines print the same shape): waits for events such as
 * "rest_listening", reads the process' CPU time from /proc, and stops it with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface LogEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** The Linux clock tick /proc/<pid>/stat counts CPU time in (USER_HZ, 100 everywhere relevant). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface LaunchOptions {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Every process launched and not yet exited, killed if the bench itself exits early. */
const LIVE = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const child of LIVE) child.kill('SIGKILL');
}

function track(child: ChildProcess): void {
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killLiveChildren);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        killLiveChildren();
        process.exit(130);
      });
    }
  }
}

type Waiter = { readonly match: (e: LogEvent) => boolean; readonly resolve: (e: LogEvent) => void };

export class ManagedProcess {
  readonly events: Array<LogEvent & { readonly receivedAt: number }> = [];
  private readonly waiters: Waiter[] = [];
  private readonly exit: Promise<number | null>;
  private readonly tail: string[] = [];

  private constructor(readonly label: string, private readonly child: ChildProcess) {
    let buffer = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.onLine(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    });
    child.stdout!.resume();
    // 'close' rather than 'exit': by then every line the process wrote has been read.
    this.exit = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  static launch(options: LaunchOptions): ManagedProcess {
    const child = spawn(options.command, [...options.args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    return new ManagedProcess(options.label, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private onLine(line: string): void {
    let event: LogEvent;
    try {
      const parsed = JSON.parse(line) as unknown;
      event = typeof parsed === 'object' && parsed !== null && 'event' in parsed ? (parsed as LogEvent) : { event: 'raw', line };
    } catch {
      event = { event: 'raw', line };
    }
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
    this.events.push({ ...event, receivedAt: performance.now() });
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  /** The first event, past or future, that matches. */
  waitFor(match: (e: LogEvent) => boolean, timeoutMs = 120_000): Promise<LogEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: timed out waiting for a log event; last lines:\n${this.tail.join('\n')}`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      void this.exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.label}: exited (${code}) while waiting; last lines:\n${this.tail.join('\n')}`));
      });
    });
  }

  /** The port in the first event named `event` (its "port" field). */
  async portOf(event: string): Promise<number> {
    const found = await this.waitFor((e) => e.event === event);
    return Number(found['port']);
  }

  /** User + system CPU seconds used so far by the process (all its threads). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / CLOCK_TICKS_PER_SECOND;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }
}
