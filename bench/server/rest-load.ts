/**
 * A small REST load generator (its own process) for servers autocannon mis-measures: Werkzeug
 * answers HTTP/1.0 with "Connection: close", and autocannon 8 then reports a small fraction of the
 * rate a plain client gets. `connections` raw TCP connections each send one pre-encoded
 * HTTP/1.1 POST, read the answer (status line, Content-Length, body) and send the next one, or
 * reconnect first when the server closes; latency of a reconnecting request includes its connect.
 * As cheap per request as autocannon, so that the generator does not cap the faster side.
 * Prints one JSON RestLoadReport on stdout.
 *
 *   node dist/bench/server/rest-load.js '{"url":"http://127.0.0.1:8501/v1/models/m:predict",...}'
 */
import { type Socket, connect } from 'node:net';
import { quantileOfSorted } from './stats.js';

export interface RestLoadOptions {
  readonly url: string;
  readonly body: string;
  readonly connections: number;
  readonly seconds: number;
}

export interface RestLoadReport {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connections opened (1 per connection for keep-alive servers, about 1 per request otherwise). */
  readonly connects: number;
  readonly firstError?: string;
  readonly generatorCpuSeconds: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

class Stats {
  completed = 0;
  errors = 0;
  connects = 0;
  firstError: string | undefined;
  readonly latencies: number[] = [];
  stopped = false;

  fail(message: string): void {
    this.errors++;
    this.firstError ??= message;
  }
}

/** One client connection: request, answer, request ... reconnecting whenever the server closes. */
class Connection {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private sentAt = 0;
  private inflight = false;
  private done: (() => void) | undefined;

  constructor(private readonly host: string, private readonly port: number, private readonly request: Buffer, private readonly stats: Stats) {}

  run(): Promise<void> {
    return new Promise((resolve) => {
      this.done = resolve;
      this.open();
    });
  }

  private open(): void {
    if (this.stats.stopped) return this.finish();
    this.stats.connects++;
    this.buffer = Buffer.alloc(0);
    this.sentAt = performance.now();
    const socket = connect(this.port, this.host);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => this.send(false));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.stats.fail(error.message));
    socket.on('close', () => this.onClose(socket));
  }

  private send(keepTime: boolean): void {
    if (this.stats.stopped) return this.finish();
    if (!keepTime) this.sentAt = performance.now();
    this.inflight = true;
    this.socket!.write(this.request);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffer.toString('latin1', 0, headerEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.stats.fail('answer without Content-Length');
      this.socket!.destroy();
      return;
    }
    const total = headerEnd + HEADER_END.length + Number(length[1]);
    if (this.buffer.length < total) return;
    this.inflight = false;
    const status = Number(head.slice(9, 12));
    if (status === 200) {
      this.stats.completed++;
      this.stats.latencies.push(performance.now() - this.sentAt);
    } else {
      this.stats.fail(`HTTP ${status}`);
    }
    this.buffer = this.buffer.subarray(total);
    const closes = /\r\nconnection:\s*close/i.test(head) || (head.startsWith('HTTP/1.0') && !/\r\nconnection:\s*keep-alive/i.test(head));
    if (closes) this.socket!.end();
    else this.send(false);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    if (this.inflight) this.stats.fail('connection closed before the answer');
    this.inflight = false;
    this.open();
  }

  private finish(): void {
    this.socket?.destroy();
    this.done?.();
    this.done = undefined;
  }
}

export async function runRestLoad(options: RestLoadOptions): Promise<RestLoadReport> {
  const url = new URL(options.url);
  const body = Buffer.from(options.body);
  const request = Buffer.concat([
    Buffer.from(`POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
  ]);
  const stats = new Stats();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const connections = Array.from({ length: options.connections }, () => new Connection(url.hostname, Number(url.port || 80), request, stats).run());
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  stats.stopped = true;
  const seconds = (performance.now() - started) / 1000;
  const completed = stats.completed;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.race([Promise.all(connections), new Promise((resolve) => setTimeout(resolve, 5000))]);
  const sorted = Float64Array.from(stats.latencies).sort();
  return {
    requests: completed,
    errors: stats.errors,
    seconds,
    rps: completed / seconds,
    p50Ms: quantileOfSorted(sorted, 0.5),
    p99Ms: quantileOfSorted(sorted, 0.99),
    connects: stats.connects,
    ...(stats.firstError !== undefined ? { firstError: stats.firstError } : {}),
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as RestLoadOptions;
  process.stdout.write(`${JSON.stringify(await runRestLoad(options))}\n`);
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
