/**
 * The saved-model-cli program as a function: parses argv, runs show or run, and maps errors to
 * an exit status (2 for usage errors, 1 for the rest) with a one-line message, no stack trace.
 */
import { ServingError } from '../../errors.js';
import { PROGRAM, parseCommandLine } from './args.js';
import { CliError, EXIT_RUNTIME } from './cli-errors.js';
import { runCommand } from './run.js';
import { showText } from './show.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs the CLI; resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    switch (parsed.action) {
      case 'help':
      case 'version':
        io.stdout(parsed.text);
        return 0;
      case 'show': {
        const { flags } = parsed;
        io.stdout(await showText({ dir: flags.dir!, tagSet: flags.tagSet, signatureDef: flags.signatureDef, all: flags.all, listOps: flags.listOps }));
        return 0;
      }
      case 'run': {
        const { flags } = parsed;
        await runCommand({ ...flags, dir: flags.dir!, tagSet: flags.tagSet!, signatureDef: flags.signatureDef! }, io);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`${error.describe(PROGRAM)}\n`);
      return error.exitCode;
    }
    if (error instanceof ServingError) {
      io.stderr(`${error.toString()}\n`);
      return EXIT_RUNTIME;
    }
    io.stderr(`${PROGRAM}: error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_RUNTIME;
  }
}
