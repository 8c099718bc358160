/**
 * A gRPC load generator for any unary method (its own process, like autocannon for REST):
 * `concurrency` calls of one pre-encoded request kept in flight over `channels` connections for
 * `seconds`. Prints one JSON report on stdout.
 *
 *   node dist/bench/protocols/unary-load.js '{"address":"127.0.0.1:8500","path":"/inference.GRPCInferenceService/ModelInfer",...}'
 */
import { readFileSync } from 'node:fs';
import { Client, type ServiceError, credentials } from '@grpc/grpc-js';
import { quantileOfSorted } from '../server/stats.js';

export interface UnaryLoadOptions {
  readonly address: string;
  readonly path: string;
  /** A file holding the encoded request (too large for a command line). */
  readonly requestFile: string;
  readonly concurrency: number;
  readonly channels: number;
  readonly seconds: number;
  /** Calls started per second (a fixed offered rate, at most `concurrency` in flight); absent: closed loop. */
  readonly rate?: number;
}

export interface UnaryLoadReport {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** This process's CPU (user + system, its grpc-js client) per completed call, in microseconds. */
  readonly generatorCpuMicrosPerRequest: number;
  readonly firstError?: string;
}

const identity = (b: Buffer): Buffer => b;

export async function runUnaryLoad(options: UnaryLoadOptions): Promise<UnaryLoadReport> {
  const clients = Array.from({ length: options.channels }, () =>
    new Client(options.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1 }));
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 30_000, (e) => (e ? reject(e) : resolve())))));
  const request = readFileSync(options.requestFile);
  const latencies: number[] = [];
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stopped = false;
  let inflight = 0;
  let onIdle: (() => void) | undefined;
  const fire = (client: Client): void => {
    const started = performance.now();
    inflight++;
    client.makeUnaryRequest(options.path, identity, identity, request, (error: ServiceError | null) => {
      inflight--;
      if (error) {
        errors++;
        firstError ??= `${error.code}: ${error.details}`;
      } else if (!stopped) {
        completed++;
        latencies.push(performance.now() - started);
      }
      if (!stopped && options.rate === undefined) fire(client);
      else if (stopped && inflight === 0) onIdle?.();
    });
  };
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let pacer: NodeJS.Timeout | undefined;
  if (options.rate === undefined) {
    for (let i = 0; i < options.concurrency; i++) fire(clients[i % clients.length]!);
  } else {
    // Open loop: every millisecond, start the calls due by now (skipped while `concurrency` are in flight).
    let launched = 0;
    let next = 0;
    pacer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * options.rate!);
      for (; launched < due; launched++) {
        if (inflight < options.concurrency) fire(clients[next++ % clients.length]!);
      }
    }, 1);
  }
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  stopped = true;
  if (pacer) clearInterval(pacer);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await new Promise<void>((resolve) => {
    onIdle = resolve;
    if (inflight === 0) resolve();
  });
  for (const client of clients) client.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: completed, errors, seconds, rps: completed / seconds,
    p50Ms: quantileOfSorted(sorted, 0.5), p99Ms: quantileOfSorted(sorted, 0.99),
    generatorCpuMicrosPerRequest: completed > 0 ? (cpu.user + cpu.system) / completed : Number.NaN,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runUnaryLoad(JSON.parse(process.argv[2] ?? '') as UnaryLoadOptions).then(
    (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
