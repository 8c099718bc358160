/**
 * The `reload` and `cycles` sections of `npm run bench:memory`, on one tfmodel-server process
 * serving two models from a model config file (re-read every second):
 *
 * - reload: model A (half_plus_two, REST predict, checked answers) under a steady closed-loop load
 *   of BENCH_CONCURRENCY clients; phases alternate B idle / B reloading (B = ResNet50: its
 *   specific version flips 1 <-> 2 every BENCH_RELOAD_SECONDS, so each reload loads one version and
 *   unloads the other), BENCH_ROUNDS times each; A's p99 in the reload phases against the idle ones.
 * The cycles section (the same flips, on one model, recording memory) is in cycles.ts.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogEvent, ManagedProcess } from '../server/launcher.js';
import { HALF_PLUS_TWO_VERSION_DIR, SERVER_MAIN } from '../server/paths.js';
import { freePort } from '../server/targets.js';

export interface ServedModel {
  readonly name: string;
  /** The SavedModel copied to <base>/1 and <base>/2. */
  readonly dir: string;
}

export interface Server {
  readonly process: ManagedProcess;
  readonly restBase: string;
  /** Serves `version` of the flipping model (rewrites the config file). */
  flip(version: 1 | 2): void;
}

function configText(models: ReadonlyArray<{ name: string; base: string; version?: number }>): string {
  return `model_config_list {\n${models.map((m) => `  config { name: "${m.name}" base_path: "${m.base}" model_platform: "tensorflow"${
    m.version ? ` model_version_policy { specific { versions: ${m.version} } }` : ''} }`).join('\n')}\n}\n`;
}

/** Starts a server with `steady` (one version) and `flipping` (versions 1 and 2 on disk, 1 served). */
export async function startTwoModelServer(workDir: string, steady: ServedModel | undefined, flipping: ServedModel, flags: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const bases: Array<{ name: string; base: string; version?: number }> = [];
  if (steady) {
    const base = join(workDir, steady.name);
    cpSync(steady.dir, join(base, '1'), { recursive: true, dereference: true });
    bases.push({ name: steady.name, base });
  }
  const flipBase = join(workDir, flipping.name);
  for (const v of ['1', '2']) cpSync(flipping.dir, join(flipBase, v), { recursive: true, dereference: true });
  const configFile = join(workDir, `models-${flipping.name}.config`);
  const write = (version: number): void => writeFileSync(configFile, configText([...bases, { name: flipping.name, base: flipBase, version }]));
  write(1);
  const restPort = await freePort();
  const grpcPort = await freePort();
  const monitoring = join(workDir, 'monitoring.config');
  writeFileSync(monitoring, `prometheus_config { enable: true path: "${METRICS_PATH}" }`);
  const process_ = ManagedProcess.launch({
    label: 'tfmodel-server (memory bench)',
    command: process.execPath,
    args: [SERVER_MAIN, `--port=${grpcPort}`, `--rest_api_port=${restPort}`, '--bind_address=127.0.0.1', `--model_config_file=${configFile}`,
      '--model_config_file_poll_wait_seconds=1', `--monitoring_config_file=${monitoring}`, ...flags],
    env,
  });
  await process_.waitFor((e) => e.event === 'serving', 600_000);
  return { process: process_, restBase: `http://127.0.0.1:${restPort}`, flip: write };
}

export const METRICS_PATH = '/monitoring/prometheus/metrics';

/** What the server process did in a phase: its event loop's lag (its own histogram), its CPU. */
export interface PhaseDiagnostics {
  /** The server's nodejs_eventloop_lag_max_seconds / _p99_seconds over the phase, ms (prom-client, 10 ms resolution). */
  readonly loopLagMaxMs: number;
  readonly loopLagP99Ms: number;
  /** CPU seconds per wall second: the server's main (event-loop) thread, and the whole process. */
  readonly mainThreadCpu: number;
  readonly processCpu: number;
  /** The machine's 1-minute load average at the end of the phase. */
  readonly loadAverage: number;
}

/** CPU ticks (utime + stime) of /proc/<path>/stat. */
function cpuTicks(path: string): number {
  const fields = readFileSync(`/proc/${path}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function scrapeLag(restBase: string): Promise<{ max: number; p99: number }> {
  const text = await (await fetch(`${restBase}${METRICS_PATH}`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) * 1000;
  return { max: value('nodejs_eventloop_lag_max_seconds'), p99: value('nodejs_eventloop_lag_p99_seconds') };
}

/** Starts measuring a phase (a scrape resets the server's lag histogram); the returned function ends it. */
async function phaseProbe(server: Server): Promise<() => Promise<PhaseDiagnostics>> {
  await scrapeLag(server.restBase);
  const pid = server.process.pid;
  const started = performance.now();
  const main0 = cpuTicks(`${pid}/task/${pid}`);
  const all0 = cpuTicks(`${pid}`);
  return async () => {
    const seconds = (performance.now() - started) / 1000;
    const ticks = 100; // USER_HZ
    const mainThreadCpu = (cpuTicks(`${pid}/task/${pid}`) - main0) / ticks / seconds;
    const processCpu = (cpuTicks(`${pid}`) - all0) / ticks / seconds;
    const lag = await scrapeLag(server.restBase);
    return { loopLagMaxMs: lag.max, loopLagP99Ms: lag.p99, mainThreadCpu, processCpu, loadAverage: loadavg()[0]! };
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const BODY = JSON.stringify({ instances: [1.0, 2.0, 5.0] });
const ANSWER = JSON.stringify([2.5, 3.0, 4.5]);

function predict(restBase: string, model: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${restBase}/v1/models/${model}:predict`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => {
        const predictions = res.statusCode === 200 ? JSON.stringify((JSON.parse(text) as { predictions: unknown }).predictions) : '';
        if (predictions !== ANSWER) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        else resolve(performance.now() - started);
      });
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

/** Closed-loop load for `ms`: every latency, and the errors. */
async function load(restBase: string, model: string, concurrency: number, ms: number): Promise<{ latencies: number[]; errors: number; firstError?: string }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const end = performance.now() + ms;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      try {
        latencies.push(await predict(restBase, model));
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
    }
  }));
  return { latencies, errors, ...(firstError ? { firstError } : {}) };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export const countOf = (events: readonly LogEvent[], event: string, model: string): number => events.filter((e) => e.event === event && e['model'] === model).length;

export interface ReloadResult {
  readonly runtime: string;
  readonly idle: { p50: number; p99: number; requests: number; errors: number };
  readonly reloading: { p50: number; p99: number; requests: number; errors: number };
  readonly reloads: number;
  /** reloading p99 / idle p99 (target <= 1.2). */
  readonly ratio: number;
  /** Per round: the server's event-loop lag and CPU in the idle and the reloading phase. */
  readonly diagnostics: ReadonlyArray<{ readonly idle: PhaseDiagnostics; readonly reloading: PhaseDiagnostics }>;
  readonly firstError?: string;
}

export async function runReloadSection(workDir: string, resnet: ServedModel, options: { runtime: string; concurrency: number; phaseSeconds: number; reloadSeconds: number; rounds: number }, log: (m: string) => void): Promise<ReloadResult> {
  mkdirSync(workDir, { recursive: true });
  const server = await startTwoModelServer(workDir, { name: 'a', dir: HALF_PLUS_TWO_VERSION_DIR }, { ...resnet, name: 'b' }, [`--runtime=${options.runtime}`]);
  try {
    await load(server.restBase, 'a', options.concurrency, 2000); // warm
    const idle: number[] = [];
    const busy: number[] = [];
    const errors = { idle: 0, busy: 0 };
    let firstError: string | undefined;
    let version: 1 | 2 = 1;
    const reloadsBefore = countOf(server.process.events, 'version_available', 'b');
    const diagnostics: Array<{ idle: PhaseDiagnostics; reloading: PhaseDiagnostics }> = [];
    for (let round = 0; round < options.rounds; round++) {
      let probe = await phaseProbe(server);
      const quiet = await load(server.restBase, 'a', options.concurrency, options.phaseSeconds * 1000);
      const idleDiagnostics = await probe();
      idle.push(...quiet.latencies);
      errors.idle += quiet.errors;
      firstError ??= quiet.firstError;
      let flipping = true;
      probe = await phaseProbe(server);
      const flipper = (async () => {
        while (flipping) {
          version = version === 1 ? 2 : 1;
          server.flip(version);
          await sleep(options.reloadSeconds * 1000);
        }
      })();
      const loud = await load(server.restBase, 'a', options.concurrency, options.phaseSeconds * 1000);
      const reloadingDiagnostics = await probe();
      diagnostics.push({ idle: idleDiagnostics, reloading: reloadingDiagnostics });
      flipping = false;
      await flipper;
      busy.push(...loud.latencies);
      errors.busy += loud.errors;
      firstError ??= loud.firstError;
      // Let the last reload finish before the next quiet phase.
      const target = countOf(server.process.events, 'version_unloaded', 'b') + 1;
      await server.process.waitFor(() => countOf(server.process.events, 'version_unloaded', 'b') >= target, 120_000).catch(() => undefined);
      const said = (d: PhaseDiagnostics): string =>
        `loop lag max ${d.loopLagMaxMs.toFixed(1)} ms p99 ${d.loopLagP99Ms.toFixed(1)} ms, main thread ${d.mainThreadCpu.toFixed(2)} CPU, process ${d.processCpu.toFixed(2)} CPU, load ${d.loadAverage.toFixed(1)}`;
      log(`reload round ${round + 1}: idle p99 ${percentile(quiet.latencies, 0.99).toFixed(2)} ms (${said(idleDiagnostics)}); ` +
        `reloading p99 ${percentile(loud.latencies, 0.99).toFixed(2)} ms (${said(reloadingDiagnostics)})`);
    }
    const reloads = countOf(server.process.events, 'version_available', 'b') - reloadsBefore;
    const summary = (l: number[], e: number) => ({ p50: percentile(l, 0.5), p99: percentile(l, 0.99), requests: l.length, errors: e });
    const result = { runtime: options.runtime, idle: summary(idle, errors.idle), reloading: summary(busy, errors.busy), reloads, ratio: percentile(busy, 0.99) / percentile(idle, 0.99), diagnostics };
    return firstError ? { ...result, firstError } : result;
  } finally {
    await server.process.stop();
  }
}
