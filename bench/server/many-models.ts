/**
 * `npm run bench:many-models`: a real tfmodel-server serving one model, reloaded to 1 + N models
 * (issue 7 item 6; N = 1,000 by default). Each added model is half_plus_two under its own base
 * path (a symlink to the one SavedModel's base directory), all added by one config file change
 * (--model_config_file_poll_wait_seconds=1). While the loads run, a prober asks /healthz and the
 * serving model's predict every PROBE_MS, and samples the server's /proc/<pid>/status (VmRSS,
 * Threads) and, less often, GET /v1/models for the version states.
 *
 * Reported (markdown on stdout, progress on stderr), from one run on one machine:
 *   - seconds from the config write until every version is AVAILABLE (and per model)
 *   - RSS before, peak, after; threads before, peak, after; the most versions LOADING at once
 *   - /healthz and predict p50/p99/max before the reload (idle baseline) and during it, with the
 *     ratio during/idle, and how many probes failed (any failure is printed)
 * Knobs (env): BENCH_MODELS (1000), BENCH_NUM_LOAD_THREADS (unset: the server's default, serial),
 * BENCH_INFERENCE_THREADS (unset: the server's default), BENCH_PROBE_MS (50),
 * BENCH_TIMEOUT_S (1800), BENCH_RUNTIME (unset: the server's default engine).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCall, percentile } from '../../test/support/flood.js';
import { ServerProcess, freePortSync } from '../../test/support/server-process.js';
import { servingTestModels } from '../../test/support/test-models.js';

const MODELS = Number(process.env['BENCH_MODELS'] ?? 1000);
const PROBE_MS = Number(process.env['BENCH_PROBE_MS'] ?? 50);
const TIMEOUT_MS = Number(process.env['BENCH_TIMEOUT_S'] ?? 1800) * 1000;
const LIST_EVERY_MS = 1000;

const progress = (line: string): void => void process.stderr.write(`${line}\n`);

interface ProcSample {
  readonly rssBytes: number;
  readonly threads: number;
}

function procStatus(pid: number): ProcSample | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rssBytes: field('VmRSS') * 1024, threads: field('Threads') };
}

/**
 * A base path of its own for each model: a symlink to half_plus_two's base directory (version
 * directories that are symlinks out of their base path are refused by the server, by design).
 */
function modelBase(root: string, name: string, source: string): string {
  const base = join(root, 'models', name);
  symlinkSync(source, base);
  return base;
}

function configText(entries: ReadonlyArray<readonly [string, string]>): string {
  return `model_config_list {\n${entries.map(([name, base]) => `  config { name: "${name}" base_path: "${base}" model_platform: "tensorflow" }`).join('\n')}\n}\n`;
}

interface Probe {
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

async function timed(call: () => Promise<{ status: number; body: string }>, good: (status: number, body: string) => boolean): Promise<Probe> {
  const started = performance.now();
  try {
    const reply = await call();
    const ms = performance.now() - started;
    return good(reply.status, reply.body) ? { ok: true, ms } : { ok: false, ms, error: `HTTP ${reply.status}: ${reply.body.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, ms: performance.now() - started, error: (error as Error).message };
  }
}

const PREDICT_BODY = JSON.stringify({ instances: [1.0, 2.0] });
const healthz = (rest: number) => timed(() => httpCall(rest, 'GET', '/healthz'), (status) => status === 200);
const predict = (rest: number) => timed(() => httpCall(rest, 'POST', '/v1/models/a:predict', PREDICT_BODY), (status, body) => status === 200 && body.replace(/\s/g, '') === '{"predictions":[2.5,3.0]}');

interface Series {
  readonly health: Probe[];
  readonly predict: Probe[];
}

function summary(probes: readonly Probe[]): { n: number; failed: number; p50: number; p99: number; max: number } {
  const ms = probes.map((p) => p.ms);
  return { n: probes.length, failed: probes.filter((p) => !p.ok).length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
}

async function idleBaseline(rest: number): Promise<Series> {
  const series: Series = { health: [], predict: [] };
  for (let i = 0; i < 200; i++) {
    const [h, p] = await Promise.all([healthz(rest), predict(rest)]);
    series.health.push(h);
    series.predict.push(p);
  }
  return series;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-bench-many-'));
  mkdirSync(join(root, 'models'));
  const source = servingTestModels().halfPlusTwo;
  const entries: Array<[string, string]> = [['a', modelBase(root, 'a', source)]];
  for (let i = 0; i < MODELS; i++) {
    const name = `m${String(i).padStart(4, '0')}`;
    entries.push([name, modelBase(root, name, source)]);
  }
  const config = join(root, 'models.config');
  writeFileSync(config, configText(entries.slice(0, 1)));
  const args = [`--rest_api_port=${freePortSync()}`, `--model_config_file=${config}`, '--model_config_file_poll_wait_seconds=1'];
  if (process.env['BENCH_NUM_LOAD_THREADS'] !== undefined) args.push(`--num_load_threads=${process.env['BENCH_NUM_LOAD_THREADS']}`);
  if (process.env['BENCH_INFERENCE_THREADS'] !== undefined) args.push(`--inference_threads=${process.env['BENCH_INFERENCE_THREADS']}`);
  if (process.env['BENCH_RUNTIME'] !== undefined) args.push(`--runtime=${process.env['BENCH_RUNTIME']}`);
  const server = ServerProcess.start(args);
  const pid = server.child.pid!;
  try {
    const { rest } = await server.ports();
    const port = rest!;
    const idle = await idleBaseline(port);
    const before = procStatus(pid)!;
    progress(`serving a; idle /healthz p99 ${summary(idle.health).p99.toFixed(2)} ms; RSS ${(before.rssBytes / 2 ** 20).toFixed(0)} MiB, ${before.threads} threads; adding ${MODELS} models`);

    const during: Series = { health: [], predict: [] };
    let peak = before;
    let maxLoading = 0;
    let lastList = 0;
    let available = 0;
    let failedVersions = 0;
    let listFailures = 0;
    const listMs: number[] = [];
    const started = performance.now();
    writeFileSync(config, configText(entries));
    let doneMs: number | undefined;
    while (doneMs === undefined) {
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`not all AVAILABLE after ${TIMEOUT_MS / 1000} s: ${available} of ${entries.length}`);
      const [h, p] = await Promise.all([healthz(port), predict(port), new Promise((r) => setTimeout(r, PROBE_MS))]);
      during.health.push(h);
      during.predict.push(p);
      const sample = procStatus(pid);
      if (sample) peak = { rssBytes: Math.max(peak.rssBytes, sample.rssBytes), threads: Math.max(peak.threads, sample.threads) };
      if (performance.now() - lastList < LIST_EVERY_MS) continue;
      lastList = performance.now();
      const listStarted = performance.now();
      const list = await httpCall(port, 'GET', '/v1/models').catch((error: Error) => ({ status: 0, body: error.message }));
      listMs.push(performance.now() - listStarted);
      if (list.status !== 200) {
        listFailures++;
        continue;
      }
      const models = (JSON.parse(list.body) as { models: Array<{ model_version_status: Array<{ state: string; status?: { error_code?: string } }> }> }).models;
      const states = models.flatMap((m) => m.model_version_status);
      available = states.filter((s) => s.state === 'AVAILABLE').length;
      failedVersions = states.filter((s) => s.state === 'END' && s.status?.error_code && s.status.error_code !== 'OK').length;
      maxLoading = Math.max(maxLoading, states.filter((s) => s.state === 'LOADING').length);
      progress(`  ${((performance.now() - started) / 1000).toFixed(1)} s: ${available}/${entries.length} AVAILABLE, RSS ${((sample?.rssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB, ${sample?.threads} threads`);
      if (models.length === entries.length && available === entries.length) doneMs = performance.now() - started;
      if (failedVersions > 0) throw new Error(`${failedVersions} versions failed to load`);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = procStatus(pid)!;
    print({ idle, during, before, peak, after, doneMs, maxLoading, listMs, listFailures, args });
  } finally {
    await server.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

function print(r: {
  idle: Series; during: Series; before: ProcSample; peak: ProcSample; after: ProcSample; doneMs: number; maxLoading: number; listMs: number[]; listFailures: number; args: string[];
}): void {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const lines = [
    `## Reload from 1 to ${MODELS + 1} models (half_plus_two copies), one config change`,
    '',
    `server flags: ${r.args.filter((a) => !a.startsWith('--rest_api_port') && !a.startsWith('--model_config_file=')).join(' ')}`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| time until all ${MODELS + 1} AVAILABLE | ${(r.doneMs / 1000).toFixed(1)} s (${(r.doneMs / MODELS).toFixed(1)} ms per model) |`,
    `| most versions LOADING at once | ${r.maxLoading} |`,
    `| RSS before / peak / after | ${mib(r.before.rssBytes)} / ${mib(r.peak.rssBytes)} / ${mib(r.after.rssBytes)} |`,
    `| threads before / peak / after | ${r.before.threads} / ${r.peak.threads} / ${r.after.threads} |`,
    `| GET /v1/models during the reload p50 / max | ${percentile(r.listMs, 50).toFixed(1)} / ${Math.max(...r.listMs).toFixed(1)} ms (${r.listFailures} failed) |`,
    '',
    '| probe | phase | n | failed | p50 ms | p99 ms | max ms | p99 / idle p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [name, key] of [['/healthz', 'health'], ['predict a', 'predict']] as const) {
    const idle = summary(r.idle[key]);
    const during = summary(r.during[key]);
    lines.push(`| ${name} | idle | ${idle.n} | ${idle.failed} | ${idle.p50.toFixed(2)} | ${idle.p99.toFixed(2)} | ${idle.max.toFixed(2)} | 1 |`);
    lines.push(`| ${name} | during reload | ${during.n} | ${during.failed} | ${during.p50.toFixed(2)} | ${during.p99.toFixed(2)} | ${during.max.toFixed(2)} | ${(during.p99 / idle.p99).toFixed(1)} |`);
  }
  const failures = [...r.during.health, ...r.during.predict].filter((p) => !p.ok);
  if (failures.length > 0) lines.push('', 'failed probes:', ...failures.slice(0, 20).map((f) => `- ${f.error}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
