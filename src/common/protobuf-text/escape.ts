// C-style string escaping as C++'s TextFormat writes and reads it: the printer uses CEscape
// (\n \r \t \" \' \\ and 3-digit octal for every other byte outside printable ASCII); the
// parser accepts everything Tokenizer::ParseStringAppend does.

const BACKSLASH = 0x5c;

/** Byte value of each single-character escape (`\n`, `\?`, ...), indexed by the char code after `\`. */
const SIMPLE_ESCAPES: ReadonlyMap<number, number> = new Map(
  (
    [
      ['a', 7],
      ['b', 8],
      ['f', 12],
      ['n', 10],
      ['r', 13],
      ['t', 9],
      ['v', 11],
      ['\\', 0x5c],
      ['?', 0x3f],
      ["'", 0x27],
      ['"', 0x22],
    ] as const
  ).map(([c, b]) => [c.charCodeAt(0), b]),
);

export function isSimpleEscape(code: number): boolean {
  return SIMPLE_ESCAPES.has(code);
}

export function isOctalDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x37;
}

export function hexDigitValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/** A growable byte array that string literals are decoded into, reused across literals. */
export class ByteBuffer {
  private bytes = new Uint8Array(256);
  length = 0;

  push(byte: number): void {
    if (this.length === this.bytes.length) this.grow();
    this.bytes[this.length++] = byte;
  }

  /** Appends the UTF-8 encoding of a code point; lone surrogates get their 3-byte form, as in C++. */
  pushCodePoint(cp: number): void {
    if (cp < 0x80) {
      this.push(cp);
    } else if (cp < 0x800) {
      this.push(0xc0 | (cp >> 6));
      this.push(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.push(0xe0 | (cp >> 12));
      this.push(0x80 | ((cp >> 6) & 0x3f));
      this.push(0x80 | (cp & 0x3f));
    } else {
      this.push(0xf0 | (cp >> 18));
      this.push(0x80 | ((cp >> 12) & 0x3f));
      this.push(0x80 | ((cp >> 6) & 0x3f));
      this.push(0x80 | (cp & 0x3f));
    }
  }

  /** The bytes so far, without copying; valid until the next push. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  private grow(): void {
    const bigger = new Uint8Array(this.bytes.length * 2);
    bigger.set(this.bytes);
    this.bytes = bigger;
  }
}

function hexValue(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) value = value * 16 + hexDigitValue(text.charCodeAt(i));
  return value;
}

/**
 * Decodes the body of a string literal (text[start, end), quotes excluded) into bytes. The
 * tokenizer has already validated every escape, so this only has to translate them.
 */
export function unescapeInto(text: string, start: number, end: number, out: ByteBuffer): void {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== BACKSLASH) {
      if (c < 0x80) {
        out.push(c);
        i++;
      } else {
        const cp = text.codePointAt(i) as number;
        out.pushCodePoint(cp);
        i += cp > 0xffff ? 2 : 1;
      }
      continue;
    }
    const e = text.charCodeAt(i + 1);
    i += 2;
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) {
      out.push(simple);
    } else if (isOctalDigit(e)) {
      // Up to three octal digits; C++ keeps only the low byte of values above \377.
      let value = e - 0x30;
      for (let n = 0; n < 2 && i < end && isOctalDigit(text.charCodeAt(i)); n++, i++) {
        value = value * 8 + (text.charCodeAt(i) - 0x30);
      }
      out.push(value & 0xff);
    } else if (e === 0x78 || e === 0x58) {
      // \x takes one or two hex digits.
      let value = 0;
      for (let n = 0; n < 2 && i < end && hexDigitValue(text.charCodeAt(i)) >= 0; n++, i++) {
        value = value * 16 + hexDigitValue(text.charCodeAt(i));
      }
      out.push(value);
    } else if (e === 0x75) {
      let cp = hexValue(text, i, 4);
      i += 4;
      // A \u high surrogate followed by a \u low surrogate spells one supplementary code point.
      if (cp >= 0xd800 && cp <= 0xdbff && text.charCodeAt(i) === BACKSLASH && text.charCodeAt(i + 1) === 0x75) {
        const low = hexValue(text, i + 2, 4);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
      }
      out.pushCodePoint(cp);
    } else {
      // \U with eight hex digits (the tokenizer capped it at 10ffff).
      out.pushCodePoint(hexValue(text, i, 8));
      i += 8;
    }
  }
}

const BYTE_ESCAPES: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  switch (b) {
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x22:
      return '\\"';
    case 0x27:
      return "\\'";
    case 0x5c:
      return '\\\\';
  }
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '\\' + b.toString(8).padStart(3, '0');
});

/** CEscape: the body of a double-quoted literal for these bytes. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_ESCAPES[bytes[i]];
  return out;
}

const utf8 = new TextEncoder();

/** CEscape of the string's UTF-8 bytes, so non-ASCII text comes out as octal escapes like C++'s. */
export function escapeString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x27 || c === BACKSLASH) {
      return escapeBytes(utf8.encode(value));
    }
  }
  return value;
}
