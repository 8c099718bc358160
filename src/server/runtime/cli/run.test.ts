import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir, readCorpusModel } from '../../../../test/support/corpus.js';
import { runCli } from './cli.js';
import { TFJS_NODE_MODELS as TFJS, sharedSavedModelsPresent } from '../../../../test/support/shared-savedmodels.js';
import { HALF_PLUS_TWO, HALF_PLUS_TWO_TF2_BASE } from '../../../../test/support/test-models.js';
import { callOracle, spawnCli, type SpawnResult, venvPython } from './test-oracle.js';
import { testRuntimes } from '../../../../test/support/runtimes.js';

const HALF_PLUS_TWO_TF2 = join(HALF_PLUS_TWO_TF2_BASE, '00000123');

interface OracleAnswer {
  readonly stdout: string;
  readonly error: string | null;
}

/** How our output must relate to TensorFlow's. */
type Expectation =
  | 'exact' // same stdout, byte for byte
  | 'close' // same text, numbers equal within float32 rounding of a different kernel
  | 'error'; // TensorFlow raises; we exit non-zero with its message

interface RunCase {
  readonly name: string;
  readonly args: string[];
  /** Our arguments when they differ from TensorFlow's (our extensions). */
  readonly ours?: string[];
  readonly expect: Expectation;
  /** For errors: our exit status. */
  readonly status?: number;
  /** Run the built binary in a node process rather than in-process. */
  readonly spawn?: boolean;
}

/**
 * Runs the CLI in this process. Pinned to the wasm runtime, which every test sharing a mocha
 * process uses (tfjs keeps one backend per thread); spawned cases use the default, auto.
 */
async function inProcess(argv: readonly string[]): Promise<SpawnResult> {
  let stdout = '';
  let stderr = '';
  const pinned = argv[0] !== 'run' || argv.some((a) => a.startsWith('--runtime')) ? argv : [...argv, '--runtime=wasm'];
  const status = await runCli(pinned, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

const run = (dir: string, signature: string, ...rest: string[]): string[] => ['run', '--dir', dir, '--tag_set', 'serve', '--signature_def', signature, ...rest];

/** A Python literal of nested lists from flat values and a shape. */
function literal(values: readonly unknown[], shape: readonly number[], item: (v: unknown) => string): string {
  if (shape.length === 0) return item(values[0]);
  const [n, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  return `[${Array.from({ length: n! }, (_, i) => literal(values.slice(i * step, (i + 1) * step), rest, item)).join(', ')}]`;
}

/** Splits printed arrays into text and numbers; numbers must agree to float32 precision. */
function assertClose(ours: string, theirs: string, label: string): void {
  const number = /-?(?:\d+\.?\d*(?:e[+-]\d+)?|nan|inf)/g;
  const skeleton = (s: string): string => s.replace(number, '#').replace(/\s+/g, ' ');
  assert.equal(skeleton(ours), skeleton(theirs), `${label}: layout`);
  const a = ours.match(number) ?? [];
  const b = theirs.match(number) ?? [];
  a.forEach((x, i) => {
    const [u, v] = [Number(x), Number(b[i])];
    assert.ok(Math.abs(u - v) <= 1e-6 + 1e-5 * Math.abs(v), `${label}: ${x} vs ${b[i]}`);
  });
}

describe('cli/run against TensorFlow saved_model_cli', function () {
  this.timeout(300_000);
  let dir = '';
  let cases: RunCase[] = [];
  let answers: OracleAnswer[] = [];
  let results: SpawnResult[] = [];

  before(async function () {
    const venv = venvPython();
    const corpus = corpusDir();
    if (!venv.python || !corpus.dir) {
      console.warn(`skipping: ${venv.skipReason ?? corpus.skipReason}`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'cli-run-test-'));
    const model = (name: string): string => join(corpus.dir!, name, 'model');
    const mlp = readCorpusModel(corpus.dir!, 'keras_mlp').cases[0]!.inputs['features']!;
    const mlpInput = `features=${literal(mlp.values, mlp.shape, (v) => String(v))}`;
    const many = Array.from({ length: 2000 }, (_, i) => i / 2);
    const file = (name: string): string => join(dir, name);
    cases = [
      { name: 'half_plus_two predict', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1],[2],[3.5]]'), expect: 'exact', spawn: true },
      { name: 'half_plus_two regress (tf.Example)', args: run(HALF_PLUS_TWO, 'regress_x_to_y', '--input_examples', 'inputs=[{"x":[5.0]},{"x":[1e-9]}]'), expect: 'exact' },
      { name: 'half_plus_two classify (tf.Example)', args: run(HALF_PLUS_TWO, 'classify_x_to_y', '--input_examples', 'inputs=[{"x":[1.0]},{"x":[-3.0]}]'), expect: 'exact' },
      { name: 'half_plus_two scientific notation', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1e10],[2],[-3.5e-3]]'), expect: 'exact' },
      { name: 'half_plus_two summarised output', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', `x=${literal(many, [2000, 1], String)}`), expect: 'exact' },
      { name: 'half_plus_two from .npy (float64 cast to float32)', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', `x=${file('x.npy')}`), expect: 'exact' },
      { name: 'half_plus_two from .npz by name', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', `x=${file('xs.npz')}[b]`), expect: 'exact' },
      { name: 'half_plus_two from single-array .npz', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', `x=${file('one.npz')}`), expect: 'exact' },
      { name: 'Fortran-order big-endian .npy', args: run(model('multi_signature'), 'serving_default', '--inputs', `x=${file('fortran.npy')}`), expect: 'exact' },
      { name: '--input_exprs overrides --inputs', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', `x=${file('x.npy')}`, '--input_exprs', 'x=[[8]]'), expect: 'exact' },
      {
        name: 'np.ones extension (TensorFlow given the same values literally)',
        args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1.0], [1.0]]'),
        ours: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=np.ones((2, 1))'),
        expect: 'exact',
      },
      { name: 'half_plus_two TF2 predict', args: run(HALF_PLUS_TWO_TF2, 'serving_default', '--input_exprs', 'x=[1.5]'), expect: 'exact' },
      { name: 'half_plus_two TF2 regress_x2_to_y3', args: run(HALF_PLUS_TWO_TF2, 'regress_x2_to_y3', '--input_exprs', 'inputs=[4]'), expect: 'exact' },
      { name: 'float outputs saved with --outdir', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1],[2]]', '--outdir', file('OUT/half')), expect: 'exact' },
      { name: 'int64 outputs saved with --outdir', args: run(model('dtype_signatures'), 'int64_math', '--input_exprs', 'a=[1,2,3];b=[4,5,-6]', '--outdir', file('OUT/int64')), expect: 'exact' },
      { name: 'bool outputs saved with --outdir', args: run(model('dtype_signatures'), 'bool_logic', '--input_exprs', 'a=[True,False];b=[True,True];x=[1.0,-2.0]', '--outdir', file('OUT/bool')), expect: 'exact' },
      { name: 'string model', args: run(model('dtype_signatures'), 'string_ops', '--input_exprs', `text=["hello world", b"abc", 'it\\'s']`), expect: 'exact', spawn: true },
      { name: 'string lookup model', args: run(model('vocab_lookup'), 'serving_default', '--input_exprs', 'tokens=["the", "cat", "unknown", b"sat"]'), expect: 'exact' },
      { name: 'corpus float model (exact arithmetic)', args: run(model('multi_signature'), 'serving_default', '--input_exprs', 'x=[[1.5, -2.0, 0.25, 8.0], [0.0, 1.0, 2.0, 3.0]]'), expect: 'exact' },
      { name: 'corpus while loop', args: run(model('while_loop'), 'fibonacci', '--input_exprs', 'n=10'), expect: 'exact' },
      { name: 'corpus float model (Keras MLP)', args: run(model('keras_mlp'), 'serving_default', '--input_exprs', mlpInput), expect: 'close' },
      // errors
      { name: 'unknown input key', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'z=[[1]]'), expect: 'error', status: 2, spawn: true },
      { name: 'bad expression', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1]'), expect: 'error', status: 2 },
      { name: 'expression without key', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', '[[1]]'), expect: 'error', status: 2 },
      { name: 'no inputs', args: run(HALF_PLUS_TWO, 'serving_default'), expect: 'error', status: 2 },
      { name: 'unknown signature', args: run(HALF_PLUS_TWO, 'nope', '--input_exprs', 'x=[[1]]'), expect: 'error', status: 2 },
      { name: 'unknown tag-set', args: ['run', '--dir', HALF_PLUS_TWO, '--tag_set', 'train', '--signature_def', 'serving_default', '--input_exprs', 'x=[[1]]'], expect: 'error', status: 2 },
      { name: 'shape mismatch', args: run(HALF_PLUS_TWO_TF2, 'serving_default', '--input_exprs', 'x=[[1],[2]]'), expect: 'error', status: 2 },
      { name: 'bad --inputs format', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', 'x'), expect: 'error', status: 2 },
      { name: 'npz with several arrays and no name', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', `x=${file('xs.npz')}`), expect: 'error', status: 2 },
      { name: 'npz without that name', args: run(HALF_PLUS_TWO, 'serving_default', '--inputs', `x=${file('xs.npz')}[zz]`), expect: 'error', status: 2 },
      { name: 'tf.Example value that is not a list', args: run(HALF_PLUS_TWO, 'regress_x_to_y', '--input_examples', 'inputs=[{"x":5.0}]'), expect: 'error', status: 2 },
      { name: 'missing model', args: run(join(dir, 'nothing-here'), 'serving_default', '--input_exprs', 'x=[[1]]'), expect: 'error', status: 1, spawn: true },
    ];
    // tfjs-node's own test models, when the shared files are present.
    if (sharedSavedModelsPresent()) {
      cases.push(
        { name: 'int64 tfjs model', args: run(join(TFJS, 'int64_multiply'), 'serving_default', '--input_exprs', 'x=[3, -123456]'), expect: 'exact' },
        { name: 'uint8 input, int32 output', args: run(join(TFJS, 'uint8_multiply'), 'serving_default', '--input_exprs', 'x=[300]'), expect: 'exact' },
        { name: 'int32 scalar', args: run(join(TFJS, 'times_two_int'), 'serving_default', '--input_exprs', 'x=21'), expect: 'exact' },
        { name: 'float32 scalar', args: run(join(TFJS, 'times_three_float'), 'serving_default', '--input_exprs', 'x=0.1'), expect: 'exact' },
        { name: 'two scalar outputs', args: run(join(TFJS, 'model_multi_output'), 'serving_default', '--input_exprs', 'x=3;y=4'), expect: 'exact' },
        { name: 'int scalar that does not fit', args: run(join(TFJS, 'times_two_int'), 'serving_default', '--input_exprs', 'x=3000000000'), expect: 'error', status: 2 },
      );
    }
    // The native engine (when built; CI requires it): spawned binaries, so `--dir` and the other
    // flags reach a process that has loaded libtensorflow (issue 8, bug 1), with int64 beyond 2^53
    // and float64 beyond float32 answered whole.
    if (testRuntimes().includes('tensorflow')) {
      const native = (args: string[]): string[] => [...args, '--runtime=tensorflow'];
      const nativeCases: RunCase[] = [
        { name: 'native: half_plus_two predict', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1],[2],[3.5]]'), expect: 'exact' },
        { name: 'native: half_plus_two regress (tf.Example)', args: run(HALF_PLUS_TWO, 'regress_x_to_y', '--input_examples', 'inputs=[{"x":[5.0]},{"x":[1e-9]}]'), expect: 'exact' },
        { name: 'native: int64 beyond 2^53', args: run(model('dtype_signatures'), 'int64_math', '--input_exprs', 'a=[3000000000, 9007199254740993, -5];b=[7, 2, 3]'), expect: 'exact' },
        { name: 'native: float64 beyond float32', args: run(model('dtype_signatures'), 'float64_math', '--input_exprs', 'x=[1e200, 0.1, -700.0]'), expect: 'exact' },
        { name: 'native: strings', args: run(model('dtype_signatures'), 'string_ops', '--input_exprs', `text=["hello world", b"abc"]`), expect: 'exact' },
        { name: 'native: unknown input key', args: run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'z=[[1]]'), expect: 'error', status: 2 },
      ];
      cases.push(...nativeCases.map((c) => ({ ...c, ours: native(c.args), spawn: true })));
    }
    const arrays = {
      x: { dtype: '<f8', shape: [3, 1], values: ['0.5', '1.25', '-7'] },
      b: { dtype: '<f4', shape: [2, 1], values: ['10', '20'] },
      fortran: { dtype: '>f4', shape: [2, 4], values: ['1', '2', '3', '4', '-5', '6.5', '7', '0.25'] },
    };
    answers = await callOracle<OracleAnswer[]>(venv.python!, {
      mode: 'cli',
      dir,
      files: [
        { kind: 'npy', name: 'x.npy', array: arrays.x },
        { kind: 'npz', name: 'xs.npz', arrays: { a: arrays.x, b: arrays.b } },
        { kind: 'npz', name: 'one.npz', compressed: true, arrays: { only: arrays.b } },
        { kind: 'npy', name: 'fortran.npy', array: arrays.fortran, order: 'F' },
      ],
      jobs: cases.map((c) => c.args.map((a) => a.replace('/OUT/', '/tf/'))),
    });
    // In-process runs are much faster than a node process each; a few cases also run the binary.
    results = [];
    for (const c of cases) {
      const args = (c.ours ?? c.args).map((a) => a.replace('/OUT/', '/ours/'));
      results.push(c.spawn ? await spawnCli(args) : await inProcess(args));
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the same results as TensorFlow', () => {
    cases.forEach((c, i) => {
      if (c.expect === 'error') return;
      const theirs = answers[i]!;
      const ours = results[i]!;
      assert.equal(theirs.error, null, `${c.name}: TensorFlow failed: ${theirs.error}`);
      assert.equal(ours.status, 0, `${c.name}: ${ours.stderr}`);
      const stdout = ours.stdout.replaceAll(`${dir}/ours/`, `${dir}/tf/`);
      if (c.expect === 'exact') assert.equal(stdout, theirs.stdout, c.name);
      else assertClose(stdout, theirs.stdout, c.name);
    });
  });

  it('writes the same .npy files as TensorFlow with --outdir', () => {
    for (const sub of ['half', 'int64', 'bool']) {
      const names = readdirSync(join(dir, 'tf', sub)).sort();
      assert.deepEqual(readdirSync(join(dir, 'ours', sub)).sort(), names);
      for (const name of names) {
        assert.deepEqual(readFileSync(join(dir, 'ours', sub, name)), readFileSync(join(dir, 'tf', sub, name)), `${sub}/${name}`);
      }
    }
  });

  it('fails with TensorFlow\'s message and exit status 2 for usage errors, 1 for runtime errors', () => {
    cases.forEach((c, i) => {
      if (c.expect !== 'error') return;
      const theirs = answers[i]!;
      const ours = results[i]!;
      assert.ok(theirs.error, `${c.name}: TensorFlow did not fail`);
      assert.equal(ours.status, c.status, `${c.name}: ${ours.stderr}`);
      assert.equal(ours.stdout, '', c.name);
      const line = ours.stderr.trimEnd();
      assert.equal(line.split('\n').length, 1, `${c.name}: one line, no stack trace: ${line}`);
      const sortChoices = (s: string): string => s.replace(/(choose from: )(.*)$/, (_, a: string, b: string) => a + b.split(', ').sort().join(', '));
      // TensorFlow's wording, where we add detail after it.
      const expected = sortChoices(theirs.error!.split('\n')[0]!);
      const actual = sortChoices(line);
      if (c.name === 'missing model') assert.match(actual, /^OSError: SavedModel file does not exist at: /);
      else assert.ok(actual.startsWith(expected.replace(/\.$/, '')), `${c.name}:\n  ours: ${actual}\n  TF:   ${expected}`);
    });
  });

  it('refuses to overwrite an output file unless --overwrite is given', async () => {
    const args = run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1]]', '--outdir', join(dir, 'ours', 'half'));
    const refused = await inProcess(args);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^RuntimeError: Output file .*y\.npy already exists\. Add "--overwrite" to overwrite the existing output files\.\n$/);
    const replaced = await inProcess([...args, '--overwrite']);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.ok(existsSync(join(dir, 'ours', 'half', 'y.npy')));
  });

  it('reports command-line mistakes with a usage line and exit status 2', async () => {
    const checks: Array<[string[], RegExp]> = [
      [[], /Too few arguments\./],
      [['frobnicate'], /invalid choice: 'frobnicate'/],
      [['scan', '--dir', HALF_PLUS_TWO], /command 'scan' is not supported/],
      [['show'], /saved-model-cli show: error: flag --dir=None: Flag --dir must have a value other than None\./],
      [['run', '--dir', HALF_PLUS_TWO, '--tag_set', 'serve'], /flag --signature_def=None/],
      [['show', '--dir', HALF_PLUS_TWO, '--bogus', '1'], /Unknown command line flag 'bogus'/],
      [['show', '--dir'], /flag --dir: expected one argument/],
      [['run', '--dir', HALF_PLUS_TWO, '--tag_set', 'serve', '--signature_def', 'serving_default', '--input_exprs', 'x=[[1]]', '--runtime', 'gpu'], /--runtime=gpu: value should be one of <auto\|tensorflow\|wasm\|cpu>/],
    ];
    const outcomes = await Promise.all(checks.map(([args], i) => (i === 0 ? spawnCli(args) : inProcess(args))));
    checks.forEach(([args, pattern], i) => {
      const { status, stderr, stdout } = outcomes[i]!;
      assert.equal(status, 2, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '');
      assert.match(stderr, /^usage: saved-model-cli/);
      assert.match(stderr, pattern);
    });
    const help = await inProcess(['run', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: saved-model-cli run/);
  });

  it('runs on the cpu and wasm runtimes alike', async () => {
    const args = run(HALF_PLUS_TWO, 'serving_default', '--input_exprs', 'x=[[1],[2],[3.5]]');
    const cpu = await spawnCli([...args, '--runtime', 'cpu']); // tfjs keeps one backend per thread
    const wasm = await inProcess([...args, '--runtime=wasm']);
    assert.equal(cpu.status, 0, cpu.stderr);
    assert.equal(cpu.stdout, answers[0]!.stdout);
    assert.equal(wasm.stdout, answers[0]!.stdout);
  });
});
