/**
 * The load generators, each its own process so that it takes one of the machine's cores like the
 * server does: autocannon (REST; a pinned devDependency run with node directly), rest-load.js (REST over raw sockets, for the Flask comparison) and grpc-load.js
 * (gRPC). Each measured run is preceded by an unmeasured warm-up run; the server's CPU time and
 * the machine's are read around the measured run only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GrpcLoadOptions, GrpcLoadReport } from './grpc-load.js';
import type { ManagedProcess } from './launcher.js';
import { BENCH_DIST } from './paths.js';
import type { RestLoadOptions, RestLoadReport } from './rest-load.js';

/** The devDependency's version, recorded in the report. */
export const AUTOCANNON_VERSION: string = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;

export interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Transport errors, timeouts, non-2xx answers and wrong answers. */
  readonly errors: number;
  readonly firstError?: string;
  /** Server CPU (all threads, user + system) per answered request, in microseconds. */
  readonly serverCpuMicrosPerRequest: number;
  /** Server CPU seconds per wall second while measured (2 = both cores). */
  readonly serverCores: number;
  /** Busy CPU of the whole machine per wall second while measured: above server + generator means other load. */
  readonly machineCores: number;
  /** The load generator's CPU per request, where it reports it (rest-load.js, grpc-load.js). */
  readonly generatorCpuMicrosPerRequest?: number;
}

export interface RestLoadSpec {
  readonly url: string;
  readonly body: string;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

export interface GrpcLoadSpec extends Omit<GrpcLoadOptions, 'seconds'> {
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** The autocannon CLI script of the pinned devDependency. */
export function autocannonBin(): string {
  return createRequire(import.meta.url).resolve('autocannon/autocannon.js');
}

/** Runs a child to completion and returns its stdout; rejects on a non-zero exit. */
function runToCompletion(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ').slice(0, 200)} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

const lastJsonLine = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop()!) as T;

/** Busy and total jiffies of all CPUs together, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Reads the server's and the machine's CPU around one measured run. */
class CpuMeter {
  private readonly server: number;
  private readonly machine = machineJiffies();

  constructor(private readonly process_: ManagedProcess) {
    this.server = process_.cpuSeconds();
  }

  finish(requests: number, seconds: number): Pick<LoadResult, 'serverCpuMicrosPerRequest' | 'serverCores' | 'machineCores'> {
    const cpu = this.process_.cpuSeconds() - this.server;
    const machine = machineJiffies();
    const busyShare = (machine.busy - this.machine.busy) / Math.max(1, machine.total - this.machine.total);
    return {
      serverCpuMicrosPerRequest: requests > 0 ? (cpu * 1e6) / requests : Number.NaN,
      serverCores: cpu / seconds,
      machineCores: busyShare * availableParallelism(),
    };
  }
}

interface AutocannonReport {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly requests: { readonly total: number };
  readonly '2xx': number;
}

function autocannon(spec: RestLoadSpec, seconds: number): Promise<AutocannonReport> {
  // A large body (ResNet50's JSON) does not fit a command line: autocannon reads it from a file.
  const body = spec.body.length > 64 * 1024 ? ['--input', bodyFile(spec.body)] : ['--body', spec.body];
  const args = [
    autocannonBin(),
    '--connections', String(spec.connections),
    '--duration', String(seconds),
    '--method', 'POST',
    '--headers', 'content-type=application/json',
    ...body,
    '--json',
    spec.url,
  ];
  return runToCompletion(process.execPath, args).then((stdout) => lastJsonLine<AutocannonReport>(stdout));
}

const bodyFiles = new Map<string, string>();

function bodyFile(body: string): string {
  let path = bodyFiles.get(body);
  if (path === undefined) {
    path = join(mkdtempSync(join(tmpdir(), 'tfmodel-bench-body-')), 'body.json');
    writeFileSync(path, body);
    bodyFiles.set(body, path);
  }
  return path;
}

/** autocannon against `spec.url`: a warm-up run, then the measured one. */
export async function measureRest(server: ManagedProcess, spec: RestLoadSpec, onMeasuredStart?: () => void): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await autocannon(spec, spec.warmupSeconds);
  onMeasuredStart?.();
  const meter = new CpuMeter(server);
  const report = await autocannon(spec, spec.seconds);
  const ok = report['2xx'];
  return {
    rps: ok / report.duration,
    requests: ok,
    seconds: report.duration,
    p50Ms: report.latency.p50,
    p99Ms: report.latency.p99,
    errors: report.errors + report.timeouts + report.non2xx,
    ...meter.finish(report.requests.total, report.duration),
  };
}

/** One of our generator children (rest-load.js or grpc-load.js) with its options as JSON. */
function nodeGenerator<R>(script: string, options: object): Promise<R> {
  return runToCompletion(process.execPath, [join(BENCH_DIST, script), JSON.stringify(options)]).then((stdout) => lastJsonLine<R>(stdout));
}

type GeneratorReport = RestLoadReport | GrpcLoadReport;

function fromGeneratorReport(report: GeneratorReport, meter: CpuMeter): LoadResult {
  return {
    rps: report.rps,
    requests: report.requests,
    seconds: report.seconds,
    p50Ms: report.p50Ms,
    p99Ms: report.p99Ms,
    errors: report.errors,
    ...(report.firstError !== undefined ? { firstError: report.firstError } : {}),
    ...meter.finish(report.requests, report.seconds),
    generatorCpuMicrosPerRequest: (report.generatorCpuSeconds * 1e6) / Math.max(1, report.requests),
  };
}

/** rest-load.js against `spec.url`: a warm-up run, then the measured one. */
export async function measureRestRaw(server: ManagedProcess, spec: RestLoadSpec): Promise<LoadResult> {
  const options = (seconds: number): RestLoadOptions => ({ url: spec.url, body: spec.body, connections: spec.connections, seconds });
  if (spec.warmupSeconds > 0) await nodeGenerator<RestLoadReport>('rest-load.js', options(spec.warmupSeconds));
  const meter = new CpuMeter(server);
  return fromGeneratorReport(await nodeGenerator<RestLoadReport>('rest-load.js', options(spec.seconds)), meter);
}

/** grpc-load.js against `spec.address`: a warm-up run, then the measured one. */
export async function measureGrpc(server: ManagedProcess, spec: GrpcLoadSpec, onMeasuredStart?: () => void): Promise<LoadResult> {
  const options = (seconds: number): GrpcLoadOptions => ({
    address: spec.address,
    modelName: spec.modelName,
    concurrency: spec.concurrency,
    channels: spec.channels,
    seconds,
    expect: spec.expect,
    ...(spec.requestFile ? { requestFile: spec.requestFile } : {}),
  });
  if (spec.warmupSeconds > 0) await nodeGenerator<GrpcLoadReport>('grpc-load.js', options(spec.warmupSeconds));
  onMeasuredStart?.();
  const meter = new CpuMeter(server);
  return fromGeneratorReport(await nodeGenerator<GrpcLoadReport>('grpc-load.js', options(spec.seconds)), meter);
}
