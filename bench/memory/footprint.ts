/**
 * The `footprint` section of `npm run bench:memory`: what each engine holds per model, against the
 * bytes the footprint estimate reads (saved_model.pb + variables/, src/server/core/footprint.ts).
 * Each (engine, model) is one fresh process (footprint-child.ts): RSS gained by loading the model
 * and answering one request. The per-instance constant is the tiny half_plus_two's gain; the
 * factor of a model is (gain - constant) / bytes on disk.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { estimateFootprint } from '../../src/server/core/footprint.js';
import { savedModelFiles } from '../../src/server/core/version-loader.js';
import type { BackendName } from '../../src/server/runtime/backend.js';

const execFileAsync = promisify(execFile);
const CHILD = fileURLToPath(new URL('./footprint-child.js', import.meta.url));

export interface FootprintRow {
  readonly engine: string;
  readonly model: string;
  readonly graphBytes: number;
  readonly variablesBytes: number;
  readonly rssGain: number;
  /** What core/footprint.ts estimates for one instance. */
  readonly estimate: number;
  /** (rssGain - the engine's constant) / diskBytes; undefined for the tiny model itself. */
  readonly factor: number | undefined;
}

export interface FootprintModel {
  readonly name: string;
  readonly dir: string;
}

async function probe(engine: string, dir: string, warmDir: string): Promise<number> {
  const args = ['--expose-gc', CHILD, engine, dir, ...(engine === 'tensorflow' ? [warmDir] : [])];
  const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 1 << 20, timeout: 300_000 });
  const { rssBefore, rssAfter } = JSON.parse(stdout.trim().split('\n').pop()!) as { rssBefore: number; rssAfter: number };
  return rssAfter - rssBefore;
}

/** `tiny` first: its gain is the engine's per-instance constant. */
export async function measureFootprints(engines: readonly string[], tiny: FootprintModel, models: readonly FootprintModel[], log: (m: string) => void): Promise<FootprintRow[]> {
  const rows: FootprintRow[] = [];
  for (const engine of engines) {
    const constant = await probe(engine, tiny.dir, tiny.dir);
    const tinyFiles = await savedModelFiles(tiny.dir);
    rows.push({ engine, model: tiny.name, ...tinyFiles, rssGain: constant, estimate: estimateFootprint(tinyFiles, engine as BackendName, 1), factor: undefined });
    log(`footprint ${engine} ${tiny.name}: +${mib(constant)} MiB`);
    for (const model of models) {
      let gain: number;
      try {
        gain = await probe(engine, model.dir, tiny.dir);
      } catch (error) {
        log(`footprint ${engine} ${model.name}: failed (${String(error).split('\n')[0]})`);
        continue;
      }
      const files = await savedModelFiles(model.dir);
      const diskBytes = files.graphBytes + files.variablesBytes;
      rows.push({ engine, model: model.name, ...files, rssGain: gain, estimate: estimateFootprint(files, engine as BackendName, 1), factor: (gain - constant) / diskBytes });
      log(`footprint ${engine} ${model.name}: ${mib(diskBytes)} MiB on disk, +${mib(gain)} MiB RSS, factor ${((gain - constant) / diskBytes).toFixed(2)}`);
    }
  }
  return rows;
}

export function footprintTable(rows: readonly FootprintRow[]): string {
  const lines = [
    '| engine | model | graph (MiB) | variables (MiB) | RSS gained (MiB) | (gain - constant) / disk | estimate (MiB) | estimate / gain |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const factor = r.factor === undefined ? 'constant' : r.factor.toFixed(2);
    lines.push(`| ${r.engine} | ${r.model} | ${mib(r.graphBytes)} | ${mib(r.variablesBytes)} | ${mib(r.rssGain)} | ${factor} | ${mib(r.estimate)} | ${(r.estimate / r.rssGain).toFixed(2)} |`);
  }
  for (const engine of new Set(rows.map((r) => r.engine))) {
    const fit = fitFootprint(rows.filter((r) => r.engine === engine));
    if (fit) lines.push('', `${engine}: least-squares fit gain = ${mib(fit[0])} MiB + ${fit[1].toFixed(1)} x graph + ${fit[2].toFixed(2)} x variables`);
  }
  return lines.join('\n');
}

/** [constant, graph factor, variables factor] minimising the squared error over the rows (normal equations). */
export function fitFootprint(rows: readonly FootprintRow[]): [number, number, number] | undefined {
  if (rows.length < 3) return undefined;
  const a = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const b = [0, 0, 0];
  for (const r of rows) {
    const x = [1, r.graphBytes, r.variablesBytes];
    for (let i = 0; i < 3; i++) {
      b[i]! += x[i]! * r.rssGain;
      for (let j = 0; j < 3; j++) a[i]![j]! += x[i]! * x[j]!;
    }
  }
  // Gaussian elimination with partial pivoting on the 3x3 system.
  for (let col = 0; col < 3; col++) {
    let pivot = col;
    for (let row = col + 1; row < 3; row++) if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    if (a[col]![col] === 0) return undefined;
    for (let row = col + 1; row < 3; row++) {
      const k = a[row]![col]! / a[col]![col]!;
      for (let j = col; j < 3; j++) a[row]![j]! -= k * a[col]![j]!;
      b[row]! -= k * b[col]!;
    }
  }
  const x = [0, 0, 0];
  for (let i = 2; i >= 0; i--) {
    let sum = b[i]!;
    for (let j = i + 1; j < 3; j++) sum -= a[i]![j]! * x[j]!;
    x[i] = sum / a[i]![i]!;
  }
  return [x[0]!, x[1]!, x[2]!];
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
