/**
 * `npm run bench:health`: /healthz latency while 200 concurrent 1 MB predicts hit tfmodel-server
 * (half_plus_two), issue 7 item 7. One run measures, on the same machine and build:
 *   idle            /healthz with no other load (the baseline every ratio is against)
 *   flood, no cap   --max_inflight_request_bytes=0 (what the server did before the cap)
 *   flood, default  the default cap (256 MiB)
 *   flood, 16 MiB   a tight cap
 * For each: probes answered, p50/p99/max of /healthz, p99 / idle p99, predicts answered 200 and
 * refused 429, and the flood's wall time. Markdown on stdout, progress on stderr.
 * Knobs (env): BENCH_HEALTH_CONCURRENT (200), BENCH_HEALTH_BYTES (1048576), BENCH_HEALTH_ROUNDS (2).
 */
import { bigPredictBody, httpCall, percentile, probeWhile } from '../../test/support/flood.js';
import { ServerProcess, freePortSync } from '../../test/support/server-process.js';
import { servingTestModels } from '../../test/support/test-models.js';

interface Row {
  readonly name: string;
  readonly probes: number;
  readonly failedProbes: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly ok: number;
  readonly refused: number;
  readonly other: number;
  readonly wallMs: number;
}

const CONCURRENT = Number(process.env['BENCH_HEALTH_CONCURRENT'] ?? 200);
const BYTES = Number(process.env['BENCH_HEALTH_BYTES'] ?? 1024 * 1024);
const ROUNDS = Number(process.env['BENCH_HEALTH_ROUNDS'] ?? 2);

const progress = (line: string): void => void process.stderr.write(`${line}\n`);

async function withServer<T>(capArgs: string[], work: (rest: number) => Promise<T>): Promise<T> {
  const server = ServerProcess.start(['--model_name=half', `--model_base_path=${servingTestModels().halfPlusTwo}`, `--rest_api_port=${freePortSync()}`, ...capArgs]);
  try {
    const { rest } = await server.ports();
    return await work(rest!);
  } finally {
    await server.stop();
  }
}

const healthz = async (rest: number): Promise<true | string> => {
  const reply = await httpCall(rest, 'GET', '/healthz');
  return reply.status === 200 || `healthz ${reply.status}`;
};

async function idle(rest: number): Promise<Row> {
  const latencies: number[] = [];
  for (let i = 0; i < 300; i++) {
    const started = performance.now();
    await healthz(rest);
    latencies.push(performance.now() - started);
  }
  return row('idle', { answered: latencies.length, failed: 0, latencies }, 0, 0, 0, 0);
}

async function flood(name: string, rest: number, body: Buffer): Promise<Row> {
  const started = performance.now();
  const predicts = Promise.all(Array.from({ length: CONCURRENT }, () => httpCall(rest, 'POST', '/v1/models/half:predict', body).catch(() => ({ status: 0, body: '' }))));
  const probes = await probeWhile(predicts, () => healthz(rest));
  const replies = await predicts;
  const wallMs = performance.now() - started;
  const ok = replies.filter((r) => r.status === 200).length;
  const refused = replies.filter((r) => r.status === 429).length;
  return row(name, probes, ok, refused, replies.length - ok - refused, wallMs);
}

function row(name: string, probes: { answered: number; failed: number; latencies: number[] }, ok: number, refused: number, other: number, wallMs: number): Row {
  const l = probes.latencies;
  return { name, probes: probes.answered, failedProbes: probes.failed, p50: percentile(l, 50), p99: percentile(l, 99), max: Math.max(...l), ok, refused, other, wallMs };
}

async function main(): Promise<void> {
  const { body } = bigPredictBody(BYTES);
  const configs: Array<[string, string[]]> = [
    ['flood, no cap', ['--max_inflight_request_bytes=0']],
    ['flood, default cap (256 MiB)', []],
    ['flood, 16 MiB cap', [`--max_inflight_request_bytes=${16 * 1024 * 1024}`]],
  ];
  const rows: Row[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    progress(`round ${round + 1}/${ROUNDS}: idle`);
    rows.push(await withServer([], idle));
    for (const [name, args] of configs) {
      progress(`round ${round + 1}/${ROUNDS}: ${name}`);
      rows.push(await withServer(args, (rest) => flood(name, rest, body)));
    }
  }
  const idleP99 = percentile(rows.filter((r) => r.name === 'idle').map((r) => r.p99), 50);
  const ms = (v: number): string => v.toFixed(1);
  const lines = [
    `# /healthz under ${CONCURRENT} concurrent ${(BYTES / 1024 / 1024).toFixed(1)} MB predicts (half_plus_two, REST)`,
    '',
    '| run | probes answered | probes failed | p50 ms | p99 ms | max ms | p99 / idle p99 | predicts 200 | 429 | other | flood wall s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.probes} | ${r.failedProbes} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${(r.p99 / idleP99).toFixed(1)} | ${r.ok} | ${r.refused} | ${r.other} | ${r.wallMs ? (r.wallMs / 1000).toFixed(1) : '-'} |`),
    '',
    `Idle p99 (median of rounds): ${ms(idleP99)} ms. Only ratios within this run mean anything.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
