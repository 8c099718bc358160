/**
 * Parent side of the memory and load-time probes: runs probe-child.js in a fresh Node process per
 * probe and derives the figures the report needs (RSS delta against the model's weight bytes).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LoadProbeOutput, MemoryProbeOutput } from './probe-child.js';

const execFileAsync = promisify(execFile);
const CHILD = fileURLToPath(new URL('./probe-child.js', import.meta.url));

export interface MemoryResult extends MemoryProbeOutput {
  readonly model: string;
  readonly weightBytes: number;
  /** RSS after the first load minus RSS after runtime init. */
  readonly rssDelta: number;
  /** rssDelta / weightBytes. */
  readonly deltaPerWeightByte: number;
  /** RSS growth from loading a second copy: the per-model cost without one-time initialisation. */
  readonly secondCopyDelta: number;
}

export type LoadTimeResult = LoadProbeOutput;

async function runChild<T>(args: readonly string[]): Promise<T> {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', CHILD, ...args], { maxBuffer: 16 << 20 });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/**
 * `checkpointBytes` is the size of the variables' data files; the ratio uses the bytes of the
 * tensors the model holds once loaded when known, since checkpoints may store a variable twice
 * (Keras 3 exports do) while the runtime loads only the keys the graph reads.
 */
export async function probeMemory(model: string, dir: string, checkpointBytes: number): Promise<MemoryResult> {
  const output = await runChild<MemoryProbeOutput>(['memory', dir]);
  const rssDelta = output.modelLoaded.rss - output.runtimeInit.rss;
  const held = output.modelLoaded.tfjsTensorBytes - output.runtimeInit.tfjsTensorBytes;
  const weightBytes = held > 0 ? held : checkpointBytes;
  return {
    ...output,
    model,
    weightBytes,
    rssDelta,
    deltaPerWeightByte: weightBytes > 0 ? rssDelta / weightBytes : Number.NaN,
    secondCopyDelta: output.secondCopyLoaded.rss - output.modelLoaded.rss,
  };
}

export function probeLoadTime(dir: string, loads: number): Promise<LoadTimeResult> {
  return runChild<LoadProbeOutput>(['load', dir, String(loads)]);
}
