/**
 * `npm run bench:health`: /healthz latency while 200 concurrent 1 MB predicts hit tfmodel-server
 * (half_plus_two), issue 7 item 7. The probe runs in a process of its own (health-probe.ts,
 * forked), the flood in this one. One run measures, on the same machine and build:
 *   idle                   /healthz with no other load (the baseline every ratio is against)
 *   flood, no cap, inline  --max_inflight_request_bytes=0 --rest_json_threads=0 (JSON on the event loop)
 *   flood, no cap          --max_inflight_request_bytes=0, JSON in the worker threads (the default)
 *   flood, default cap     the default cap (256 MiB)
 *   flood, 16 MiB cap      a tight cap
 *   gRPC flood, inline     the same flood as gRPC Predicts, --rest_json_threads=0: protobuf decoding,
 *                          conversion and encoding on the event loop (the state before issue 7's fix)
 *   gRPC flood, default cap the same flood as gRPC Predicts, big messages decoded, converted and
 *                          encoded in the worker threads (--grpc_offload_bytes, the default)
 * For each: probes answered, p50/p99/max of /healthz, probes over 1 s (a kubelet probe's default
 * timeout), p50 and p99 / idle, predicts answered 200 and refused 429, and the flood's wall time.
 * Markdown on stdout, progress on stderr.
 * Knobs (env): BENCH_HEALTH_CONCURRENT (200), BENCH_HEALTH_BYTES (1048576), BENCH_HEALTH_ROUNDS (1),
 * BENCH_HEALTH_CONFIGS (comma-separated row names to run, default all), BENCH_HEALTH_IDLE_MS (3000).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { bigPredictBody, bigPredictRequest, grpcChannel, grpcPredictRaw, httpCall, percentile } from '../../test/support/flood.js';
import { ServerProcess, freePortSync } from '../../test/support/server-process.js';
import { servingTestModels } from '../../test/support/test-models.js';
import type { ProbeReport } from './health-probe.js';

interface Row {
  readonly name: string;
  readonly probes: number;
  readonly failedProbes: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly overOneSecond: number;
  readonly ok: number;
  readonly refused: number;
  readonly other: number;
  /** The other answers by status ("504 x3"), or the connection errors (status 0). */
  readonly otherKinds: string;
  readonly wallMs: number;
  readonly slow: ProbeReport['slow'];
}

const CONCURRENT = Number(process.env['BENCH_HEALTH_CONCURRENT'] ?? 200);
const BYTES = Number(process.env['BENCH_HEALTH_BYTES'] ?? 1024 * 1024);
const ROUNDS = Number(process.env['BENCH_HEALTH_ROUNDS'] ?? 1);
const IDLE_MS = Number(process.env['BENCH_HEALTH_IDLE_MS'] ?? 3000);
const ONLY = process.env['BENCH_HEALTH_CONFIGS']?.split(',').map((name) => name.trim());

const progress = (line: string): void => void process.stderr.write(`${line}\n`);

async function withServer<T>(capArgs: string[], work: (rest: number, grpc: number) => Promise<T>): Promise<T> {
  const server = ServerProcess.start(['--model_name=half', `--model_base_path=${servingTestModels().halfPlusTwo}`, `--rest_api_port=${freePortSync()}`, ...capArgs]);
  try {
    const { rest, grpc } = await server.ports();
    return await work(rest!, grpc);
  } finally {
    await server.stop();
  }
}

/** Runs `work` while the forked prober probes /healthz; returns both. */
async function probing<T>(rest: number, work: () => Promise<T>): Promise<{ probes: ProbeReport; result: T }> {
  const child = fork(new URL('./health-probe.js', import.meta.url), [String(rest)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  let stopped = false;
  try {
    await once(child, 'message');
    const result = await work();
    const report = once(child, 'message');
    child.send('stop');
    stopped = true;
    const [probes] = (await report) as [ProbeReport];
    return { probes, result };
  } finally {
    if (!stopped) child.kill();
    await exited;
  }
}

const idle = (rest: number): Promise<Row> =>
  probing(rest, () => new Promise((resolve) => setTimeout(resolve, IDLE_MS))).then(({ probes }) => row('idle', probes, 0, 0, 0, 0));

async function flood(name: string, rest: number, body: Buffer): Promise<Row> {
  const started = performance.now();
  const { probes, result: replies } = await probing(rest, () =>
    Promise.all(Array.from({ length: CONCURRENT }, () => httpCall(rest, 'POST', '/v1/models/half:predict', body).catch(() => ({ status: 0, body: '' })))));
  const wallMs = performance.now() - started;
  const ok = replies.filter((r) => r.status === 200).length;
  const refused = replies.filter((r) => r.status === 429).length;
  return row(name, probes, ok, refused, replies.length - ok - refused, wallMs, kinds(replies.map((r) => r.status).filter((s) => s !== 200 && s !== 429)));
}

/** The same flood over gRPC (4 channels), /healthz probed on REST. */
async function grpcFlood(name: string, rest: number, grpc: number, bytes: Buffer): Promise<Row> {
  const channels = Array.from({ length: 4 }, () => grpcChannel(grpc));
  try {
    const started = performance.now();
    const { probes, result: replies } = await probing(rest, () =>
      Promise.all(Array.from({ length: CONCURRENT }, (_, i) => grpcPredictRaw(channels[i % channels.length]!, bytes))));
    const ok = replies.filter((r) => r.code === 0).length;
    const refused = replies.filter((r) => r.code === 8).length;
    return row(name, probes, ok, refused, replies.length - ok - refused, performance.now() - started, kinds(replies.map((r) => r.code).filter((c) => c !== 0 && c !== 8)));
  } finally {
    for (const channel of channels) channel.close();
  }
}

function kinds(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${status} x${n}`).join(', ');
}

function row(name: string, probes: ProbeReport, ok: number, refused: number, other: number, wallMs: number, otherKinds = ''): Row {
  const l = probes.latencies;
  return {
    name, probes: l.length - probes.failures, failedProbes: probes.failures, p50: percentile(l, 50), p99: percentile(l, 99), max: Math.max(...l),
    overOneSecond: l.filter((v) => v > 1000).length, ok, refused, other, otherKinds, wallMs, slow: probes.slow,
  };
}

async function main(): Promise<void> {
  const { body } = bigPredictBody(BYTES);
  const grpcBytes = Buffer.from(toBinary(PredictRequestSchema, bigPredictRequest('half', BYTES)));
  const configs = ([
    ['flood, no cap, JSON inline', ['--max_inflight_request_bytes=0', '--rest_json_threads=0']],
    ['flood, no cap', ['--max_inflight_request_bytes=0']],
    ['flood, default cap (256 MiB)', []],
    ['flood, 16 MiB cap', [`--max_inflight_request_bytes=${16 * 1024 * 1024}`]],
    ['gRPC flood, inline (--rest_json_threads=0)', ['--rest_json_threads=0']],
    ['gRPC flood, default cap (256 MiB)', []],
  ] as Array<[string, string[]]>).filter(([name]) => !ONLY || ONLY.some((only) => name.includes(only)));
  const rows: Row[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    progress(`round ${round + 1}/${ROUNDS}: idle`);
    rows.push(await withServer([], idle));
    for (const [name, args] of configs) {
      progress(`round ${round + 1}/${ROUNDS}: ${name}`);
      rows.push(await withServer(args, (rest, grpc) => (name.startsWith('gRPC') ? grpcFlood(name, rest, grpc, grpcBytes) : flood(name, rest, body))));
    }
  }
  const idleP50 = percentile(rows.filter((r) => r.name === 'idle').map((r) => r.p50), 50);
  const idleP99 = percentile(rows.filter((r) => r.name === 'idle').map((r) => r.p99), 50);
  const ms = (v: number): string => v.toFixed(1);
  const lines = [
    `# /healthz under ${CONCURRENT} concurrent ${(BYTES / 1024 / 1024).toFixed(1)} MB predicts (half_plus_two, REST)`,
    '',
    '| run | probes answered | probes failed | p50 ms | p99 ms | max ms | probes > 1 s | p50 / idle p50 | p99 / idle p99 | predicts 200 | 429 | other | flood wall s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.probes} | ${r.failedProbes} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.overOneSecond} | ${(r.p50 / idleP50).toFixed(1)} | ${(r.p99 / idleP99).toFixed(1)} | ${r.ok} | ${r.refused} | ${r.other}${r.otherKinds ? ` (${r.otherKinds})` : ''} | ${r.wallMs ? (r.wallMs / 1000).toFixed(1) : '-'} |`),
    '',
    ...rows.filter((r) => r.slow.length > 0).map((r) => `Probes over 1 s in "${r.name}": ${r.slow.map((p) => `${(p.ms / 1000).toFixed(1)} s from t=${(p.at / 1000).toFixed(1)} s`).join(', ')}.`),
    '',
    'gRPC rows: 429 counts RESOURCE_EXHAUSTED, "predicts 200" OK.',
    `Idle p50 / p99 (median of rounds): ${ms(idleP50)} / ${ms(idleP99)} ms. The probe runs in its own process. Only ratios within this run mean anything.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
