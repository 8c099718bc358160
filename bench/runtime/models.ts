/**
 * The models under test: three Keras models from the TensorFlow ground-truth corpus (MLP, CNN,
 * LSTM) and TensorFlow Serving's half_plus_two for load time. Input shapes come from the corpus'
 * cases.json (the per-example shape of each signature input), so Node and Python feed the same.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file runs as dist/bench/runtime/models.js: three levels below the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Our own half_plus_two twin (test/models/generate.py). */
export const HALF_PLUS_TWO_DIR = join(REPO_ROOT, 'test', 'models', 'half_plus_two', '00000123');

export const SIGNATURE = 'serving_default';

export interface InputSpec {
  readonly alias: string;
  /** numpy name; the benchmark models take float32 only. */
  readonly dtype: 'float32';
  /** The shape of one example (the signature's shape without the batch dimension). */
  readonly exampleShape: readonly number[];
}

export interface BenchModel {
  readonly key: string;
  readonly label: string;
  readonly corpusName: string;
  /** The SavedModel directory. */
  readonly dir: string;
  readonly inputs: readonly InputSpec[];
  /** Sum of the variables/variables.data-* file sizes. */
  readonly weightBytes: number;
}

const BENCH_MODELS: ReadonlyArray<{ key: string; label: string; corpusName: string }> = [
  { key: 'mlp', label: 'MLP', corpusName: 'keras_mlp' },
  { key: 'cnn', label: 'CNN', corpusName: 'keras_cnn' },
  { key: 'lstm', label: 'LSTM', corpusName: 'keras_lstm' },
];

/** Runs one of the repository's set-up scripts; they print their answer as the last stdout line. */
function lastLineOfScript(script: string): string {
  const stdout = execFileSync('bash', [join(REPO_ROOT, 'scripts', script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1]!.trim();
}

export function locateCorpus(): string {
  return lastLineOfScript('ensure-corpus.sh');
}

export function locatePythonVenv(): string {
  return lastLineOfScript('python-env.sh');
}

export function weightBytes(modelDir: string): number {
  const variablesDir = join(modelDir, 'variables');
  let entries: string[];
  try {
    entries = readdirSync(variablesDir);
  } catch {
    return 0; // a model without variables (everything constant)
  }
  return entries.filter((f) => f.startsWith('variables.data-')).reduce((sum, f) => sum + statSync(join(variablesDir, f)).size, 0);
}

interface CasesFile {
  readonly cases: ReadonlyArray<{
    readonly signature: string;
    readonly inputs: Readonly<Record<string, { readonly dtype: string; readonly shape: readonly number[] }>>;
  }>;
}

function inputSpecsFromCases(casesPath: string): InputSpec[] {
  const cases = JSON.parse(readFileSync(casesPath, 'utf8')) as CasesFile;
  const first = cases.cases.find((c) => c.signature === SIGNATURE);
  if (!first) throw new Error(`${casesPath} has no ${SIGNATURE} case`);
  return Object.entries(first.inputs).map(([alias, spec]) => {
    if (spec.dtype !== 'float32') throw new Error(`${casesPath}: input ${alias} is ${spec.dtype}; the benchmark feeds float32 only`);
    return { alias, dtype: 'float32', exampleShape: spec.shape.slice(1) };
  });
}

/** The benchmark models present in the corpus, optionally restricted to some keys. */
export function benchModels(corpusDir: string, keys?: readonly string[]): BenchModel[] {
  return BENCH_MODELS.filter((m) => !keys || keys.includes(m.key)).map((m) => {
    const dir = join(corpusDir, m.corpusName, 'model');
    return { ...m, dir, inputs: inputSpecsFromCases(join(corpusDir, m.corpusName, 'cases.json')), weightBytes: weightBytes(dir) };
  });
}

export interface CorpusModelSize {
  readonly name: string;
  readonly dir: string;
  readonly weightBytes: number;
  readonly graphBytes: number;
}

/** Every corpus model with its weight and graph (saved_model.pb) sizes, largest weights first. */
export function corpusModelSizes(corpusDir: string): CorpusModelSize[] {
  return readdirSync(corpusDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const dir = join(corpusDir, e.name, 'model');
      let graphBytes = 0;
      try {
        graphBytes = statSync(join(dir, 'saved_model.pb')).size;
      } catch {
        graphBytes = 0;
      }
      return { name: e.name, dir, weightBytes: weightBytes(dir), graphBytes };
    })
    .filter((m) => m.graphBytes > 0)
    .sort((a, b) => b.weightBytes - a.weightBytes);
}
