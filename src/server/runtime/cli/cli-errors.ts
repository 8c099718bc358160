/**
 * Errors the CLI reports. A usage error (bad command line: unknown flag, bad input expression,
 * unknown input key) exits 2; anything else (unreadable model, failed run) exits 1. Where
 * TensorFlow's saved_model_cli has a wording, the message keeps it, and `pythonType` names the
 * exception it raises so the printed line reads like the last line of its traceback.
 */
export const EXIT_USAGE = 2;
export const EXIT_RUNTIME = 1;

export type PythonErrorType =
  | 'ValueError'
  | 'RuntimeError'
  | 'OSError'
  | 'TypeError'
  | 'AttributeError'
  | 'KeyError'
  | 'NotFoundError';

export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: number,
    /** The exception TensorFlow's CLI raises for the same problem, when it has one. */
    readonly pythonType?: PythonErrorType,
    /** For command-line parsing errors: the usage line and the "prog command" prefix, argparse style. */
    readonly usage?: { readonly line: string; readonly prefix: string },
  ) {
    super(message);
  }

  /** What is printed on stderr. */
  describe(program: string): string {
    if (this.usage !== undefined) return `${this.usage.line}\n${this.usage.prefix}: error: ${this.message}`;
    return this.pythonType ? `${this.pythonType}: ${this.message}` : `${program}: error: ${this.message}`;
  }
}

/** A problem with the command line itself. */
export function usageError(message: string, pythonType?: PythonErrorType): CliError {
  return new CliError(message, EXIT_USAGE, pythonType);
}

/** A problem found while reading or running the model. */
export function runtimeError(message: string, pythonType?: PythonErrorType): CliError {
  return new CliError(message, EXIT_RUNTIME, pythonType);
}
