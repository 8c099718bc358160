/**
 * `npm run bench:protocols`: in one run, on real tfmodel-server processes,
 * 1. the Open Inference Protocol against TF Serving's API on the same server (REST JSON: :predict
 *    vs /v2/.../infer; gRPC: Predict vs ModelInfer with raw contents, both with raw tensor bytes),
 *    on half_plus_two and ResNet50 (target >= 0.9x);
 * 2. tracing at 10% sampling (OTLP/HTTP to a local sink), payload logging at 10% (TFRecord) and
 *    both together against a server with both off (its own, warmed like them), on REST and gRPC
 *    Predict (target >= 0.9x), beside a second server with both off (the A/A control: the spread
 *    between two identical servers in the same run);
 * 3. what tracing, payload logging and the OIP REST and gRPC codecs add per request in CPU (costs.ts,
 *    in-process; steady where throughput on a shared machine is not).
 * Contestants alternate round by round, the order rotated and reversed (paired.ts; the machine is noisy);
 * each ratio is the median over rounds of the ratio within a round, and the server CPU per
 * request ratio is quoted beside it (less disturbed by other load on a shared machine). Every
 * server serves each workload a while before anything is measured, and each measured run has its
 * own warm-up second. Prints a markdown report and writes dist/bench-results/protocols.json.
 * BENCH_SECONDS, BENCH_ROUNDS, BENCH_MODELS=half_plus_two,resnet50 and
 * BENCH_SECTIONS=protocols,observability,costs adjust it.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelInferRequestSchema } from '../../src/gen/inference/grpc_service_pb.js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { benchModels } from '../runtime/models.js';
import { ManagedProcess } from '../server/launcher.js';
import { type LoadResult, measureRest } from '../server/load.js';
import { HALF_PLUS_TWO_BASE, REPO_ROOT, RESULTS_DIR, SERVER_MAIN, progress } from '../server/paths.js';
import type { Contestant, ContestantSummary } from '../server/rounds.js';
import { median } from '../server/stats.js';
import { type CallCost, type CostWorkload, grpcCodecCost, payloadLogCost, restCodecCost, tracingCost } from './costs.js';
import { type PairedRatio, alternateRotating, pairedRatio } from './paired.js';
import type { UnaryLoadOptions, UnaryLoadReport } from './unary-load.js';
import { freePort } from '../server/targets.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const MODELS = (process.env['BENCH_MODELS'] ?? 'half_plus_two,resnet50').split(',');
const SECTIONS = (process.env['BENCH_SECTIONS'] ?? 'protocols,observability,costs').split(',');
const TARGET = 0.9;

interface Workload {
  readonly key: string;
  readonly model: string;
  readonly alias: string;
  readonly output: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
  readonly connections: number;
}

interface Served {
  readonly process: ManagedProcess;
  readonly rest: number;
  readonly grpc: number;
}

async function startServer(label: string, config: string, extra: string[]): Promise<Served> {
  const rest = await freePort();
  const grpc = await freePort();
  const process_ = ManagedProcess.launch({
    label,
    command: process.execPath,
    args: [SERVER_MAIN, '--bind_address=127.0.0.1', `--port=${grpc}`, `--rest_api_port=${rest}`, `--model_config_file=${config}`, ...extra],
  });
  await process_.waitFor((e) => e.event === 'rest_listening', 600_000);
  return { process: process_, rest, grpc };
}

function nested(values: Float32Array, shape: readonly number[]): unknown {
  if (shape.length === 1) return Array.from(values);
  const step = values.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nested(values.subarray(i * step, (i + 1) * step), shape.slice(1)));
}

const bytesOf = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

function tfRestBody(w: Workload): string {
  return JSON.stringify({ instances: nested(w.values, w.shape) });
}

function oipRestBody(w: Workload): string {
  return JSON.stringify({ inputs: [{ name: w.alias, datatype: 'FP32', shape: w.shape, data: Array.from(w.values) }] });
}

function tfGrpcRequest(w: Workload): string {
  const request = create(PredictRequestSchema, {
    modelSpec: { name: w.model },
    inputs: { [w.alias]: { dtype: DataType.DT_FLOAT, tensorShape: { dim: w.shape.map((size) => ({ size: BigInt(size), name: '' })) }, tensorContent: bytesOf(w.values) } },
  });
  return Buffer.from(toBinary(PredictRequestSchema, request)).toString('base64');
}

function oipGrpcRequest(w: Workload): string {
  const request = create(ModelInferRequestSchema, {
    modelName: w.model,
    inputs: [{ name: w.alias, datatype: 'FP32', shape: w.shape.map(BigInt) }],
    rawInputContents: [bytesOf(w.values)],
  });
  return Buffer.from(toBinary(ModelInferRequestSchema, request)).toString('base64');
}

const requestFiles = new Map<string, string>();

function requestFileOf(requestBase64: string): string {
  let path = requestFiles.get(requestBase64);
  if (path === undefined) {
    path = join(mkdtempSync(join(tmpdir(), 'tfmodel-bench-grpc-')), 'request.bin');
    writeFileSync(path, Buffer.from(requestBase64, 'base64'));
    requestFiles.set(requestBase64, path);
  }
  return path;
}

function grpcMeasure(served: Served, path: string, requestBase64: string, concurrency: number): () => Promise<LoadResult> {
  return async () => {
    const options: UnaryLoadOptions = { address: `127.0.0.1:${served.grpc}`, path, requestFile: requestFileOf(requestBase64), concurrency, channels: 2, seconds: SECONDS };
    await runUnaryLoad({ ...options, seconds: 1 });
    const cpuBefore = served.process.cpuSeconds();
    const machineBefore = machineJiffies();
    const report = await runUnaryLoad(options);
    const cpu = served.process.cpuSeconds() - cpuBefore;
    const machine = machineJiffies();
    return {
      rps: report.rps, requests: report.requests, seconds: report.seconds, p50Ms: report.p50Ms, p99Ms: report.p99Ms,
      errors: report.errors, ...(report.firstError ? { firstError: report.firstError } : {}),
      serverCpuMicrosPerRequest: report.requests > 0 ? (cpu * 1e6) / report.requests : Number.NaN,
      generatorCpuMicrosPerRequest: report.generatorCpuMicrosPerRequest,
      serverCores: cpu / report.seconds,
      machineCores: ((machine.busy - machineBefore.busy) / Math.max(1, machine.total - machineBefore.total)) * availableParallelism(),
    };
  };
}

/** Busy and total jiffies of all CPUs together (/proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

function runUnaryLoad(options: UnaryLoadOptions): Promise<UnaryLoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'protocols', 'unary-load.js'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as UnaryLoadReport) : reject(new Error(`unary-load exited ${code}`))));
  });
}

function restMeasure(served: Served, path: string, body: string, connections: number): () => Promise<LoadResult> {
  return () => measureRest(served.process, { url: `http://127.0.0.1:${served.rest}${path}`, body, connections, seconds: SECONDS, warmupSeconds: 1 });
}

function workloads(): Workload[] {
  const list: Workload[] = [];
  if (MODELS.includes('half_plus_two')) {
    list.push({ key: 'half_plus_two', model: 'half_plus_two', alias: 'x', output: 'y', shape: [1], values: Float32Array.of(1), connections: 16 });
  }
  if (MODELS.includes('resnet50')) {
    const [resnet] = benchModels(['resnet50']);
    const input = resnet!.inputs[0]!;
    const shape = [1, ...input.exampleShape];
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7919) % 1000) / 1000);
    list.push({ key: 'resnet50', model: 'resnet50', alias: input.alias, output: '', shape, values, connections: 4 });
  }
  return list;
}

function modelConfig(dir: string, list: readonly Workload[], logging?: string): string {
  const resnet = MODELS.includes('resnet50') ? benchModels(['resnet50'])[0]! : undefined;
  const configs = list.map((w) => {
    let base = HALF_PLUS_TWO_BASE;
    if (w.key === 'resnet50') {
      // A base path whose version 1 is the generated model directory.
      base = join(dir, 'resnet50');
      mkdirSync(base, { recursive: true });
      // A symlinked version directory is skipped by the version source: copy it.
      if (!existsSync(join(base, '1'))) cpSync(resnet!.dir, join(base, '1'), { recursive: true });
    }
    const logs = logging ? ` logging_config { sampling_config { sampling_rate: 0.1 } log_collector_config { type: "tfrecord" filename_prefix: "${join(logging, w.key, 'requests')}" } }` : '';
    return `config { name: "${w.model}" base_path: "${base}" model_platform: "tensorflow"${logs} }`;
  });
  const path = join(dir, `models-${logging ? basename(logging) : 'plain'}.config`);
  writeFileSync(path, `model_config_list { ${configs.join(' ')} }`);
  return path;
}

interface Section {
  readonly title: string;
  readonly summaries: ContestantSummary[];
  readonly ratios: PairedRatio[];
}

/** The same server, one workload: TF Serving's REST and gRPC API against the protocol's. */
async function protocolsSection(w: Workload, plain: Served): Promise<Section> {
  const contestants: Contestant[] = [
    { key: 'tf-rest', label: 'TF Serving REST :predict', note: 'JSON instances', measure: restMeasure(plain, `/v1/models/${w.model}:predict`, tfRestBody(w), w.connections) },
    { key: 'oip-rest', label: 'OIP REST /v2/.../infer', note: 'JSON data', measure: restMeasure(plain, `/v2/models/${w.model}/infer`, oipRestBody(w), w.connections) },
    { key: 'tf-grpc', label: 'TF Serving gRPC Predict', note: 'tensor_content', measure: grpcMeasure(plain, '/tensorflow.serving.PredictionService/Predict', tfGrpcRequest(w), w.connections) },
    { key: 'oip-grpc', label: 'OIP gRPC ModelInfer', note: 'raw_input_contents', measure: grpcMeasure(plain, '/inference.GRPCInferenceService/ModelInfer', oipGrpcRequest(w), w.connections) },
  ];
  const summaries = await alternateRotating(`${w.key}: protocols`, contestants, ROUNDS);
  const by = (k: string) => summaries.find((s) => s.key === k);
  return {
    title: `${w.key}: the Open Inference Protocol vs TF Serving's API (same server)`,
    summaries,
    ratios: [
      pairedRatio(`${w.key} OIP REST / TF REST`, by('oip-rest'), by('tf-rest')),
      pairedRatio(`${w.key} OIP gRPC / TF gRPC`, by('oip-grpc'), by('tf-grpc')),
    ],
  };
}

interface ObservedServers {
  readonly off: Served;
  /** A second server with both off (the A/A control: how far two identical servers differ in one run). */
  readonly control: Served;
  readonly tracing: Served;
  readonly logging: Served;
  /** Tracing at 10% and payload logging at 10% together (the configuration). */
  readonly both: Served;
}

/** Tracing at 10%, payload logging at 10% and both together (servers of their own) against both off, on REST and gRPC Predict. */
async function observabilitySection(w: Workload, servers: ObservedServers): Promise<Section> {
  const predict = `/v1/models/${w.model}:predict`;
  const grpcPredict = '/tensorflow.serving.PredictionService/Predict';
  const rest = (served: Served) => restMeasure(served, predict, tfRestBody(w), w.connections);
  const grpc = (served: Served) => grpcMeasure(served, grpcPredict, tfGrpcRequest(w), w.connections);
  const observed: Contestant[] = [
    { key: 'off', label: 'tracing and logging off', note: '', measure: rest(servers.off) },
    { key: 'control', label: 'off, a second server (A/A control)', note: '', measure: rest(servers.control) },
    { key: 'tracing', label: 'tracing at 10%', note: 'OTLP/HTTP to a local sink', measure: rest(servers.tracing) },
    { key: 'logging', label: 'payload logging at 10%', note: 'TFRecord files', measure: rest(servers.logging) },
    { key: 'both', label: 'tracing 10% + payload logging 10%', note: '', measure: rest(servers.both) },
    { key: 'off-grpc', label: 'off (gRPC)', note: '', measure: grpc(servers.off) },
    { key: 'control-grpc', label: 'off, a second server (A/A control, gRPC)', note: '', measure: grpc(servers.control) },
    { key: 'tracing-grpc', label: 'tracing at 10% (gRPC)', note: '', measure: grpc(servers.tracing) },
    { key: 'logging-grpc', label: 'payload logging at 10% (gRPC)', note: '', measure: grpc(servers.logging) },
    { key: 'both-grpc', label: 'tracing 10% + payload logging 10% (gRPC)', note: '', measure: grpc(servers.both) },
  ];
  const summaries = await alternateRotating(`${w.key}: observability`, observed, ROUNDS);
  const by = (k: string) => summaries.find((s) => s.key === k);
  return {
    title: `${w.key}: tracing and payload logging at 10% vs off (REST and gRPC Predict)`,
    summaries,
    ratios: [
      pairedRatio(`${w.key} A/A control: off (second server) / off (REST)`, by('control'), by('off')),
      pairedRatio(`${w.key} tracing 10% / off (REST)`, by('tracing'), by('off')),
      pairedRatio(`${w.key} payload logging 10% / off (REST)`, by('logging'), by('off')),
      pairedRatio(`${w.key} tracing 10% + payload logging 10% / both off (REST)`, by('both'), by('off')),
      pairedRatio(`${w.key} A/A control: off (second server) / off (gRPC)`, by('control-grpc'), by('off-grpc')),
      pairedRatio(`${w.key} tracing 10% / off (gRPC)`, by('tracing-grpc'), by('off-grpc')),
      pairedRatio(`${w.key} payload logging 10% / off (gRPC)`, by('logging-grpc'), by('off-grpc')),
      pairedRatio(`${w.key} tracing 10% + payload logging 10% / both off (gRPC)`, by('both-grpc'), by('off-grpc')),
    ],
  };
}

/** The observability section's servers: both off, tracing 10%, payload logging 10%, both on. */
async function observedServers(work: string, list: readonly Workload[], sinkPort: number, servers: Served[]): Promise<ObservedServers> {
  const plainConfig = modelConfig(work, list);
  const tracingFlags = [`--tracing_otlp_endpoint=http://127.0.0.1:${sinkPort}`, '--tracing_sampling_rate=0.1'];
  const start = async (label: string, config: string, flags: string[]): Promise<Served> => {
    const served = await startServer(label, config, flags);
    servers.push(served);
    return served;
  };
  // The baseline is a server of its own, warmed and loaded exactly as the tracing and logging
  // servers (the plain server also serves the whole protocols section).
  return {
    off: await start('off', plainConfig, []),
    control: await start('control', plainConfig, []),
    tracing: await start('tracing', plainConfig, tracingFlags),
    logging: await start('logging', modelConfig(work, list, join(work, 'logs')), []),
    both: await start('both', modelConfig(work, list, join(work, 'logs-both')), tracingFlags),
  };
}

/**
 * Starts the servers the sections asked for need (the plain one for protocols; four more for
 * observability), warms them up, and runs those sections.
 */
async function throughputSections(work: string, list: readonly Workload[], sinkPort: number, servers: Served[]): Promise<Section[]> {
  const wantsProtocols = SECTIONS.includes('protocols');
  const wantsObservability = SECTIONS.includes('observability');
  progress(`starting servers (${[wantsProtocols ? 'plain' : '', wantsObservability ? 'off twice (A/A), tracing 10%, payload logging 10%, both' : ''].filter(Boolean).join(', ')})`);
  let plain: Served | undefined;
  if (wantsProtocols) {
    plain = await startServer('plain', modelConfig(work, list), []);
    servers.push(plain);
  }
  const observed = wantsObservability ? await observedServers(work, list, sinkPort, servers) : undefined;

  // Every server serves each workload a while before anything is measured (JIT, first
  // allocations): the plain server on all four APIs, the others on the two they are measured on.
  progress('warming every server up');
  for (const w of list) {
    for (const served of servers) {
      await restMeasure(served, `/v1/models/${w.model}:predict`, tfRestBody(w), w.connections)();
      await grpcMeasure(served, '/tensorflow.serving.PredictionService/Predict', tfGrpcRequest(w), w.connections)();
    }
    if (plain) {
      await restMeasure(plain, `/v2/models/${w.model}/infer`, oipRestBody(w), w.connections)();
      await grpcMeasure(plain, '/inference.GRPCInferenceService/ModelInfer', oipGrpcRequest(w), w.connections)();
    }
  }
  const sections: Section[] = [];
  for (const w of list) {
    if (plain) sections.push(await protocolsSection(w, plain));
    if (observed) sections.push(await observabilitySection(w, observed));
  }
  return sections;
}

async function main(): Promise<void> {
  const started = Date.now();
  const load = loadavg();
  const work = mkdtempSync(join(tmpdir(), 'tfmodel-bench-protocols-'));
  const sink = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkPort = (sink.address() as { port: number }).port;
  const servers: Served[] = [];
  try {
    const list = workloads();
    const sections: Section[] = [];
    if (SECTIONS.includes('protocols') || SECTIONS.includes('observability')) sections.push(...await throughputSections(work, list, sinkPort, servers));
    const costs: Array<CallCost & { readonly baseMicros: number; readonly cpuBoundRatio: number }> = [];
    if (SECTIONS.includes('costs')) {
      progress('CPU per call of tracing, payload logging and the OIP REST and gRPC codecs (in-process)');
      const baseOf = (key: string, title: string): number =>
        sections.find((s) => s.title.startsWith(title))?.summaries.find((s) => s.key === key)?.serverCpuMicrosPerRequest ?? Number.NaN;
      const withBase = (cost: CallCost, base: number) => ({ ...cost, baseMicros: base, cpuBoundRatio: base / (base + cost.addedMicros) });
      for (const w of list) {
        const workload: CostWorkload = { key: w.key, alias: w.alias, shape: w.shape, values: w.values, outputShape: w.key === 'resnet50' ? [1, 1000] : [1], tfBody: tfRestBody(w), oipBody: oipRestBody(w), calls: w.key === 'resnet50' ? 20 : 10_000 };
        const observedBase = baseOf('off', `${w.key}: tracing`);
        if (w.key === list[0]!.key) costs.push(withBase(await tracingCost(0.1), observedBase));
        costs.push(withBase(await payloadLogCost(workload, 0.1), observedBase));
        costs.push(withBase(await restCodecCost(workload), baseOf('tf-rest', `${w.key}: the Open`)));
        costs.push(withBase(await grpcCodecCost(workload), baseOf('tf-grpc', `${w.key}: the Open`)));
      }
    }

    const lines = [`# tfmodel-server: protocols and observability (${new Date(started).toISOString()}, load average before ${load.map((l) => l.toFixed(2)).join(' ')})`, ''];
    lines.push('Server cores below ~0.9 with machine cores at the core count mean the machine, not the server, set the pace: such ratios say little.', '');
    lines.push(`${ROUNDS} rounds of ${SECONDS} s per contestant, the order rotated and reversed (paired.ts: each pair runs in both orders); req/s and CPU are medians over rounds, each ratio the median over rounds of the ratio within a round (CPU ratio: the denominator's server CPU per request over the numerator's). Target: every ratio >= ${TARGET}.`, '');
    for (const section of sections) {
      lines.push(`## ${section.title}`, '', '| contestant | req/s | p50 ms | p99 ms | errors | server CPU µs/req | load generator CPU µs/req | server cores | machine cores |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const s of section.summaries) {
        const machine = median(s.rounds.map((r) => r.machineCores).filter((c) => Number.isFinite(c)));
        // autocannon (REST) does not report its CPU: only our gRPC generator does.
        const generator = median(s.rounds.map((r) => r.generatorCpuMicrosPerRequest ?? Number.NaN).filter((c) => Number.isFinite(c)));
        const generatorText = Number.isFinite(generator) ? generator.toFixed(0) : 'n/a';
        lines.push(`| ${s.label} | ${s.rps.toFixed(1)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.errors} | ${s.serverCpuMicrosPerRequest.toFixed(0)} | ${generatorText} | ${s.serverCores.toFixed(2)} | ${machine.toFixed(2)} |`);
      }
      lines.push('');
      for (const r of section.ratios) {
        lines.push(`- ${r.what}: **${r.ratio.toFixed(2)}x** ${r.ratio >= TARGET ? 'meets' : 'MISSES'} >= ${TARGET} (rounds ${r.perRound.map((x) => x.toFixed(2)).join(' ')}; CPU per request ${r.cpuRatio.toFixed(2)}x)`);
      }
      lines.push('');
    }
    if (costs.length > 0) {
      lines.push('## CPU per request added (in-process, medians of 5; the base is the server CPU per request measured above)', '');
      lines.push('| what | with µs | without µs | added µs | base µs/req | CPU-bound ratio base/(base+added) |', '|---|---:|---:|---:|---:|---:|');
      for (const c of costs) {
        lines.push(`| ${c.what} | ${c.withMicros.toFixed(2)} | ${c.withoutMicros.toFixed(2)} | ${c.addedMicros.toFixed(2)} | ${c.baseMicros.toFixed(0)} | ${c.cpuBoundRatio.toFixed(3)} |`);
      }
      lines.push('');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'protocols.json'), `${JSON.stringify({ startedAt: new Date(started).toISOString(), seconds: SECONDS, rounds: ROUNDS, sections, costs }, null, 2)}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.process.stop()));
    sink.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
