import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir } from '../../../../test/support/corpus.js';
import { readSavedModelProto } from '../savedmodel/read-saved-model.js';
import { runCli } from './cli.js';
import { PySet, pyStrHash } from './python-set.js';
import { SHARED_SAVEDMODELS, sharedSavedModelsPresent } from '../../../../test/support/shared-savedmodels.js';
import { HALF_PLUS_TWO, TEST_MODELS } from '../../../../test/support/test-models.js';
import { callOracle, spawnCli, venvPython } from './test-oracle.js';

const SHARED = SHARED_SAVEDMODELS;

/** Our test models, the shared TF Serving and tfjs-node models (when present), then every corpus model. */
function modelDirs(corpus: string | undefined): string[] {
  const dirs: string[] = [];
  for (const name of readdirSync(TEST_MODELS).sort()) {
    const dir = join(TEST_MODELS, name, '00000123');
    if (existsSync(join(dir, 'saved_model.pb'))) dirs.push(dir);
  }
  const servingRoot = join(SHARED, 'tf-serving');
  if (sharedSavedModelsPresent()) {
    for (const name of readdirSync(servingRoot).sort()) {
      const dir = join(servingRoot, name, '00000123');
      if (existsSync(join(dir, 'saved_model.pb'))) dirs.push(dir);
    }
  }
  const tfjsRoot = join(SHARED, 'tfjs-node');
  if (existsSync(tfjsRoot)) {
    for (const name of readdirSync(tfjsRoot).sort()) {
      if (existsSync(join(tfjsRoot, name, 'saved_model.pb'))) dirs.push(join(tfjsRoot, name));
    }
  }
  if (corpus) {
    for (const name of readdirSync(corpus).sort()) {
      if (existsSync(join(corpus, name, 'model', 'saved_model.pb'))) dirs.push(join(corpus, name, 'model'));
    }
  }
  return dirs;
}

interface OracleAnswer {
  readonly stdout: string;
  readonly error: string | null;
}

/**
 * TensorFlow prints dicts from protobuf maps in upb's hash order, which is randomised per process;
 * compare those "Value: {...}" lines as sets of entries.
 */
function normalize(text: string): string {
  return text
    .replace(/^(\s*Value: \{)(.*)([\b][\b]\})$/gm, (_, open: string, body: string, close: string) =>
      open + body.split(/(?<=, )(?=')/).sort().join('') + close)
    .replace(/(Please choose from: )(.*)$/gm, (_, lead: string, list: string) => lead + list.split(', ').sort().join(', '));
}

async function ours(argv: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

describe('cli/show against TensorFlow saved_model_cli', function () {
  this.timeout(300_000);
  const jobs: string[][] = [];
  let answers: OracleAnswer[] = [];
  let dirs: string[] = [];
  const halfPlusTwo = HALF_PLUS_TWO;

  before(async function () {
    const venv = venvPython();
    const corpus = corpusDir();
    if (!venv.python || !corpus.dir) {
      console.warn(`skipping: ${venv.skipReason ?? corpus.skipReason}`);
      this.skip();
    }
    dirs = modelDirs(corpus.dir);
    for (const dir of dirs) {
      jobs.push(['show', '--dir', dir], ['show', '--dir', dir, '--all'], ['show', '--dir', dir, '--tag_set', 'serve', '--list_ops']);
      const savedModel = await readSavedModelProto(dir);
      for (const key of Object.keys(savedModel.metaGraphs[0]!.signatureDef)) {
        jobs.push(['show', '--dir', dir, '--tag_set', 'serve', '--signature_def', key]);
      }
    }
    jobs.push(
      ['show', '--dir', '/nonexistent/model'],
      ['show', '--dir', halfPlusTwo, '--tag_set', 'serve,gpu'],
      ['show', '--dir', halfPlusTwo, '--tag_set', 'serve', '--signature_def', 'nope'],
      ['show', '--dir', halfPlusTwo, '--tag_set', ' , '],
      ['show', '--dir', halfPlusTwo, '--list_ops'],
    );
    answers = await callOracle<OracleAnswer[]>(venv.python!, { mode: 'cli', jobs });
  });

  it('covers our test models, the shared models (when present) and the corpus models', () => {
    assert.ok(dirs.length >= (sharedSavedModelsPresent() ? 44 : 35), `found ${dirs.length} models`);
  });

  it('prints the same text as TensorFlow for tag-sets, signatures, ops and --all', async () => {
    const mismatches: string[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const expected = answers[i]!;
      if (expected.error) continue;
      const result = await ours(jobs[i]!);
      assert.equal(result.status, 0, `${jobs[i]!.join(' ')}: ${result.stderr}`);
      if (normalize(result.stdout) !== normalize(expected.stdout)) mismatches.push(jobs[i]!.join(' '));
    }
    assert.deepEqual(mismatches, []);
  });

  it('matches byte for byte where TensorFlow prints no protobuf map order', async () => {
    const exact = jobs.map((job, i) => ({ job, expected: answers[i]! })).filter(({ expected }) => !expected.error && !expected.stdout.includes('Value: {'));
    assert.ok(exact.length > 150);
    for (const { job, expected } of exact) assert.equal((await ours(job)).stdout, expected.stdout, job.join(' '));
  });

  it('fails like TensorFlow for a missing model, tag-set or signature (exit 1 or 2, one line)', async () => {
    const errors = jobs.map((job, i) => ({ job, expected: answers[i]! })).filter(({ expected }) => expected.error);
    assert.equal(errors.length, 4);
    for (const { job, expected } of errors) {
      const result = await ours(job);
      assert.equal(normalize(result.stderr.trimEnd()), normalize(expected.error!), job.join(' '));
      assert.equal(result.status, job[2] === '/nonexistent/model' ? 1 : 2);
      assert.equal(result.stdout, '');
    }
  });

  it('runs as a program (node main.js) with the same output', async () => {
    const index = jobs.findIndex((j) => j[2] === halfPlusTwo && j[3] === '--all');
    const result = await spawnCli(jobs[index]!);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, answers[index]!.stdout);
  });
});

describe('cli/python-set against CPython', function () {
  this.timeout(60_000);

  it('hashes strings and orders sets as CPython does with PYTHONHASHSEED=0', async function () {
    const venv = venvPython();
    if (!venv.python) {
      console.warn(`skipping: ${venv.skipReason}`);
      this.skip();
    }
    const strings = ['', 'a', 'serve', 'MatMul', 'StatefulPartitionedCall', 'é', 'ü€', '😀', 'exactly8', 'seventeen chars!!'];
    const sets = [
      ['WriteFile', 'ReadFile', 'PrintV2'],
      Array.from({ length: 60 }, (_, i) => `Op${i}`),
      ['b', 'a', 'c', 'a'],
      [],
    ];
    const answer = await callOracle<{ hashes: string[]; sets: string[][] }>(venv.python!, { mode: 'hash', strings, sets });
    assert.deepEqual(strings.map((s) => pyStrHash(s).toString()), answer.hashes);
    assert.deepEqual(sets.map((items) => new PySet(items).values()), answer.sets);
  });
});
