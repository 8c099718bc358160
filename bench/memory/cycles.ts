/**
 * The `cycles` section of `npm run bench:memory`: one model's specific version flips 1 <-> 2
 * BENCH_CYCLES times (each flip loads one version and unloads the other) in one tfmodel-server
 * process; after each cycle, the server's memory by kind. Growth is the last cycle against the
 * 10th (allocators warm by then) and against the 1st; one sample swings by tens of MiB (what the
 * allocator holds at that instant), so growth is also given as the median of the last 10 cycles
 * against the median of cycles 10-19.
 *
 * BENCH_CYCLE_VARIANTS runs the same cycles once per server environment, in the same run, one
 * fresh server each: `default` (the server as shipped) or NAME=VALUE pairs joined by `+`
 * (e.g. `MALLOC_ARENA_MAX=2`, `TFMODEL_TRIM_MEMORY=0+MALLOC_ARENA_MAX=2`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { METRICS_PATH, type ServedModel, countOf, startTwoModelServer } from './reload.js';

/** The server's memory after one cycle, bytes (threads: a count). */
export interface MemorySample {
  /** VmRSS, and its anonymous (heap, arenas, stacks, V8) and file-backed (libraries, mmapped files) parts. */
  readonly rss: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly threads: number;
  /** V8's used heap and its external memory (ArrayBuffers and what addons report), from the server's metrics. */
  readonly heapUsed: number;
  readonly external: number;
}

export interface CyclesVariant {
  readonly label: string;
  readonly samples: readonly MemorySample[];
  /** RSS: (last - 10th) / 10th, and (last - 1st) / 1st. */
  readonly growthAfterWarm: number;
  readonly growthFromFirst: number;
  /** RSS: median of the last 10 cycles against the median of cycles 10-19. */
  readonly medianGrowth: number;
  /** The largest RSS after any cycle from the 10th on. */
  readonly peakAfterWarm: number;
}

export interface CyclesResult {
  readonly model: string;
  readonly runtime: string;
  readonly cycles: number;
  readonly variants: readonly CyclesVariant[];
}

/** `default` -> {}; `A=1+B=2` -> { A: '1', B: '2' }. */
export function variantEnv(label: string): Record<string, string> {
  if (label === 'default') return {};
  return Object.fromEntries(label.split('+').map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_CYCLE_VARIANTS: "${pair}" is not NAME=VALUE`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
}

function statusField(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
  return Number(line?.replace(/\D+/g, '') ?? Number.NaN);
}

async function sample(pid: number, restBase: string): Promise<MemorySample> {
  const metrics = await (await fetch(`${restBase}${METRICS_PATH}`)).text();
  const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? Number.NaN);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rss: statusField(status, 'VmRSS') * 1024,
    rssAnon: statusField(status, 'RssAnon') * 1024,
    rssFile: statusField(status, 'RssFile') * 1024,
    threads: statusField(status, 'Threads'),
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    external: metric('nodejs_external_memory_bytes'),
  };
}

async function runVariant(workDir: string, model: ServedModel, runtime: string, cycles: number, label: string, log: (m: string) => void): Promise<CyclesVariant> {
  mkdirSync(workDir, { recursive: true });
  const server = await startTwoModelServer(workDir, undefined, model, [`--runtime=${runtime}`], variantEnv(label));
  const samples: MemorySample[] = [];
  try {
    let version: 1 | 2 = 1;
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const unloaded = countOf(server.process.events, 'version_unloaded', model.name);
      version = version === 1 ? 2 : 1;
      server.flip(version);
      await server.process.waitFor(() => countOf(server.process.events, 'version_unloaded', model.name) > unloaded, 120_000);
      await sleep(500);
      samples.push(await sample(server.process.pid, server.restBase));
      if (cycle % 10 === 0) log(`cycles [${label}]: ${cycle}/${cycles}, ${describe(samples[samples.length - 1]!)}`);
    }
  } finally {
    await server.process.stop();
  }
  const rss = samples.map((s) => s.rss);
  const last = rss[rss.length - 1]!;
  const warm = rss[Math.min(9, rss.length - 1)]!;
  return { label, samples, growthAfterWarm: (last - warm) / warm, growthFromFirst: (last - rss[0]!) / rss[0]!, ...windowed(rss) };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Median of the last 10 samples against the median of samples 10-19 (1-based); the peak from the 10th on. */
export function windowed(rss: readonly number[]): { medianGrowth: number; peakAfterWarm: number } {
  const fromWarm = rss.slice(Math.min(9, rss.length - 1));
  const warm = median(fromWarm.slice(0, 10));
  return { medianGrowth: (median(rss.slice(-10)) - warm) / warm, peakAfterWarm: Math.max(...fromWarm) };
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

export function describe(s: MemorySample): string {
  return `RSS ${mib(s.rss)} MiB (anon ${mib(s.rssAnon)}, file ${mib(s.rssFile)}), V8 heap ${mib(s.heapUsed)}, external ${mib(s.external)} MiB, ${s.threads} threads`;
}

export async function runCyclesSection(workDir: string, model: ServedModel, options: { runtime: string; cycles: number; variants: readonly string[] }, log: (m: string) => void): Promise<CyclesResult> {
  const variants: CyclesVariant[] = [];
  for (const [i, label] of options.variants.entries()) {
    variants.push(await runVariant(join(workDir, `v${i}`), model, options.runtime, options.cycles, label, log));
  }
  return { model: model.name, runtime: options.runtime, cycles: options.cycles, variants };
}

/** The markdown table: per variant, memory after cycles 1, 10 and the last, and the growth. */
export function cyclesTable(c: CyclesResult): string {
  const at = (v: CyclesVariant, n: number): MemorySample => v.samples[Math.min(n, v.samples.length) - 1]!;
  const rows = c.variants.flatMap((v) => [1, 10, c.cycles].map((n) => {
    const s = at(v, n);
    return `| ${v.label} | ${n} | ${mib(s.rss)} | ${mib(s.rssAnon)} | ${mib(s.rssFile)} | ${mib(s.heapUsed)} | ${mib(s.external)} | ${s.threads} |`;
  }));
  return [
    `## RSS over ${c.cycles} load/unload cycles (${c.model}, ${c.runtime}, same run)`,
    '| server env | after cycle | RSS (MiB) | anon | file | V8 heap used | V8 external | threads |', '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...c.variants.map((v) => `${v.label}: RSS growth after the 10th ${pct(v.growthAfterWarm)} (target < 5%); from the 1st ${pct(v.growthFromFirst)}; ` +
      `median of the last 10 against cycles 10-19 ${pct(v.medianGrowth)}; peak from the 10th on ${mib(v.peakAfterWarm)} MiB`),
  ].join('\n');
}
