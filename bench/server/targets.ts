/**
 * The servers under test, each started as its own process on 127.0.0.1 with ephemeral ports:
 * tfmodel-server with a given set of flags, and the bare node:http / grpc-js ceilings. The
 * Python baselines are in python-baselines.ts.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type LogEvent, ManagedProcess } from './launcher.js';
import { BENCH_DIST, SERVER_MAIN } from './paths.js';

export interface ServerUnderTest {
  readonly label: string;
  readonly process: ManagedProcess;
  /** Base URL of the REST API, e.g. http://127.0.0.1:8501 (absent for gRPC-only servers). */
  readonly restBase?: string;
  /** host:port of the gRPC API (absent for REST-only servers). */
  readonly grpcAddress?: string;
}

export interface TfmodelServerSpec {
  readonly label: string;
  readonly modelName: string;
  readonly basePath: string;
  /** Extra tfmodel-server flags, e.g. --enable_batching. */
  readonly flags?: readonly string[];
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
}

const isServing = (e: LogEvent): boolean => e.event === 'serving';
const isAvailable = (e: LogEvent): boolean => e.event === 'version_available';

/** A port free right now (tfmodel-server, like TF Serving, reads --rest_api_port=0 as "no REST" and --port=0 as "no gRPC TCP port"). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts tfmodel-server; a REST port taken between freePort() and the server's bind is retried with another. */
export async function startTfmodelServer(spec: TfmodelServerSpec, attempts = 3): Promise<ServerUnderTest> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTfmodelServerOnce(spec);
    } catch (error) {
      if (attempt >= attempts || !String((error as Error).message).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startTfmodelServerOnce(spec: TfmodelServerSpec): Promise<ServerUnderTest> {
  const restPort = await freePort();
  const grpcFreePort = await freePort();
  const process_ = ManagedProcess.launch({
    label: spec.label,
    command: process.execPath,
    args: [
      ...(spec.nodeFlags ?? []),
      SERVER_MAIN,
      `--port=${grpcFreePort}`,
      `--rest_api_port=${restPort}`,
      '--bind_address=127.0.0.1',
      `--model_name=${spec.modelName}`,
      `--model_base_path=${spec.basePath}`,
      ...(spec.flags ?? []),
    ],
  });
  try {
    const grpcPort = await process_.portOf('grpc_listening');
    await process_.waitFor(isServing);
    // "serving" also comes when no version could be loaded: wait for one.
    await process_.waitFor(isAvailable);
    return { label: spec.label, process: process_, restBase: `http://127.0.0.1:${restPort}`, grpcAddress: `127.0.0.1:${grpcPort}` };
  } catch (error) {
    await process_.stop();
    throw error;
  }
}

export async function startBareHttp(): Promise<ServerUnderTest> {
  const label = 'bare node:http';
  const process_ = ManagedProcess.launch({ label, command: process.execPath, args: [join(BENCH_DIST, 'bare-http-server.js')] });
  return { label, process: process_, restBase: `http://127.0.0.1:${await process_.portOf('rest_listening')}` };
}

export async function startBareGrpc(): Promise<ServerUnderTest> {
  const label = 'bare grpc-js echo';
  const process_ = ManagedProcess.launch({ label, command: process.execPath, args: [join(BENCH_DIST, 'bare-grpc-server.js')] });
  return { label, process: process_, grpcAddress: `127.0.0.1:${await process_.portOf('grpc_listening')}` };
}

export interface BatchingParameters {
  readonly maxBatchSize: number;
  readonly batchTimeoutMicros: number;
  readonly numBatchThreads: number;
  readonly maxEnqueuedBatches: number;
}

/** Writes a --batching_parameters_file (protobuf text format) into `dir`; returns its path. */
export function writeBatchingFile(dir: string, name: string, params: BatchingParameters): string {
  const path = join(dir, `${name}.txt`);
  writeFileSync(path, [
    `max_batch_size { value: ${params.maxBatchSize} }`,
    `batch_timeout_micros { value: ${params.batchTimeoutMicros} }`,
    `num_batch_threads { value: ${params.numBatchThreads} }`,
    `max_enqueued_batches { value: ${params.maxEnqueuedBatches} }`,
    '',
  ].join('\n'));
  return path;
}

export function describeBatching(params: BatchingParameters): string {
  return `max_batch_size ${params.maxBatchSize}, batch_timeout_micros ${params.batchTimeoutMicros}, num_batch_threads ${params.numBatchThreads}`;
}

/** POSTs `body` once and returns the answer's text; throws unless 200. */
export async function postOnce(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 300)}`);
  return text;
}

export async function stopAll(servers: ReadonlyArray<ServerUnderTest | undefined>): Promise<void> {
  await Promise.all(servers.map((s) => s?.process.stop()));
}
