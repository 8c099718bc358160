/**
 * `npm run bench:routing`: the cost of weighted routing and shadowing. Two tfmodel-server
 * processes serve half_plus_two as versions 123 and 124 with label stable -> 123: one with plain
 * labels, one whose routing config sends 10% of stable to 124 (canary) and copies 20% to 124
 * (shadow, outputs compared), and a second plain-labels server as the A/A control (report.ts).
 * REST :predict and gRPC Predict through the label, contestants alternated round by round;
 * medians of each round's pair. Target: routed / plain >= 0.9x on both transports.
 * BENCH_SECONDS and BENCH_ROUNDS adjust it; writes dist/bench-results/routing.json.
 *
 * BENCH_BASELINE_SERVER=<another build's dist/src/server/main.js> adds a fourth server, that
 * build with the same routing config (TFMODEL_CACHE_DIR=$BENCH_BASELINE_CACHE_DIR when set, for
 * its own native addon), and reports this build's routed server against it in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { ManagedProcess } from '../server/launcher.js';
import { type LoadResult, measureRest } from '../server/load.js';
import { REPO_ROOT, RESULTS_DIR, SERVER_MAIN, progress } from '../server/paths.js';
import { type Contestant, alternate } from '../server/rounds.js';
import type { UnaryLoadOptions, UnaryLoadReport } from '../protocols/unary-load.js';
import { pairRatio, reportLines } from './report.js';
import { freePort } from '../server/targets.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TARGET = 0.9;
const CONNECTIONS = 16;
const BASE = join(REPO_ROOT, 'test', 'models', 'half_plus_two_2_versions');
const BASELINE_SERVER = process.env['BENCH_BASELINE_SERVER'];
const BASELINE_CACHE_DIR = process.env['BENCH_BASELINE_CACHE_DIR'];
const ROUTING = { models: { half: { labels: { stable: { canaries: [{ version: 124, percent: 10 }], shadow: { version: 124, percent: 20 } } } } } };

interface Served {
  readonly process: ManagedProcess;
  readonly rest: number;
  readonly grpc: number;
}

async function startServer(label: string, config: string, extra: string[], main = SERVER_MAIN, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const rest = await freePort();
  const grpc = await freePort();
  const child = ManagedProcess.launch({
    label,
    command: process.execPath,
    env,
    args: [main, '--bind_address=127.0.0.1', `--port=${grpc}`, `--rest_api_port=${rest}`, `--model_config_file=${config}`, '--monitoring_config_file=' + config.replace(/models\.config$/, 'monitoring.config'), ...extra],
  });
  await child.waitFor((e) => e.event === 'rest_listening', 600_000);
  return { process: child, rest, grpc };
}

function runUnaryLoad(options: UnaryLoadOptions): Promise<UnaryLoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'protocols', 'unary-load.js'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as UnaryLoadReport) : reject(new Error(`unary-load exited ${code}`))));
  });
}

function grpcMeasure(served: Served, requestFile: string): () => Promise<LoadResult> {
  return async () => {
    const options: UnaryLoadOptions = { address: `127.0.0.1:${served.grpc}`, path: '/tensorflow.serving.PredictionService/Predict', requestFile, concurrency: CONNECTIONS, channels: 2, seconds: SECONDS };
    await runUnaryLoad({ ...options, seconds: 1 });
    const cpuBefore = served.process.cpuSeconds();
    const report = await runUnaryLoad(options);
    const cpu = served.process.cpuSeconds() - cpuBefore;
    return {
      rps: report.rps, requests: report.requests, seconds: report.seconds, p50Ms: report.p50Ms, p99Ms: report.p99Ms,
      errors: report.errors, ...(report.firstError ? { firstError: report.firstError } : {}),
      serverCpuMicrosPerRequest: report.requests > 0 ? (cpu * 1e6) / report.requests : Number.NaN,
      serverCores: cpu / report.seconds, machineCores: Number.NaN,
    };
  };
}

function restMeasure(served: Served): () => Promise<LoadResult> {
  return () => measureRest(served.process, { url: `http://127.0.0.1:${served.rest}/v1/models/half/labels/stable:predict`, body: '{"instances":[1.0]}', connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: 1 });
}

async function main(): Promise<void> {
  const started = Date.now();
  const load = loadavg();
  const work = mkdtempSync(join(tmpdir(), 'tfmodel-bench-routing-'));
  const servers: Served[] = [];
  try {
    const config = join(work, 'models.config');
    writeFileSync(config, `model_config_list { config { name: "half" base_path: "${BASE}" model_platform: "tensorflow" model_version_policy { all {} } version_labels { key: "stable" value: 123 } } }`);
    writeFileSync(join(work, 'monitoring.config'), 'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }');
    const routingFile = join(work, 'routing.json');
    writeFileSync(routingFile, JSON.stringify(ROUTING));
    const request = create(PredictRequestSchema, {
      modelSpec: { name: 'half', versionChoice: { case: 'versionLabel', value: 'stable' } },
      inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n, name: '' }] }, floatVal: [1] } },
    });
    const requestFile = join(work, 'predict.bin');
    writeFileSync(requestFile, toBinary(PredictRequestSchema, request));

    progress('starting servers (plain labels; 10% canary + 20% shadow; plain labels again, the control)');
    const plain = await startServer('plain', config, []);
    servers.push(plain);
    const routed = await startServer('routed', config, [`--routing_config_file=${routingFile}`]);
    servers.push(routed);
    const control = await startServer('control', config, []);
    servers.push(control);
    const baseline = BASELINE_SERVER === undefined ? undefined
      : await startServer('baseline', config, [`--routing_config_file=${routingFile}`], BASELINE_SERVER, BASELINE_CACHE_DIR ? { TFMODEL_CACHE_DIR: BASELINE_CACHE_DIR } : {});
    if (baseline) servers.push(baseline);
    progress('warming both servers up');
    for (const served of servers) {
      await restMeasure(served)();
      await grpcMeasure(served, requestFile)();
    }
    const contestants: Contestant[] = [
      { key: 'plain-rest', label: 'plain labels, REST', note: '', measure: restMeasure(plain) },
      { key: 'routed-rest', label: '10% canary + 20% shadow, REST', note: '', measure: restMeasure(routed) },
      { key: 'control-rest', label: 'plain labels, second server (control), REST', note: '', measure: restMeasure(control) },
      { key: 'plain-grpc', label: 'plain labels, gRPC', note: '', measure: grpcMeasure(plain, requestFile) },
      { key: 'routed-grpc', label: '10% canary + 20% shadow, gRPC', note: '', measure: grpcMeasure(routed, requestFile) },
      { key: 'control-grpc', label: 'plain labels, second server (control), gRPC', note: '', measure: grpcMeasure(control, requestFile) },
      ...(baseline ? [
        { key: 'baseline-rest', label: '10% canary + 20% shadow, baseline build, REST', note: '', measure: restMeasure(baseline) },
        { key: 'baseline-grpc', label: '10% canary + 20% shadow, baseline build, gRPC', note: '', measure: grpcMeasure(baseline, requestFile) },
      ] : []),
    ];
    const summaries = await alternate('routing', contestants, ROUNDS);
    const by = (k: string) => summaries.find((s) => s.key === k)!;
    const ratios = [
      pairRatio('REST routed / plain', by('routed-rest'), by('plain-rest')),
      pairRatio('REST control / plain', by('control-rest'), by('plain-rest')),
      pairRatio('gRPC routed / plain', by('routed-grpc'), by('plain-grpc')),
      pairRatio('gRPC control / plain', by('control-grpc'), by('plain-grpc')),
      ...(baseline ? [
        pairRatio('REST routed / routed of the baseline build', by('routed-rest'), by('baseline-rest')),
        pairRatio('REST baseline build routed / plain', by('baseline-rest'), by('plain-rest')),
        pairRatio('gRPC routed / routed of the baseline build', by('routed-grpc'), by('baseline-grpc')),
        pairRatio('gRPC baseline build routed / plain', by('baseline-grpc'), by('plain-grpc')),
      ] : []),
    ];
    const metrics = await (await fetch(`http://127.0.0.1:${routed.rest}/monitoring/prometheus/metrics`)).text();
    const shadowLines = metrics.split('\n').filter((l) => l.startsWith('tfmodel_shadow_requests_total{') || l.startsWith('tfmodel_version_requests_total{'));

    const lines = [`# tfmodel-server: routing and shadowing cost (${new Date(started).toISOString()}, load average before ${load.map((l) => l.toFixed(2)).join(' ')})`, ''];
    lines.push(`half_plus_two through /labels/stable, ${CONNECTIONS} connections; ${ROUNDS} alternated rounds of ${SECONDS} s; medians. Target >= ${TARGET}.`, '');
    lines.push(...reportLines(summaries, ratios, TARGET));
    lines.push('', `Load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
    lines.push('', 'The routed server\'s own counts (canary split and shadow copies run / dropped):', '', '```', ...shadowLines, '```');
    process.stdout.write(`${lines.join('\n')}\n`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'routing.json'), `${JSON.stringify({ startedAt: new Date(started).toISOString(), seconds: SECONDS, rounds: ROUNDS, summaries, ratios }, null, 2)}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.process.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
