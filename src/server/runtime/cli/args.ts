/**
 * Command-line parsing with saved_model_cli's conventions (absl flags through argparse): a
 * command (show, run) and --flag value / --flag=value options in any order, booleans as --all,
 * --noall or --all=true, required flags per command. Our extra flag: --runtime.
 */
import { type RuntimeSelection, RUNTIME_SELECTIONS, parseRuntimeSelection } from '../backend.js';
import { CliError, EXIT_USAGE } from './cli-errors.js';

export const PROGRAM = 'saved-model-cli';
export const VERSION = '0.1.0';

export type Command = 'show' | 'run';

export interface CliFlags {
  readonly dir?: string;
  readonly all: boolean;
  readonly tagSet?: string;
  readonly signatureDef?: string;
  readonly listOps: boolean;
  readonly inputs: string;
  readonly inputExprs: string;
  readonly inputExamples: string;
  readonly outdir?: string;
  readonly overwrite: boolean;
  readonly tfDebug: boolean;
  readonly runtime: RuntimeSelection;
}

export type ParsedCommandLine =
  | { readonly action: 'help'; readonly text: string }
  | { readonly action: 'version'; readonly text: string }
  | { readonly action: 'run' | 'show'; readonly flags: CliFlags };

type FlagKind = 'string' | 'bool';

const FLAGS: ReadonlyMap<string, { kind: FlagKind; key: keyof CliFlags }> = new Map([
  ['dir', { kind: 'string', key: 'dir' }],
  ['all', { kind: 'bool', key: 'all' }],
  ['tag_set', { kind: 'string', key: 'tagSet' }],
  ['signature_def', { kind: 'string', key: 'signatureDef' }],
  ['list_ops', { kind: 'bool', key: 'listOps' }],
  ['inputs', { kind: 'string', key: 'inputs' }],
  ['input_exprs', { kind: 'string', key: 'inputExprs' }],
  ['input_examples', { kind: 'string', key: 'inputExamples' }],
  ['outdir', { kind: 'string', key: 'outdir' }],
  ['overwrite', { kind: 'bool', key: 'overwrite' }],
  ['tf_debug', { kind: 'bool', key: 'tfDebug' }],
  ['runtime', { kind: 'string', key: 'runtime' }],
] as const);

const REQUIRED: Readonly<Record<Command, readonly string[]>> = {
  show: ['dir'],
  run: ['dir', 'tag_set', 'signature_def'],
};

/** TensorFlow's commands we do not implement. */
const UNSUPPORTED_COMMANDS = ['scan', 'convert', 'aot_compile_cpu', 'freeze_model'];

const TOP_USAGE = `usage: ${PROGRAM} [-h] [-v] {show,run} ...`;

function commandUsage(command: Command): string {
  return `usage: ${PROGRAM} ${command} [-h]`;
}

const TOP_HELP = `${TOP_USAGE}

${PROGRAM}: Command-line interface for SavedModel (compatible with TensorFlow's saved_model_cli)

options:
  -h, --help     show this help message and exit
  -v, --version  show program's version number and exit

commands:
  valid commands

  {show,run}     additional help
    show         inspect tag-sets, signatures, ops and functions
    run          run a signature on inputs from files or expressions
`;

const SHOW_HELP = `${commandUsage('show')}

Usage examples:
To show all tag-sets in a SavedModel:
$${PROGRAM} show --dir /tmp/saved_model

To show all available SignatureDef keys in a MetaGraphDef specified by its tag-set:
$${PROGRAM} show --dir /tmp/saved_model --tag_set serve

For a MetaGraphDef with multiple tags in the tag-set, all tags must be passed in, separated by ',':
$${PROGRAM} show --dir /tmp/saved_model --tag_set serve,gpu

To show all inputs and outputs TensorInfo for a specific SignatureDef specified by the SignatureDef key in a MetaGraph.
$${PROGRAM} show --dir /tmp/saved_model --tag_set serve --signature_def serving_default

To show all ops in a MetaGraph.
$${PROGRAM} show --dir /tmp/saved_model --tag_set serve --list_ops

To show all available information in the SavedModel:
$${PROGRAM} show --dir /tmp/saved_model --all
`;

const RUN_HELP = `${commandUsage('run')}

Usage example:
To run input tensors from files through a MetaGraphDef and save the output tensors to files:
$${PROGRAM} run --dir /tmp/saved_model --tag_set serve \\
   --signature_def serving_default \\
   --inputs 'input1_key=/tmp/124.npz[x];input2_key=/tmp/123.npy' \\
   --input_exprs 'input3_key=np.ones(2)' \\
   --input_examples 'input4_key=[{"id":[26],"weights":[0.5, 0.5]}]' \\
   --outdir=/out

Flags:
  --inputs          '<key>=<file>' or '<key>=<file>[<name>]' separated by ';' (.npy or .npz files)
  --input_exprs     '<key>=<python literal>' separated by ';' (lists, numbers, strings, np.array/ones/zeros/full)
  --input_examples  '<key>=[{"feature":[values]}]' separated by ';' (serialized tf.Example inputs)
  --outdir          write each output to <outdir>/<output key>.npy
  --overwrite       replace existing output files
  --runtime         auto|tensorflow|wasm|cpu (default auto: native TensorFlow when installed, else wasm)
`;

function usageFailure(message: string, command?: Command): CliError {
  const prefix = command ? `${PROGRAM} ${command}` : PROGRAM;
  return new CliError(message, EXIT_USAGE, undefined, { line: command ? commandUsage(command) : TOP_USAGE, prefix });
}

function parseBool(name: string, text: string, command: Command | undefined): boolean {
  const lower = text.toLowerCase();
  if (['true', 't', '1'].includes(lower)) return true;
  if (['false', 'f', '0'].includes(lower)) return false;
  throw usageFailure(`flag --${name}=${text}: Non-boolean argument to boolean flag`, command);
}

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const values: Record<string, string | boolean> = {};
  let command: Command | undefined;
  let wantsHelp = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help' || arg === '-help') {
      wantsHelp = true;
      continue;
    }
    if (arg === '-v' || arg === '--version') return { action: 'version', text: `${VERSION}\n` };
    if (arg.startsWith('-') && arg.length > 1) {
      const body = arg.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
      const flag = FLAGS.get(name);
      const negated = !flag && name.startsWith('no') ? FLAGS.get(name.slice(2)) : undefined;
      if (negated?.kind === 'bool' && inline === undefined) {
        values[name.slice(2)] = false;
        continue;
      }
      if (!flag) throw usageFailure(`Unknown command line flag '${name}'`, command);
      if (flag.kind === 'bool') {
        values[name] = inline === undefined ? true : parseBool(name, inline, command);
        continue;
      }
      if (inline !== undefined) {
        values[name] = inline;
      } else {
        if (i + 1 >= argv.length) throw usageFailure(`flag --${name}: expected one argument`, command);
        values[name] = argv[++i]!;
      }
      continue;
    }
    if (command === undefined) {
      if (arg === 'show' || arg === 'run') {
        command = arg;
        continue;
      }
      if (UNSUPPORTED_COMMANDS.includes(arg)) {
        throw usageFailure(`command '${arg}' is not supported by this implementation (supported: show, run)`);
      }
      throw usageFailure(`argument {show,run}: invalid choice: '${arg}' (choose from 'show', 'run')`);
    }
    throw usageFailure(`unrecognized arguments: ${arg}`, command);
  }
  if (wantsHelp) {
    const text = command === 'show' ? SHOW_HELP : command === 'run' ? RUN_HELP : TOP_HELP;
    return { action: 'help', text };
  }
  if (command === undefined) throw usageFailure('Too few arguments.');
  for (const name of REQUIRED[command]) {
    if (values[name] === undefined) throw usageFailure(`flag --${name}=None: Flag --${name} must have a value other than None.`, command);
  }
  const runtimeText = (values['runtime'] as string | undefined) ?? 'auto';
  const runtime = parseRuntimeSelection(runtimeText);
  if (!runtime) {
    throw usageFailure(`flag --runtime=${runtimeText}: value should be one of <${RUNTIME_SELECTIONS.join('|')}>`, command);
  }
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const bool = (name: string): boolean => values[name] === true;
  const flags: CliFlags = {
    dir: str('dir'),
    all: bool('all'),
    tagSet: str('tag_set'),
    signatureDef: str('signature_def'),
    listOps: bool('list_ops'),
    inputs: str('inputs') ?? '',
    inputExprs: str('input_exprs') ?? '',
    inputExamples: str('input_examples') ?? '',
    outdir: str('outdir'),
    overwrite: bool('overwrite'),
    tfDebug: bool('tf_debug'),
    runtime,
  };
  return { action: command, flags };
}
