/**
 * Request JSON. The fast path is JSON.parse. TF Serving parses with rapidjson, which also accepts
 * NaN/Infinity/-Infinity, ignores what follows the document, and keeps what JSON.parse forgets:
 * whether a number was written as an integer (`80` vs `80.0` picks int64_list vs float_list in a
 * tf.Example; int dtypes reject `1.0`) and int64 values beyond 2^53. The precise parser below keeps
 * both, and reports errors with rapidjson's texts ("JSON Parse error: Invalid value. at offset: 0").
 */
import { isUtf8 } from 'node:buffer';
import { invalidArgument } from '../../errors.js';
import { jsonValueError } from './json-debug.js';

/**
 * A JSON string whose bytes are not valid UTF-8. TF Serving's rapidjson parse does not validate
 * the encoding (no kParseValidateEncodingFlag): the bytes reach a DT_STRING tensor or a bytes
 * feature exactly as sent, so they are kept as bytes here. `text` is their lossy reading, for
 * places that need text (signature names, error messages).
 */
export class ByteString {
  constructor(readonly bytes: Buffer) {}

  get text(): string {
    return this.bytes.toString('utf8');
  }
}

/** A number written with a fraction or exponent (or NaN/Infinity): rapidjson's "double". */
export class FloatToken {
  constructor(readonly value: number) {}
}

/**
 * A parsed value. From JSON.parse numbers are plain `number`s; from the precise parser integer
 * tokens are `number` (or `bigint` past 2^53) and other numbers are FloatTokens.
 */
export type JsonValue = null | boolean | number | bigint | string | ByteString | FloatToken | JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

export interface ParsedBody {
  readonly doc: JsonObject;
  /** True when numbers carry their token kind (precise parser). */
  readonly precise: boolean;
}

export const isJsonObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof FloatToken) && !(value instanceof ByteString);

/** An own member (never one inherited from Object.prototype). */
export function member(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Parses a request body that must be a JSON object (TF Serving's ParseJson). `precise` forces the
 * precise parser; otherwise it is used only when JSON.parse rejects the text. `latin1`: the body
 * was not valid UTF-8 and `text` holds its bytes one per character; strings come back as text
 * where their bytes are UTF-8, as ByteStrings where not (always the precise parser).
 */
export function parseBody(text: string, precise: boolean, latin1 = false): ParsedBody {
  if (text.length === 0) throw invalidArgument('JSON Parse error: The document is empty');
  let value: JsonValue;
  if (latin1) {
    value = new PreciseParser(text, true).document();
    precise = true;
  } else if (precise) {
    value = parsePrecise(text);
  } else {
    try {
      value = JSON.parse(text) as JsonValue;
    } catch {
      value = parsePrecise(text);
      precise = true;
    }
  }
  if (!isJsonObject(value)) throw jsonValueError(value, 'Is not object');
  return { doc: value, precise };
}

/** rapidjson's parse (kParseNanAndInfFlag | kParseStopWhenDoneFlag) of one value. */
export function parsePrecise(text: string): JsonValue {
  return new PreciseParser(text).document();
}

const MAX_DEPTH = 1000;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

class PreciseParser {
  private pos = 0;
  private depth = 0;

  /** `bytes`: the text holds bytes (latin1), strings are decoded as UTF-8 where they can be. */
  constructor(
    private readonly text: string,
    private readonly bytes = false,
  ) {}

  document(): JsonValue {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.skipSpace();
    if (this.pos >= this.text.length) this.fail('The document is empty.');
    return this.value();
  }

  private fail(message: string, at = this.pos): never {
    throw invalidArgument(`JSON Parse error: ${message} at offset: ${at}`);
  }

  private skipSpace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.pos = pos;
  }

  private value(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: return this.object();
      case 0x5b: return this.array();
      case 0x22: return this.bytes ? stringOfBytes(this.string()) : this.string();
      case 0x6e: return this.literal('null', null);
      case 0x74: return this.literal('true', true);
      case 0x66: return this.literal('false', false);
      default: return this.number();
    }
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('Invalid value.');
    this.pos += word.length;
    return value;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`Nesting deeper than ${MAX_DEPTH} levels.`);
  }

  private object(): JsonObject {
    this.enter();
    this.pos++;
    const result: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return result;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('Missing a name for object member.');
      const key = this.bytes ? Buffer.from(this.string(), 'latin1').toString('utf8') : this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail('Missing a colon after a name of object member.');
      this.pos++;
      this.skipSpace();
      result[key] = this.value();
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipSpace();
      } else if (c === 0x7d) {
        this.pos++;
        this.depth--;
        return result;
      } else {
        this.fail("Missing a comma or '}' after an object member.");
      }
    }
  }

  private array(): JsonValue[] {
    this.enter();
    this.pos++;
    const result: JsonValue[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipSpace();
      } else if (c === 0x5d) {
        this.pos++;
        this.depth--;
        return result;
      } else {
        this.fail("Missing a comma or ']' after an array element.");
      }
    }
  }

  private string(): string {
    const text = this.text;
    const start = ++this.pos;
    // Fast path: no escapes and no control characters before the closing quote.
    for (let pos = start; pos < text.length; pos++) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        this.pos = pos + 1;
        return text.slice(start, pos);
      }
      if (c === 0x5c || c < 0x20) break;
    }
    return this.escapedString(start);
  }

  private escapedString(start: number): string {
    const text = this.text;
    let out = '';
    let run = start;
    let pos = start;
    for (;;) {
      if (pos >= text.length) this.fail('Missing a closing quotation mark in string.', pos);
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        this.pos = pos + 1;
        return out + text.slice(run, pos);
      }
      if (c < 0x20) this.fail('Invalid encoding in string.', pos);
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(run, pos);
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const unit = this.hex4(pos);
          pos += 4;
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text[pos] !== '\\' || text[pos + 1] !== 'u') this.fail('The surrogate pair in string is invalid.', pos);
            const low = this.hex4(pos + 2);
            if (low < 0xdc00 || low > 0xdfff) this.fail('The surrogate pair in string is invalid.', pos + 2);
            out += this.bytes ? utf8AsLatin1(String.fromCharCode(unit, low)) : String.fromCharCode(unit, low);
            pos += 6;
          } else {
            out += this.bytes ? wtf8AsLatin1(unit) : String.fromCharCode(unit);
          }
          break;
        }
        default:
          this.fail('Invalid escape character in string.', pos - 1);
      }
      run = pos;
    }
  }

  private hex4(pos: number): number {
    const digits = this.text.slice(pos, pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail('Incorrect hex digit after \\u escape in string.', pos);
    return parseInt(digits, 16);
  }

  private number(): JsonValue {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    const minus = text.charCodeAt(pos) === 0x2d;
    if (minus) pos++;
    if (text.startsWith('NaN', pos)) {
      this.pos = pos + 3;
      return new FloatToken(NaN);
    }
    if (text.startsWith('Inf', pos)) {
      pos += 3;
      if (text.charCodeAt(pos) === 0x69) {
        if (!text.startsWith('inity', pos)) this.fail('Invalid value.', pos);
        pos += 5;
      }
      this.pos = pos;
      return new FloatToken(minus ? -Infinity : Infinity);
    }
    const first = text.charCodeAt(pos);
    if (first === 0x30) {
      pos++;
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else {
      this.fail('Invalid value.', start);
    }
    let integer = true;
    if (text.charCodeAt(pos) === 0x2e) {
      pos++;
      if (!isDigit(text.charCodeAt(pos))) this.fail('Miss fraction part in number.', pos);
      while (isDigit(text.charCodeAt(pos))) pos++;
      integer = false;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === 0x2b || sign === 0x2d) pos++;
      if (!isDigit(text.charCodeAt(pos))) this.fail('Miss exponent in number.', pos);
      while (isDigit(text.charCodeAt(pos))) pos++;
      integer = false;
    }
    this.pos = pos;
    const token = text.slice(start, pos);
    const value = Number(token);
    if (!Number.isFinite(value)) this.fail('Number too big to be stored in double.', start);
    if (!integer) return new FloatToken(value);
    if (Number.isSafeInteger(value)) return value;
    // rapidjson keeps integers in [int64 min, uint64 max] exact; beyond that they are doubles.
    const big = BigInt(token);
    return big < INT64_MIN || big > UINT64_MAX ? new FloatToken(value) : big;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A parsed string of bytes (latin1 text): text when it is UTF-8, else a ByteString. */
function stringOfBytes(latin1: string): string | ByteString {
  const bytes = Buffer.from(latin1, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : new ByteString(bytes);
}

function utf8AsLatin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** One UTF-16 unit's UTF-8 bytes, a lone surrogate encoded as rapidjson does (3 bytes). */
function wtf8AsLatin1(unit: number): string {
  if (unit < 0x80) return String.fromCharCode(unit);
  if (unit < 0x800) return String.fromCharCode(0xc0 | (unit >> 6), 0x80 | (unit & 0x3f));
  return String.fromCharCode(0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f));
}
