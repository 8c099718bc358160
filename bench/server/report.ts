/** The results of one `npm run bench:server`, the targets they are checked against, and the markdown report. */
import type { NativeResnetResult } from './native-resnet.js';
import type { HotLoadResult } from './hot-load.js';
import type { ProfileResult } from './profile.js';
import { type ContestantSummary, ratio } from './rounds.js';
import type { ApiSectionsResult, CnnSectionResult, ComparisonResult } from './sections.js';
import { median } from './stats.js';


export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
}

export interface TargetCheck {
  readonly name: string;
  readonly value: number;
  /** e.g. ">= 0.7x" */
  readonly target: string;
  readonly met: boolean;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: Record<string, unknown>;
  readonly tools: { readonly autocannon: string; readonly python?: string };
  readonly api?: ApiSectionsResult;
  readonly cnn?: CnnSectionResult;
  readonly hotLoad?: readonly HotLoadResult[];
  readonly profiles?: readonly ProfileResult[];
  /** The native engine with batching on ResNet50 (section resnet). */
  readonly resnet?: NativeResnetResult;
  readonly targets: readonly TargetCheck[];
}

const find = (comparison: ComparisonResult | undefined, key: string): ContestantSummary | undefined =>
  comparison?.contestants.find((c) => c.key === key);

function atLeast(name: string, value: number, target: number): TargetCheck {
  return { name, value, target: `>= ${target}x`, met: value >= target };
}

export const OUR_REST_KEYS = ['default', 'threads0', 'batching'] as const;
export const OUR_GRPC_KEYS = ['default', 'batching'] as const;

export function evaluateTargets(api: ApiSectionsResult | undefined, cnn: CnnSectionResult | undefined, hotLoad: readonly HotLoadResult[] | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (api?.rest) {
    const bareHttp = find(api.rest, 'bare');
    for (const key of OUR_REST_KEYS) {
      const ours = find(api.rest, key);
      if (ours) checks.push(atLeast(`REST ${ours.label} / bare node:http`, ratio(ours, bareHttp), 0.7));
    }
  }
  if (api?.grpc) {
    const bareGrpc = find(api.grpc, 'bare');
    for (const key of OUR_GRPC_KEYS) {
      const ours = find(api.grpc, key);
      if (ours) checks.push(atLeast(`gRPC ${ours.label} / bare grpc-js echo`, ratio(ours, bareGrpc), 0.9));
    }
  }
  const flask = find(api?.python, 'flask');
  if (flask) {
    for (const key of OUR_REST_KEYS) {
      const ours = find(api?.python, key);
      if (ours) checks.push(atLeast(`REST ${ours.label} / Flask (rest-load both)`, ratio(ours, flask), 3));
    }
    for (const key of OUR_GRPC_KEYS) {
      const ours = find(api?.grpc, key);
      if (ours) checks.push(atLeast(`gRPC ${ours.label} / Flask REST`, ratio(ours, flask), 3));
    }
  }
  if (cnn) checks.push(atLeast('keras_cnn: --enable_batching / default', ratio(find(cnn, 'batching'), find(cnn, 'default')), 3));
  for (const hot of hotLoad ?? []) {
    const times = hot.trials.map((t) => t.firstNewAnswerMs);
    const worst = Math.max(...times);
    checks.push({ name: `hot load (${hot.variant}): slowest of ${times.length} trials (ms)`, value: worst, target: `<= ${hot.expectationMs} ms`, met: worst <= hot.expectationMs });
  }
  return checks;
}

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '—');

function comparisonTable(comparison: ComparisonResult, baselineKey: string, baselineName: string): string[] {
  const baseline = find(comparison, baselineKey);
  const lines = [
    `| server | notes | req/s (median) | vs ${baselineName} | p50 ms | p99 ms | server CPU µs/req | server cores busy | machine cores busy | errors | req/s per round |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of comparison.contestants) {
    const rounds = c.rounds.map((r) => f0(r.rps)).join(', ');
    lines.push(`| ${c.label} | ${c.note} | ${f0(c.rps)} | ${times(ratio(c, baseline))} | ${f2(c.p50Ms)} | ${f2(c.p99Ms)} | ${f0(c.serverCpuMicrosPerRequest)} | ${f2(c.serverCores)} | ${f2(machineCores(c))} | ${c.errors} | ${rounds} |`);
  }
  return lines;
}

const machineCores = (c: ContestantSummary): number => median(c.rounds.map((r) => r.machineCores));

function generatorNote(comparison: ComparisonResult): string | undefined {
  const figures = comparison.contestants
    .map((c) => ({ label: c.label, micros: median(c.rounds.map((r) => r.generatorCpuMicrosPerRequest ?? Number.NaN)) }))
    .filter((g) => Number.isFinite(g.micros));
  if (figures.length === 0) return undefined;
  return `Load generator CPU per request: ${figures.map((g) => `${g.label} ${f0(g.micros)} µs`).join(', ')}.`;
}

function apiSection(api: ApiSectionsResult, connections: number): string[] {
  const lines: string[] = [];
  if (api.rest) lines.push(`## 1. REST predict on half_plus_two, ${connections} connections (autocannon)`, '', ...comparisonTable(api.rest, 'bare', 'bare node:http'), '');
  const threads = [find(api.rest, 'default'), find(api.rest, 'threads0')].filter((c): c is ContestantSummary => c !== undefined);
  if (threads.length === 2) {
    const winner = threads[0]!.rps >= threads[1]!.rps ? threads[0]! : threads[1]!;
    lines.push(`inference_threads on this machine: default (one worker per core) ${f0(threads[0]!.rps)} req/s vs --inference_threads=0 ${f0(threads[1]!.rps)} req/s: best is **${winner.label}**.`, '');
  }
  lines.push(`Batching file: ${api.batching}.`, '');
  if (api.grpc) {
    lines.push(`## 2. gRPC Predict on half_plus_two, ${connections} calls in flight (Node grpc-js client, pre-encoded request)`, '');
    lines.push(...comparisonTable(api.grpc, 'bare', 'bare grpc-js'), '');
    const generator = generatorNote(api.grpc);
    if (generator) lines.push(generator, '');
  }
  if (api.python) {
    const flask = find(api.python, 'flask');
    lines.push('## 3. Against Python TensorFlow + Flask (and grpcio)', '');
    lines.push(
      'Measured with bench/server/rest-load.ts on both sides (64 raw HTTP/1.1 connections, reconnecting when the server closes; ' +
        'about as cheap per request as autocannon): autocannon 8 against Werkzeug (HTTP/1.0, Connection: close) reports a small ' +
        'fraction of the rate a plain client gets, which would flatter us.',
      '',
    );
    lines.push(...comparisonTable(api.python, 'flask', 'Flask'), '');
    if (api.flaskUnderAutocannon) {
      const a = api.flaskUnderAutocannon;
      lines.push(`For the record, autocannon against the same Flask server: ${f0(a.rps)} req/s, p50 ${f2(a.p50Ms)} ms, p99 ${f2(a.p99Ms)} ms, ${f2(a.serverCores)} server cores busy.`, '');
    }
    const generator = generatorNote(api.python);
    if (generator) lines.push(generator, '');
    lines.push('| ours | req/s | baseline | req/s | ratio |', '| --- | ---: | --- | ---: | ---: |');
    for (const key of OUR_REST_KEYS) {
      const ours = find(api.python, key);
      if (ours && flask) lines.push(`| REST ${ours.label} (rest-load) | ${f0(ours.rps)} | ${flask.label} (rest-load) | ${f0(flask.rps)} | ${times(ratio(ours, flask))} |`);
    }
    for (const key of OUR_GRPC_KEYS) {
      const ours = find(api.grpc, key);
      if (ours && flask) lines.push(`| gRPC ${ours.label} | ${f0(ours.rps)} | ${flask.label} (REST, rest-load) | ${f0(flask.rps)} | ${times(ratio(ours, flask))} |`);
    }
    const pythonGrpc = find(api.grpc, 'python-grpc');
    for (const key of OUR_GRPC_KEYS) {
      const ours = find(api.grpc, key);
      if (ours && pythonGrpc) lines.push(`| gRPC ${ours.label} | ${f0(ours.rps)} | ${pythonGrpc.label} (gRPC, extra) | ${f0(pythonGrpc.rps)} | ${times(ratio(ours, pythonGrpc))} |`);
    }
    lines.push('');
  }
  return lines;
}

function cnnSection(cnn: CnnSectionResult, connections: number): string[] {
  return [
    `## 4. Batching on keras_cnn, ${connections} REST connections, one [1,28,28,1] image per request`,
    '',
    ...comparisonTable(cnn, 'default', 'no batching'),
    '',
    `Batching file: ${cnn.batching}.`,
    '',
  ];
}

function hotLoadSection(hot: HotLoadResult): string[] {
  const lines = [
    `### ${hot.variant}: new version moved in by rename under ${f0(hot.loadRps)} req/s of light load`,
    '',
    '| version | model | loading seen ms | available ms | first new answer ms | stale answers after switch |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const t of hot.trials) {
    lines.push(`| ${t.version} | ${t.model} | ${f0(t.loadingMs)} | ${f0(t.availableMs)} | ${f0(t.firstNewAnswerMs)} | ${t.staleAfterSwitch} |`);
  }
  const firsts = hot.trials.map((t) => t.firstNewAnswerMs);
  const loads = hot.trials.map((t) => t.availableMs - t.loadingMs);
  lines.push('');
  lines.push(
    `Median ${f0(median(firsts))} ms, slowest ${f0(Math.max(...firsts))} ms from rename to the first answer of the new version, against the ` +
      `two-poll-interval expectation of ${hot.expectationMs} ms; of that, loading the version took a median ${f0(median(loads))} ms ` +
      `(version_loading to version_available), the rest is waiting for the next poll. ${hot.requests} requests, ${hot.errors} errors` +
      `${hot.firstError ? ` (first: ${hot.firstError})` : ''}.`,
    '',
  );
  return lines;
}

function profileSection(profiles: readonly ProfileResult[]): string[] {
  const lines = [
    '## Where tfmodel-server\'s time goes (node --cpu-prof, measured window only, µs per request)',
    '',
    'Self time as V8 samples it: per thread, wall time in the function, so a thread that is descheduled inside a ' +
      'syscall (postMessage waking a worker, writev to a socket) on this busy 2-core machine is charged for the wait.',
    '',
  ];
  for (const p of profiles) {
    lines.push(`### ${p.scenario}: ${f0(p.load.rps)} req/s under the profiler, ${f0(p.load.serverCpuMicrosPerRequest)} µs CPU/request (all threads, /proc)`, '');
    for (const t of p.threads) {
      lines.push(`${t.thread} thread${t.thread === 'workers' ? 's' : ''}: ${f1(t.busyMicrosPerRequest)} µs busy per request`, '');
      lines.push('| layer | µs/req |', '| --- | ---: |');
      for (const l of t.layers.slice(0, 10)) lines.push(`| ${l.layer} | ${f1(l.microsPerRequest)} |`);
      lines.push('', '| top functions (self time) | layer | µs/req |', '| --- | --- | ---: |');
      for (const fn of t.topFunctions.slice(0, 8)) lines.push(`| \`${fn.name}\` | ${fn.layer} | ${f1(fn.microsPerRequest)} |`);
      lines.push('');
    }
  }
  return lines;
}

function targetsSection(targets: readonly TargetCheck[]): string[] {
  const lines = ['## Targets', '', '| check | value | target | met |', '| --- | ---: | --- | --- |'];
  for (const t of targets) lines.push(`| ${t.name} | ${t.target.includes('ms') ? f0(t.value) : times(t.value)} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`);
  return [...lines, ''];
}

export function renderReport(results: BenchResults): string {
  const m = results.machine;
  const s = results.settings;
  const lines = [
    '# tfmodel-server benchmark (`npm run bench:server`)',
    '',
    `${m.cpus} cores (${m.cpuModel}), Node ${m.node}, autocannon ${results.tools.autocannon}${results.tools.python ? `, ${results.tools.python}` : ''}. ` +
      `Load average before ${m.loadAverageBefore.map(f2).join(' ')}, after ${m.loadAverageAfter.map(f2).join(' ')}. ` +
      `${String(s['rounds'])} alternated rounds (A B C ..., medians quoted), ${String(s['seconds'])} s measured after ${String(s['warmupSeconds'])} s warm-up per run; ` +
      `the load generator shares the machine, so only ratios within this run mean anything. Run took ${f0(results.wallSeconds)} s.`,
    '',
  ];
  const connections = Number(s['connections']);
  if (results.api) lines.push(...apiSection(results.api, connections));
  if (results.cnn) lines.push(...cnnSection(results.cnn, connections));
  if (results.hotLoad && results.hotLoad.length > 0) {
    lines.push(`## 5. Hot load (--file_system_poll_wait_seconds=${results.hotLoad[0]!.pollSeconds})`, '');
    for (const hot of results.hotLoad) lines.push(...hotLoadSection(hot));
  }
  if (results.profiles && results.profiles.length > 0) lines.push(...profileSection(results.profiles));
  lines.push(...targetsSection(results.targets));
  return lines.join('\n');
}
