/**
 * A storage server child process for tests (versitygw, fake-gcs-server, Azurite): started on a
 * loopback port, considered up once `ready` answers true, stopped (and startable again on the
 * same port and data) by the test that started it.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface StoreProcessOptions {
  /** For messages: "versitygw". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** True once the server answers. */
  readonly ready: () => Promise<boolean>;
  readonly env?: NodeJS.ProcessEnv;
  /** How `stop` ends it: SIGKILL (default) cuts everything at once. */
  readonly stopSignal?: NodeJS.Signals;
}

export class StoreProcess {
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(private readonly options: StoreProcessOptions) {}

  /** Starts the server unless it runs, and waits until it answers (20 s at most). */
  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    const { name, command, args, env } = this.options;
    this.stderr = '';
    const child = spawn(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'], ...(env ? { env } : {}) });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-2000);
    });
    const started = Date.now();
    for (;;) {
      if (await this.options.ready().catch(() => false)) return;
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${this.stderr}`);
      if (Date.now() - started > 20_000) throw new Error(`${name} did not start listening in 20 s: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(this.options.stopSignal ?? 'SIGKILL');
    await exited;
  }
}
