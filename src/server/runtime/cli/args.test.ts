import assert from 'node:assert/strict';
import { parseCommandLine } from './args.js';
import { CliError, EXIT_USAGE } from './cli-errors.js';

function usageMessage(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, EXIT_USAGE);
    return error.describe('saved-model-cli');
  }
  assert.fail(`${argv.join(' ')} parsed`);
}

describe('cli/args', () => {
  it('parses flags before and after the command, with = or a separate value', () => {
    const parsed = parseCommandLine(['--dir=/m', 'run', '--tag_set', 'serve', '--signature_def', 'k', '--input_exprs', 'x=[1]', '--overwrite', '--runtime=cpu']);
    assert.equal(parsed.action, 'run');
    if (parsed.action !== 'run') return;
    assert.equal(parsed.flags.dir, '/m');
    assert.equal(parsed.flags.tagSet, 'serve');
    assert.equal(parsed.flags.signatureDef, 'k');
    assert.equal(parsed.flags.inputExprs, 'x=[1]');
    assert.equal(parsed.flags.inputs, '');
    assert.equal(parsed.flags.overwrite, true);
    assert.equal(parsed.flags.runtime, 'cpu');
  });

  it('reads absl booleans: --all, --noall, --all=false', () => {
    const all = (argv: string[]): boolean => {
      const parsed = parseCommandLine(['show', '--dir', 'd', ...argv]);
      return parsed.action === 'show' && parsed.flags.all;
    };
    assert.equal(all(['--all']), true);
    assert.equal(all(['--all', '--noall']), false);
    assert.equal(all(['--all=false']), false);
    assert.equal(all(['--all=1']), true);
    assert.match(usageMessage(['show', '--dir', 'd', '--all=maybe']), /Non-boolean argument to boolean flag/);
  });

  it('defaults to the auto runtime and no optional flags', () => {
    const parsed = parseCommandLine(['show', '--dir', 'd']);
    assert.equal(parsed.action, 'show');
    if (parsed.action !== 'show') return;
    assert.equal(parsed.flags.runtime, 'auto');
    assert.equal(parsed.flags.tagSet, undefined);
    assert.equal(parsed.flags.outdir, undefined);
  });

  it('answers --help and --version', () => {
    assert.deepEqual(parseCommandLine(['--version']), { action: 'version', text: '0.1.0\n' });
    const help = parseCommandLine(['show', '-h']);
    assert.equal(help.action, 'help');
    assert.match((help as { text: string }).text, /^usage: saved-model-cli show/);
    assert.match((parseCommandLine(['--help']) as { text: string }).text, /\{show,run\}/);
  });

  it('reports usage errors argparse-style', () => {
    assert.equal(usageMessage([]), 'usage: saved-model-cli [-h] [-v] {show,run} ...\nsaved-model-cli: error: Too few arguments.');
    assert.match(usageMessage(['show']), /^usage: saved-model-cli show \[-h\]\nsaved-model-cli show: error: flag --dir=None: Flag --dir must have a value other than None\.$/);
    assert.match(usageMessage(['run', '--dir', 'd', '--tag_set', 'serve']), /Flag --signature_def must have a value/);
    assert.match(usageMessage(['show', '--dir', 'd', '--colour']), /Unknown command line flag 'colour'/);
    assert.match(usageMessage(['shw', '--dir', 'd']), /invalid choice: 'shw'/);
    assert.match(usageMessage(['show', 'extra', '--dir', 'd']), /unrecognized arguments: extra/);
    assert.match(usageMessage(['convert', '--dir', 'd']), /not supported by this implementation/);
    assert.match(usageMessage(['show', '--dir']), /expected one argument/);
    assert.match(usageMessage(['show', '--dir', 'd', '--runtime', 'tpu']), /value should be one of <auto\|tensorflow\|wasm\|cpu>/);
  });
});
