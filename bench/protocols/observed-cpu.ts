/**
 * `npm run bench:observed-cpu`: where a server with tracing or payload logging on spends its CPU.
 * One tfmodel-server at a time serves half_plus_two (tracing and payload logging off, tracing at
 * 10%, payload logging at 10%, both, and off again as the A/A control), at a fixed offered rate
 * (REST :predict through autocannon -R, or gRPC Predict through unary-load.js at a rate), so the
 * servers measured one after the other get the same requests per second and per loop turn.
 * `tracing@0` (tracing installed, no request sampled) and `tracing@1` (every request) split the
 * 10% figure into what every request pays and what a sampled one does; `logging@1` likewise. Per
 * server: CPU per request by thread from /proc/<pid>/task (`main`: the event loop; `node`: libuv's
 * pool (TF_SessionRun through napi async work, fs writes) and V8's helpers (GC, compiler);
 * `tf_Compute`: TensorFlow's pool), and, when BENCH_CPU_PROF names a folder for
 * the servers' --cpu-prof profiles, the main thread's top self time per request.
 *
 * A mode `MODE:NAME` runs the server NAME=main.js of BENCH_SERVERS (another build, e.g. a variant).
 * BENCH_RATE (2000), BENCH_SECONDS (8), BENCH_TRANSPORT (rest|grpc), BENCH_MODES
 * (off,tracing,logging,both,off; e.g. tracing@0, tracing@1), BENCH_CPU_PROF (a folder: the servers run with --cpu-prof).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { create, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { ManagedProcess } from '../server/launcher.js';
import { autocannonBin } from '../server/load.js';
import { HALF_PLUS_TWO_BASE, REPO_ROOT, SERVER_MAIN } from '../server/paths.js';
import type { UnaryLoadOptions, UnaryLoadReport } from './unary-load.js';
import { freePort } from '../server/targets.js';

const RATE = Number(process.env['BENCH_RATE'] ?? 2000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const TRANSPORT = process.env['BENCH_TRANSPORT'] ?? 'rest';
const MODES: Mode[] = (process.env['BENCH_MODES'] ?? 'off,tracing,logging,both,off').split(',');
const CPU_PROF = process.env['BENCH_CPU_PROF'];
const CONNECTIONS = 16;
/** Another build's server (a variant under test); its modes: `name=path/to/main.js` in BENCH_SERVERS. */
const SERVERS = new Map((process.env['BENCH_SERVERS'] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));

/** `off`, `tracing`, `logging` or `both`, at 10% unless `@RATE` says otherwise (`tracing@0`: installed, nothing sampled). */
type Mode = string;

function parseMode(mode: Mode): { tracing: number | undefined; logging: number | undefined; main: string } {
  const [spec, build] = mode.split(':');
  const [what, rate_] = spec!.split('@');
  const main = build === undefined ? SERVER_MAIN : SERVERS.get(build);
  if (main === undefined) throw new Error(`mode ${mode}: no ${build}=main.js in BENCH_SERVERS`);
  const rate = rate_ === undefined ? 0.1 : Number(rate_);
  if (!['off', 'tracing', 'logging', 'both'].includes(what!) || !(rate >= 0 && rate <= 1)) throw new Error(`unknown mode ${mode}`);
  return { tracing: what === 'tracing' || what === 'both' ? rate : undefined, logging: what === 'logging' || what === 'both' ? rate : undefined, main };
}

/** CPU seconds (user + system) per thread name of a process, from /proc/<pid>/task. */
function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // The main thread (the event loop) has the process' id; libuv's pool and V8's helpers are named `node` too.
      const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return byName;
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`))));
  });
}

/** Offered load for `seconds`; resolves to the answered requests. */
async function offer(rest: number, grpc: number, requestFile: string, seconds: number): Promise<{ requests: number; errors: number }> {
  if (TRANSPORT === 'grpc') {
    const options: UnaryLoadOptions = { address: `127.0.0.1:${grpc}`, path: '/tensorflow.serving.PredictionService/Predict', requestFile, concurrency: CONNECTIONS, channels: 2, seconds, rate: RATE };
    const report = JSON.parse((await run(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'protocols', 'unary-load.js'), JSON.stringify(options)])).trim().split('\n').pop()!) as UnaryLoadReport;
    return { requests: report.requests, errors: report.errors };
  }
  const out = await run(process.execPath, [
    autocannonBin(), '-c', String(CONNECTIONS), '-R', String(RATE), '-d', String(seconds), '-m', 'POST',
    '-H', 'content-type=application/json', '-b', '{"instances":[1.0]}', '-j', `http://127.0.0.1:${rest}/v1/models/half_plus_two:predict`,
  ]);
  const report = JSON.parse(out.trim().split('\n').pop()!) as { requests: { total: number }; errors: number; non2xx: number; timeouts: number };
  return { requests: report.requests.total, errors: report.errors + report.non2xx + report.timeouts };
}

/** Where a frame's code lives: a package, a folder of ours, or node itself. */
function placeOf(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /dist\/(src\/server\/[^/]+(?:\/[^/.]+(?=\/))?)/.exec(url);
  if (ours) return ours[1]!;
  return url.startsWith('node:') ? 'node' : '(native or V8)';
}

interface CpuProfile {
  readonly nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly endTime: number;
}

/**
 * The main thread's profile inside the measured window (`fromMicros`..`toMicros`: V8's profile
 * clock is the monotonic clock process.hrtime reads): non-idle sample time per request, by place
 * (placeOf) and the top functions by self time.
 */
function profileSummary(path: string, requests: number, fromMicros: number, toMicros: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const places = new Map<string, number>();
  let total = 0;
  let at = profile.endTime - profile.timeDeltas.reduce((a, b) => a + b, 0);
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)' || at < fromMicros || at > toMicros) continue;
    const place = placeOf(node.callFrame.url);
    const key = `${node.callFrame.functionName || '(anonymous)'} ${place}`;
    self.set(key, (self.get(key) ?? 0) + micros);
    places.set(place, (places.get(place) ?? 0) + micros);
    total += micros;
  }
  const perRequest = (micros: number): string => (micros / Math.max(1, requests)).toFixed(2);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
  return [
    `  main thread in the measured window: ${perRequest(total)} µs/req sampled (not idle); by place: ${[...places.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${perRequest(v)}`).join(', ')}`,
    ...top.map(([k, v]) => `    ${perRequest(v)} µs/req  ${k}`),
  ].join('\n');
}

const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

async function measure(mode: Mode, work: string, sinkPort: number, requestFile: string): Promise<string> {
  const rest = await freePort();
  const grpc = await freePort();
  const logs = join(work, `logs-${mode.replace(/[@:]/g, '-')}-${Date.now()}`);
  const rates = parseMode(mode);
  const logging = rates.logging !== undefined
    ? ` logging_config { sampling_config { sampling_rate: ${rates.logging} } log_collector_config { type: "tfrecord" filename_prefix: "${join(logs, 'requests')}" } }`
    : '';
  const config = join(work, `${mode.replace(/[@:]/g, '-')}.config`);
  writeFileSync(config, `model_config_list { config { name: "half_plus_two" base_path: "${HALF_PLUS_TWO_BASE}" model_platform: "tensorflow"${logging} } }`);
  const tracing = rates.tracing !== undefined ? [`--tracing_otlp_endpoint=http://127.0.0.1:${sinkPort}`, `--tracing_sampling_rate=${rates.tracing}`] : [];
  const profDir = CPU_PROF ? join(CPU_PROF, `${mode.replace(/[@:]/g, '-')}-${TRANSPORT}-${Date.now()}`) : undefined;
  const server = ManagedProcess.launch({
    label: mode,
    command: process.execPath,
    args: [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), rates.main, '--bind_address=127.0.0.1', `--port=${grpc}`, `--rest_api_port=${rest}`, `--model_config_file=${config}`, ...tracing],
  });
  try {
    await server.waitFor((e) => e.event === 'rest_listening', 120_000);
    await offer(rest, grpc, requestFile, 3);
    const before = threadCpu(server.pid);
    const windowStart = monotonicMicros();
    const { requests, errors } = await offer(rest, grpc, requestFile, SECONDS);
    const windowEnd = monotonicMicros();
    const after = threadCpu(server.pid);
    const per = [...after.entries()].map(([name, cpu]) => [name, ((cpu - (before.get(name) ?? 0)) * 1e6) / Math.max(1, requests)] as const).sort((a, b) => b[1] - a[1]);
    const total = per.reduce((a, [, v]) => a + v, 0);
    let line = `${mode} (${TRANSPORT}): ${requests} requests (${(requests / SECONDS).toFixed(0)}/s, ${errors} errors); server CPU µs per request ${total.toFixed(0)}: ${per.filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`;
    await server.stop();
    if (profDir) {
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) line += `\n${profileSummary(join(profDir, file), requests, windowStart, windowEnd)}`;
    }
    return line;
  } finally {
    await server.stop();
    rmSync(logs, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tfmodel-observed-cpu-'));
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });
  const sink = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const request = create(PredictRequestSchema, {
    modelSpec: { name: 'half_plus_two' },
    inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n, name: '' }] }, tensorContent: new Uint8Array(Float32Array.of(1).buffer) } },
  });
  const requestFile = join(work, 'predict.bin');
  writeFileSync(requestFile, toBinary(PredictRequestSchema, request));
  console.log(`# observed-cpu ${new Date().toISOString()}: ${TRANSPORT}, ${RATE} req/s offered, ${SECONDS} s per server; load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (const mode of MODES) console.log(await measure(mode, work, (sink.address() as { port: number }).port, requestFile));
  } finally {
    sink.close();
    rmSync(work, { recursive: true, force: true });
    console.log(`# load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
