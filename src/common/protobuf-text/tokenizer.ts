import { TextFormatError } from './error.js';
import { hexDigitValue, isOctalDigit, isSimpleEscape } from './escape.js';

export type TokenKind = 'identifier' | 'integer' | 'float' | 'string' | 'symbol' | 'end';

const NEWLINE = 0x0a;
const HASH = 0x23;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
const RIGHT_BRACKET = 0x5d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isAlphanumeric(c: number): boolean {
  return isLetter(c) || isDigit(c);
}

/** Whitespace other than newline, which the tokenizer counts separately. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

const URL_PUNCTUATION = new Set(Array.from('-.~!$&()*+,;=%/', (c) => c.charCodeAt(0)));

/** Characters C++ accepts inside `[...]` (an Any type URL or an extension name). */
function isUrlChar(c: number): boolean {
  return isAlphanumeric(c) || URL_PUNCTUATION.has(c);
}

/**
 * Splits protobuf text format into tokens as C++'s io::Tokenizer does for TextFormat: `#`
 * comments, floats with an optional `f` suffix, and the `-` sign as its own symbol. It keeps
 * one token of lookahead in its own fields rather than in token objects, so a large file
 * allocates nothing per token.
 */
export class Tokenizer {
  kind: TokenKind = 'end';
  /** The current token is text[start, end); string tokens include their quotes. */
  start = 0;
  end = 0;
  /** 1-based position of the current token. */
  line = 1;
  column = 1;
  /** Whether the current string token contains a backslash escape. */
  escaped = false;

  private pos = 0;
  private lineNumber = 1;
  private lineStart = 0;

  constructor(readonly text: string) {
    this.next();
  }

  get tokenText(): string {
    return this.text.slice(this.start, this.end);
  }

  /** Whether the current token is the one-character symbol with this char code. */
  isSymbol(code: number): boolean {
    return this.kind === 'symbol' && this.text.charCodeAt(this.start) === code;
  }

  /** An error located at the current token. */
  error(what: string): TextFormatError {
    return new TextFormatError(this.line, this.column, what);
  }

  next(): void {
    this.skipSpaceAndComments();
    const text = this.text;
    const start = this.pos;
    this.start = start;
    this.line = this.lineNumber;
    this.column = this.columnAt(start);
    this.escaped = false;
    if (start >= text.length) {
      this.kind = 'end';
      this.end = start;
      return;
    }
    const c = text.charCodeAt(start);
    if (isLetter(c)) {
      let p = start + 1;
      while (isAlphanumeric(text.charCodeAt(p))) p++;
      this.pos = p;
      this.kind = 'identifier';
    } else if (isDigit(c) || (c === DOT && isDigit(text.charCodeAt(start + 1)))) {
      this.kind = this.scanNumber(start);
    } else if (c === 0x22 || c === 0x27) {
      this.scanString(start, c);
      this.kind = 'string';
    } else {
      // One character; a surrogate pair counts as one so error messages show it whole.
      this.pos = start + ((text.codePointAt(start) as number) > 0xffff ? 2 : 1);
      this.kind = 'symbol';
    }
    this.end = this.pos;
  }

  /**
   * Reads the rest of a `[...]` name once the current token is `[`, then moves past the `]`.
   * Like C++, whitespace and comments between the URL characters are dropped.
   */
  readBracketedName(): string {
    let name = '';
    for (;;) {
      this.skipSpaceAndComments();
      const text = this.text;
      const start = this.pos;
      const c = text.charCodeAt(start);
      if (c === RIGHT_BRACKET) {
        this.pos = start + 1;
        this.next();
        return name;
      }
      if (!isUrlChar(c)) {
        const found = start >= text.length ? 'end of input' : `"${String.fromCodePoint(text.codePointAt(start) as number)}"`;
        throw this.errorAt(start, `Expected "]", found ${found}.`);
      }
      let p = start + 1;
      while (isUrlChar(text.charCodeAt(p))) p++;
      name += text.slice(start, p);
      this.pos = p;
    }
  }

  /** 1-based column of `pos` as C++'s io::Tokenizer counts it: a tab advances to the next multiple of 8. */
  private columnAt(pos: number): number {
    const tab = this.text.indexOf('\t', this.lineStart);
    if (tab < 0 || tab >= pos) return pos - this.lineStart + 1;
    let column = 0;
    for (let p = this.lineStart; p < pos; p++) column += this.text.charCodeAt(p) === 0x09 ? 8 - (column % 8) : 1;
    return column + 1;
  }

  private errorAt(pos: number, what: string): TextFormatError {
    return new TextFormatError(this.lineNumber, this.columnAt(pos), what);
  }

  private skipSpaceAndComments(): void {
    const text = this.text;
    let p = this.pos;
    for (;;) {
      const c = text.charCodeAt(p);
      if (c === NEWLINE) {
        p++;
        this.lineNumber++;
        this.lineStart = p;
      } else if (isBlank(c)) {
        p++;
      } else if (c === HASH) {
        const eol = text.indexOf('\n', p);
        p = eol < 0 ? text.length : eol;
      } else if (c < 0x20) {
        throw this.errorAt(p, 'Invalid control characters encountered in text.');
      } else {
        break;
      }
    }
    this.pos = p;
  }

  /** C++'s Tokenizer::ConsumeNumber with allow_f_after_float, as TextFormat configures it. */
  private scanNumber(start: number): TokenKind {
    const text = this.text;
    let p = start;
    let isFloat = false;
    const second = text.charCodeAt(start + 1);
    if (text.charCodeAt(start) === 0x30 && (second === 0x78 || second === 0x58)) {
      p += 2;
      if (hexDigitValue(text.charCodeAt(p)) < 0) throw this.errorAt(p, '"0x" must be followed by hex digits.');
      while (hexDigitValue(text.charCodeAt(p)) >= 0) p++;
    } else if (text.charCodeAt(start) === 0x30 && isDigit(second)) {
      p++;
      while (isOctalDigit(text.charCodeAt(p))) p++;
      if (isDigit(text.charCodeAt(p))) throw this.errorAt(p, 'Numbers starting with leading zero must be in octal.');
    } else {
      while (isDigit(text.charCodeAt(p))) p++;
      if (text.charCodeAt(p) === DOT) {
        isFloat = true;
        p++;
        while (isDigit(text.charCodeAt(p))) p++;
      }
      const e = text.charCodeAt(p);
      if (e === 0x65 || e === 0x45) {
        isFloat = true;
        p++;
        const sign = text.charCodeAt(p);
        if (sign === 0x2d || sign === 0x2b) p++;
        if (!isDigit(text.charCodeAt(p))) throw this.errorAt(p, '"e" must be followed by exponent.');
        while (isDigit(text.charCodeAt(p))) p++;
      }
      const f = text.charCodeAt(p);
      if (f === 0x66 || f === 0x46) {
        isFloat = true;
        p++;
      }
    }
    const after = text.charCodeAt(p);
    if (isLetter(after)) throw this.errorAt(p, 'Need space between number and identifier.');
    if (after === DOT) {
      throw this.errorAt(
        p,
        isFloat ? "Already saw decimal point or exponent; can't have another one." : 'Hex and octal numbers must be integers.',
      );
    }
    this.pos = p;
    return isFloat ? 'float' : 'integer';
  }

  /** Finds the closing quote and validates escapes (C++'s ConsumeString) so decoding cannot fail. */
  private scanString(start: number, quote: number): void {
    const text = this.text;
    let p = start + 1;
    for (;;) {
      if (p >= text.length) throw this.errorAt(p, 'Unexpected end of string.');
      const c = text.charCodeAt(p);
      if (c === quote) break;
      if (c === NEWLINE) throw this.errorAt(p, 'Multiline strings are not allowed. Did you miss a "?');
      if (c !== BACKSLASH) {
        p++;
        continue;
      }
      this.escaped = true;
      const e = text.charCodeAt(p + 1);
      if (isSimpleEscape(e) || isOctalDigit(e)) {
        p += 2;
      } else if (e === 0x78 || e === 0x58) {
        if (hexDigitValue(text.charCodeAt(p + 2)) < 0) throw this.errorAt(p + 2, 'Expected hex digits for escape sequence.');
        p += 2;
      } else if (e === 0x75) {
        if (!this.hexDigitsAt(p + 2, 4)) throw this.errorAt(p + 2, 'Expected four hex digits for \\u escape sequence.');
        p += 6;
      } else if (e === 0x55) {
        if (!this.hexDigitsAt(p + 2, 8) || parseInt(text.slice(p + 2, p + 10), 16) > 0x10ffff) {
          throw this.errorAt(p + 2, 'Expected eight hex digits up to 10ffff for \\U escape sequence');
        }
        p += 10;
      } else {
        throw this.errorAt(p, 'Invalid escape sequence in string literal.');
      }
    }
    this.pos = p + 1;
  }

  private hexDigitsAt(p: number, count: number): boolean {
    for (let i = p; i < p + count; i++) if (hexDigitValue(this.text.charCodeAt(i)) < 0) return false;
    return true;
  }
}
