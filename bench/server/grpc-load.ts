/**
 * The gRPC load generator (its own process, like autocannon for REST): `concurrency` calls of
 * PredictionService/Predict kept in flight over `channels` HTTP/2 connections for `seconds`, one
 * pre-encoded half_plus_two request, answers checked by decoding one in 256. Prints one JSON
 * GrpcLoadReport on stdout.
 *
 *   node dist/bench/server/grpc-load.js '{"address":"127.0.0.1:8500","concurrency":64,...}'
 */
import { readFileSync } from 'node:fs';
import { Client, type ServiceError, credentials } from '@grpc/grpc-js';
import { encodePredictRequest, firstOutputValue, rawPredictMethod } from './grpc-predict.js';
import { quantileOfSorted } from './stats.js';

export interface GrpcLoadOptions {
  readonly address: string;
  readonly modelName: string;
  readonly concurrency: number;
  readonly channels: number;
  readonly seconds: number;
  /** The value the first output must hold for input 1.0 (1.0 for an echo, 2.5 for half_plus_two). */
  readonly expect: number;
  /**
   * A pre-encoded PredictRequest to send instead of half_plus_two's (a real model's input); then
   * `expect` is the first output value TensorFlow gives for it (within 1e-3 relative).
   */
  readonly requestFile?: string;
}

export interface GrpcLoadReport {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstError?: string;
  /** CPU seconds this load generator used while measuring (user + system). */
  readonly generatorCpuSeconds: number;
}

const CHECK_EVERY = 256;

class LoadState {
  completed = 0;
  errors = 0;
  firstError: string | undefined;
  readonly latencies: number[] = [];
  stopped = false;
  inflight = 0;
  onIdle: (() => void) | undefined;

  constructor(readonly options: GrpcLoadOptions, readonly request: Buffer) {}
}

function checkAnswer(state: LoadState, bytes: Buffer): void {
  const value = firstOutputValue(bytes);
  const tolerance = state.options.requestFile ? 1e-3 * Math.abs(state.options.expect) + 1e-6 : 1e-6;
  if (value === undefined || Math.abs(value - state.options.expect) > tolerance) {
    state.errors++;
    state.firstError ??= `unexpected answer ${String(value)} (expected ${state.options.expect})`;
  }
}

function fire(state: LoadState, client: Client): void {
  const started = performance.now();
  state.inflight++;
  client.makeUnaryRequest(rawPredictMethod.path, rawPredictMethod.requestSerialize, rawPredictMethod.responseDeserialize, state.request,
    (error: ServiceError | null, answer?: Buffer) => {
      state.inflight--;
      if (error) {
        state.errors++;
        state.firstError ??= `${error.code}: ${error.details}`;
      } else {
        state.latencies.push(performance.now() - started);
        if (state.completed++ % CHECK_EVERY === 0) checkAnswer(state, answer!);
      }
      if (!state.stopped) fire(state, client);
      else if (state.inflight === 0) state.onIdle?.();
    });
}

function waitForReady(client: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => client.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve())));
}

export async function runGrpcLoad(options: GrpcLoadOptions): Promise<GrpcLoadReport> {
  const clients = Array.from({ length: options.channels }, () =>
    // A local subchannel pool per client: otherwise grpc-js shares one connection among them.
    new Client(options.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  await Promise.all(clients.map((c) => waitForReady(c, 30_000)));
  const request = options.requestFile ? readFileSync(options.requestFile) : encodePredictRequest(options.modelName, 1.0);
  const state = new LoadState(options, request);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < options.concurrency; i++) fire(state, clients[i % clients.length]!);
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  state.stopped = true;
  const seconds = (performance.now() - started) / 1000;
  const completed = state.completed;
  const cpu = process.cpuUsage(cpuBefore);
  await new Promise<void>((resolve) => {
    state.onIdle = resolve;
    if (state.inflight === 0) resolve();
  });
  for (const client of clients) client.close();
  const sorted = Float64Array.from(state.latencies).sort();
  return {
    requests: completed,
    errors: state.errors,
    seconds,
    rps: completed / seconds,
    p50Ms: quantileOfSorted(sorted, 0.5),
    p99Ms: quantileOfSorted(sorted, 0.99),
    ...(state.firstError !== undefined ? { firstError: state.firstError } : {}),
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as GrpcLoadOptions;
  const report = await runGrpcLoad(options);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
