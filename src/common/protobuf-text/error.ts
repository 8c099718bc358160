/**
 * A text-format syntax or schema error. The message reads "line:column: what is wrong"
 * (both 1-based), the form C++'s TextFormat parser reports, so logs read the same.
 */
export class TextFormatError extends Error {
  readonly line: number;
  readonly column: number;

  constructor(line: number, column: number, what: string) {
    super(`${line}:${column}: ${what}`);
    this.name = 'TextFormatError';
    this.line = line;
    this.column = column;
  }
}
