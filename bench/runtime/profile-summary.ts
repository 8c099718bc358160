/**
 * Summarises V8 .cpuprofile files (node --cpu-prof): self time per function, and per layer, to
 * tell whether time goes to tfjs-converter's graph executor, tfjs-core, the wasm kernels, our own
 * runtime code, or the garbage collector.
 *
 *   node dist/bench/runtime/profile-summary.js <file.cpuprofile>... [--top N]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Which layer a function belongs to, from its script URL. */
export function layerOf(frame: CallFrame): string {
  const url = frame.url;
  if (frame.functionName === '(garbage collector)') return 'GC';
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(program)') return 'V8/native (program)';
  if (url.startsWith('wasm://') || /^(wasm-function|\$)/.test(frame.functionName)) return 'wasm kernels';
  if (url.includes('tfjs-backend-wasm')) return 'tfjs-backend-wasm (JS)';
  if (url.includes('tfjs-converter')) return 'tfjs-converter (graph executor)';
  if (url.includes('tfjs-core')) return 'tfjs-core';
  if (url.includes('tfjs-backend-cpu')) return 'tfjs-backend-cpu';
  if (url.includes('/dist/src/')) return 'ours (dist/src)';
  if (url.includes('/dist/bench/')) return 'bench driver';
  if (url.startsWith('node:') || url === '') return 'Node internals / builtins';
  return 'other';
}

function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByFunction = new Map<string, { frame: CallFrame; micros: number }>();
  const selfByLayer = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    total += micros;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url}:${frame.lineNumber + 1}`;
    const entry = selfByFunction.get(key) ?? { frame, micros: 0 };
    entry.micros += micros;
    selfByFunction.set(key, entry);
    const layer = layerOf(frame);
    selfByLayer.set(layer, (selfByLayer.get(layer) ?? 0) + micros);
  });
  const busy = total - (selfByLayer.get('idle') ?? 0);
  const pct = (micros: number): string => `${((100 * micros) / Math.max(1, busy)).toFixed(1)}%`;
  const lines = [`## ${basename(file)}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms`, '', '| Layer | self time (% of busy) |', '| --- | --- |'];
  for (const [layer, micros] of [...selfByLayer].filter(([l]) => l !== 'idle').sort((a, b) => b[1] - a[1])) lines.push(`| ${layer} | ${pct(micros)} |`);
  lines.push('', '| Function | Layer | self time |', '| --- | --- | --- |');
  const functions = [...selfByFunction.entries()].filter(([, e]) => layerOf(e.frame) !== 'idle').sort((a, b) => b[1].micros - a[1].micros);
  for (const [key, entry] of functions.slice(0, top)) {
    const short = key.replace(/file:\/\/\S*node_modules\//, '').replace(/file:\/\/\S*\/dist\//, 'dist/');
    lines.push(`| ${short} | ${layerOf(entry.frame)} | ${pct(entry.micros)} |`);
  }
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 20;
  const files = args.filter((a, i) => a !== '--top' && i !== topIndex + 1);
  if (files.length === 0) throw new Error('usage: profile-summary.js <file.cpuprofile>... [--top N]');
  for (const file of files) console.log(`${summarise(file, top)}\n`);
}

main();
