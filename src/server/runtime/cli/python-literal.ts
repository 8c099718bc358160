/**
 * A parser for the Python literal expressions saved_model_cli accepts (what ast.literal_eval
 * takes): numbers (ints of any base, floats such as 1e-3 and .5, signs), strings and bytes with
 * their prefixes and escapes, adjacent-literal concatenation, True/False/None, lists, tuples and
 * dicts. As an extension it evaluates np.array/np.asarray/np.ones/np.zeros/np.full and
 * np.<dtype>(value) calls. Nothing is ever evaluated as code.
 */
import { pythonFloatRepr } from './dragon4.js';
import { type NdArray, type NpDtype, BOOL, FLOAT64, INT64, asarray, astype, dtypeName, full, parseDtypeName } from './ndarray.js';
import { pyBytesRepr, pyStrRepr } from './python-repr.js';

export type PyValue =
  | { readonly kind: 'none' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'list' | 'tuple'; readonly items: readonly PyValue[] }
  | { readonly kind: 'dict'; readonly entries: ReadonlyArray<readonly [PyValue, PyValue]> }
  | { readonly kind: 'ndarray'; readonly array: NdArray };

export class LiteralSyntaxError extends Error {
  override readonly name = 'LiteralSyntaxError';
}

type Token =
  | { readonly type: 'number'; readonly text: string; readonly pos: number }
  | { readonly type: 'string'; readonly value: string | Uint8Array; readonly pos: number }
  | { readonly type: 'name'; readonly text: string; readonly pos: number }
  | { readonly type: 'op'; readonly text: string; readonly pos: number }
  | { readonly type: 'end'; readonly pos: number };

const DIGITS = String.raw`\d(?:_?\d)*`;
const EXPONENT = String.raw`[eE][+-]?${DIGITS}`;
const NUMBER = new RegExp(
  String.raw`0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|` +
    String.raw`(?:${DIGITS}\.(?:${DIGITS})?(?:${EXPONENT})?|\.${DIGITS}(?:${EXPONENT})?|${DIGITS}${EXPONENT}|${DIGITS})[jJ]?`,
  'y',
);
const NAME = /[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]*/uy;
const STRING_PREFIX = /(?:[bB][rR]?|[rR][bB]?|[uU]|[fF][rR]?|[rR][fF])?(?='|")/y;
const OPERATORS = ['**', '//', '==', '!=', '<=', '>=', '->', '(', ')', '[', ']', '{', '}', ',', ':', '.', '-', '+', '=', '*', '/', '%', '<', '>', '~', '|', '&', '^', '@', ';'];

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let depth = 0;
  let afterTopLevelNewline = false;
  const push = (token: Token): void => {
    if (afterTopLevelNewline && token.type !== 'end') throw new LiteralSyntaxError('invalid syntax (more than one line)');
    tokens.push(token);
  };
  while (pos < source.length) {
    const ch = source[pos]!;
    if (ch === ' ' || ch === '\t' || ch === '\f') { pos++; continue; }
    if (ch === '\\' && (source[pos + 1] === '\n' || source.startsWith('\r\n', pos + 1))) {
      pos += source[pos + 1] === '\n' ? 2 : 3;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      if (depth === 0 && tokens.length > 0) afterTopLevelNewline = true;
      pos++;
      continue;
    }
    if (ch === '#') {
      while (pos < source.length && source[pos] !== '\n') pos++;
      continue;
    }
    STRING_PREFIX.lastIndex = pos;
    const prefix = STRING_PREFIX.exec(source);
    if (prefix) {
      const { value, end } = readString(source, pos, prefix[0]);
      push({ type: 'string', value, pos });
      pos = end;
      continue;
    }
    NUMBER.lastIndex = pos;
    const number = NUMBER.exec(source);
    if (number && (/\d/.test(ch) || (ch === '.' && /\d/.test(source[pos + 1] ?? '')))) {
      const end = pos + number[0].length;
      if (/[\p{L}\p{N}_]/u.test(source[end] ?? '')) throw new LiteralSyntaxError(`invalid decimal literal at ${pos}`);
      if (/^0+[1-9]/.test(number[0].replace(/_/g, '')) && /^[\d_]+$/.test(number[0])) {
        throw new LiteralSyntaxError('leading zeros in decimal integer literals are not permitted');
      }
      push({ type: 'number', text: number[0], pos });
      pos = end;
      continue;
    }
    NAME.lastIndex = pos;
    const name = NAME.exec(source);
    if (name) {
      push({ type: 'name', text: name[0], pos });
      pos += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, pos));
    if (!op) throw new LiteralSyntaxError(`invalid character ${JSON.stringify(ch)} at ${pos}`);
    if (op === '(' || op === '[' || op === '{') depth++;
    if (op === ')' || op === ']' || op === '}') depth = Math.max(0, depth - 1);
    push({ type: 'op', text: op, pos });
    pos += op.length;
  }
  tokens.push({ type: 'end', pos });
  return tokens;
}

/** Reads one string literal starting at its prefix; returns its value and where it ends. */
function readString(source: string, start: number, prefix: string): { value: string | Uint8Array; end: number } {
  const flags = prefix.toLowerCase();
  if (flags.includes('f')) throw new LiteralSyntaxError('f-strings are not literals');
  const raw = flags.includes('r');
  const isBytes = flags.includes('b');
  let pos = start + prefix.length;
  const quote = source[pos]!;
  const triple = source.startsWith(quote.repeat(3), pos);
  const delimiter = triple ? quote.repeat(3) : quote;
  pos += delimiter.length;
  const units: number[] = []; // code points (str) or bytes
  const pushText = (text: string): void => {
    for (const c of text) {
      const code = c.codePointAt(0)!;
      if (isBytes && code > 0x7f) throw new LiteralSyntaxError('bytes can only contain ASCII literal characters');
      units.push(code);
    }
  };
  for (;;) {
    if (pos >= source.length) throw new LiteralSyntaxError('unterminated string literal');
    if (source.startsWith(delimiter, pos)) {
      pos += delimiter.length;
      break;
    }
    const ch = source[pos]!;
    if ((ch === '\n' || ch === '\r') && !triple) throw new LiteralSyntaxError('unterminated string literal');
    if (ch !== '\\') {
      const code = source.codePointAt(pos)!;
      pushText(String.fromCodePoint(code));
      pos += code > 0xffff ? 2 : 1;
      continue;
    }
    const next = source[pos + 1];
    if (next === undefined) throw new LiteralSyntaxError('unterminated string literal');
    if (raw) {
      pushText(`\\${next}`);
      pos += 2;
      continue;
    }
    pos = readEscape(source, pos, isBytes, units, pushText);
  }
  if (isBytes) return { value: Uint8Array.from(units), end: pos };
  return { value: String.fromCodePoint(...units), end: pos };
}

/** Decodes the escape sequence at `pos` (a backslash) into `units`; returns the new position. */
function readEscape(source: string, pos: number, isBytes: boolean, units: number[], pushText: (t: string) => void): number {
  const next = source[pos + 1]!;
  if (next === '\n') return pos + 2;
  if (next === '\r') return source[pos + 2] === '\n' ? pos + 3 : pos + 2;
  const simple = SIMPLE_ESCAPES[next];
  if (simple !== undefined) {
    units.push(simple.charCodeAt(0));
    return pos + 2;
  }
  const octal = /^[0-7]{1,3}/.exec(source.slice(pos + 1, pos + 4));
  if (octal) {
    const value = parseInt(octal[0], 8);
    units.push(isBytes ? value & 0xff : value);
    return pos + 1 + octal[0].length;
  }
  const hexLength = next === 'x' ? 2 : !isBytes && next === 'u' ? 4 : !isBytes && next === 'U' ? 8 : 0;
  if (hexLength > 0) {
    const digits = source.slice(pos + 2, pos + 2 + hexLength);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(digits)) {
      throw new LiteralSyntaxError(`truncated \\${next}${'X'.repeat(hexLength)} escape`);
    }
    const value = parseInt(digits, 16);
    if (value > 0x10ffff) throw new LiteralSyntaxError('illegal Unicode character');
    units.push(value);
    return pos + 2 + hexLength;
  }
  if (!isBytes && next === 'N') throw new LiteralSyntaxError('\\N{...} escapes are not supported');
  pushText(`\\${next}`);
  return pos + 2;
}

/** What a call argument can be: a value, or a dtype reference such as np.float32. */
type Argument = { readonly value: PyValue } | { readonly dtype: NpDtype };

class Parser {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseTop(): PyValue {
    const value = this.parseSequence(new Set(['end']));
    this.expect('end');
    return value;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  private isOp(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'op' && t.text === text;
  }

  private next(): Token {
    const t = this.peek();
    this.index++;
    return t;
  }

  private expect(what: string): void {
    const t = this.next();
    const ok = what === 'end' ? t.type === 'end' : t.type === 'op' && t.text === what;
    if (!ok) throw new LiteralSyntaxError(`expected ${what === 'end' ? 'end of expression' : `'${what}'`} at ${t.pos}`);
  }

  private atClose(closers: ReadonlySet<string>): boolean {
    const t = this.peek();
    return t.type === 'end' ? closers.has('end') : t.type === 'op' && closers.has(t.text);
  }

  /** expr (',' expr)* [','] — a tuple when there is a comma. */
  private parseSequence(closers: ReadonlySet<string>): PyValue {
    const first = this.parseExpression();
    if (!this.isOp(',')) return first.value;
    const items = [first.value];
    while (this.isOp(',')) {
      this.next();
      if (this.atClose(closers)) break;
      items.push(this.parseExpression().value);
    }
    return { kind: 'tuple', items };
  }

  /** A signed number or an atom. `plainNumber` marks a numeric constant (what a sign may apply to). */
  private parseExpression(): { value: PyValue; plainNumber: boolean } {
    if (this.isOp('-') || this.isOp('+')) {
      const negative = (this.next() as { text: string }).text === '-';
      const operand = this.parseAtom();
      if (!operand.plainNumber) throw new LiteralSyntaxError('a sign can only apply to a number');
      const v = operand.value;
      if (!negative) return { value: v, plainNumber: false };
      if (v.kind === 'int') return { value: { kind: 'int', value: -v.value }, plainNumber: false };
      if (v.kind === 'float') return { value: { kind: 'float', value: -v.value }, plainNumber: false };
    }
    const atom = this.parseAtom();
    if (this.isOp('+') || this.isOp('-')) throw new LiteralSyntaxError('arithmetic is not a literal (complex numbers are not supported)');
    return atom;
  }

  private parseAtom(): { value: PyValue; plainNumber: boolean } {
    const t = this.next();
    switch (t.type) {
      case 'number': return { value: numberValue(t.text), plainNumber: true };
      case 'string': return { value: this.concatStrings(t.value), plainNumber: false };
      case 'name': return { value: this.parseName(t.text, t.pos), plainNumber: false };
      case 'op':
        if (t.text === '[') return { value: this.parseList(), plainNumber: false };
        if (t.text === '{') return { value: this.parseDict(), plainNumber: false };
        if (t.text === '(') return this.parseParenthesized();
        break;
      default: break;
    }
    throw new LiteralSyntaxError(`unexpected ${t.type === 'end' ? 'end of expression' : `'${'text' in t ? t.text : ''}'`} at ${t.pos}`);
  }

  private concatStrings(first: string | Uint8Array): PyValue {
    const parts = [first];
    while (this.peek().type === 'string') parts.push((this.next() as { value: string | Uint8Array }).value);
    const bytes = parts.filter((p) => p instanceof Uint8Array);
    if (bytes.length > 0 && bytes.length !== parts.length) throw new LiteralSyntaxError('cannot mix bytes and nonbytes literals');
    if (bytes.length > 0) {
      const total = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
      let offset = 0;
      for (const b of bytes) {
        total.set(b, offset);
        offset += b.length;
      }
      return { kind: 'bytes', value: total };
    }
    return { kind: 'str', value: (parts as string[]).join('') };
  }

  private parseName(name: string, pos: number): PyValue {
    if (name === 'True' || name === 'False') return { kind: 'bool', value: name === 'True' };
    if (name === 'None') return { kind: 'none' };
    if ((name === 'np' || name === 'numpy') && this.isOp('.')) {
      this.next();
      const attr = this.next();
      if (attr.type !== 'name') throw new LiteralSyntaxError(`expected a numpy function name at ${attr.pos}`);
      if (!this.isOp('(')) throw new LiteralSyntaxError(`np.${attr.text} is not a literal`);
      this.next();
      const { positional, keywords } = this.parseArguments();
      return { kind: 'ndarray', array: callNumpy(attr.text, positional, keywords) };
    }
    throw new LiteralSyntaxError(`name '${name}' is not a literal (at ${pos})`);
  }

  private parseArguments(): { positional: Argument[]; keywords: Map<string, Argument> } {
    const positional: Argument[] = [];
    const keywords = new Map<string, Argument>();
    while (!this.isOp(')')) {
      const t = this.peek();
      if (t.type === 'name' && this.isOp('=', 1)) {
        this.index += 2;
        keywords.set(t.text, this.parseArgument());
      } else {
        if (keywords.size > 0) throw new LiteralSyntaxError('positional argument follows keyword argument');
        positional.push(this.parseArgument());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expect(')');
    return { positional, keywords };
  }

  /** A literal, or a dtype reference (np.float32, numpy.int64, float, int, bool, str, bytes). */
  private parseArgument(): Argument {
    const t = this.peek();
    if (t.type === 'name' && !['True', 'False', 'None'].includes(t.text)) {
      const isModule = (t.text === 'np' || t.text === 'numpy') && this.isOp('.', 1);
      const dtypeName = isModule ? this.peek(2) : t;
      const called = isModule ? this.isOp('(', 3) : this.isOp('(', 1);
      if (dtypeName.type === 'name' && !called) {
        const dtype = parseDtypeName(dtypeName.text);
        if (!dtype) throw new LiteralSyntaxError(`unknown dtype ${dtypeName.text}`);
        this.index += isModule ? 3 : 1;
        return { dtype };
      }
    }
    return { value: this.parseExpression().value };
  }

  private parseList(): PyValue {
    const items: PyValue[] = [];
    while (!this.isOp(']')) {
      items.push(this.parseExpression().value);
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expect(']');
    return { kind: 'list', items };
  }

  private parseParenthesized(): { value: PyValue; plainNumber: boolean } {
    if (this.isOp(')')) {
      this.next();
      return { value: { kind: 'tuple', items: [] }, plainNumber: false };
    }
    const first = this.parseExpression();
    if (this.isOp(')')) {
      this.next();
      return first;
    }
    const items = [first.value];
    while (this.isOp(',')) {
      this.next();
      if (this.isOp(')')) break;
      items.push(this.parseExpression().value);
    }
    this.expect(')');
    return { value: { kind: 'tuple', items }, plainNumber: false };
  }

  private parseDict(): PyValue {
    const entries: Array<[PyValue, PyValue]> = [];
    while (!this.isOp('}')) {
      const key = this.parseExpression().value;
      if (!this.isOp(':')) throw new LiteralSyntaxError('sets are not supported; expected a dict');
      this.next();
      const value = this.parseExpression().value;
      const existing = entries.findIndex(([k]) => pyEquals(k, key));
      if (existing >= 0) entries[existing] = [entries[existing]![0], value];
      else entries.push([key, value]);
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expect('}');
    return { kind: 'dict', entries };
  }
}

function numberValue(text: string): PyValue {
  const clean = text.replace(/_/g, '');
  if (/[jJ]$/.test(clean)) throw new LiteralSyntaxError('complex numbers are not supported');
  if (/^0[xXoObB]/.test(clean)) return { kind: 'int', value: BigInt(clean.slice(0, 2).toLowerCase() + clean.slice(2)) };
  if (/^\d+$/.test(clean)) return { kind: 'int', value: BigInt(clean) };
  return { kind: 'float', value: Number(clean) };
}

function pyEquals(a: PyValue, b: PyValue): boolean {
  const scalar = (v: PyValue): unknown => {
    switch (v.kind) {
      case 'bool': return v.value ? 1 : 0;
      case 'int': return Number(v.value);
      case 'float': return v.value;
      case 'str': return `s:${v.value}`;
      case 'bytes': return `b:${Array.from(v.value).join(',')}`;
      case 'none': return 'None';
      default: return v;
    }
  };
  return scalar(a) === scalar(b);
}

function shapeArgument(arg: Argument | undefined, fn: string): number[] {
  if (!arg || !('value' in arg)) throw new LiteralSyntaxError(`np.${fn} needs a shape`);
  const v = arg.value;
  const toDim = (d: PyValue): number => {
    if (d.kind !== 'int' || d.value < 0n) throw new LiteralSyntaxError(`np.${fn}: a shape needs non-negative ints`);
    return Number(d.value);
  };
  if (v.kind === 'int') return [toDim(v)];
  if (v.kind === 'list' || v.kind === 'tuple') return v.items.map(toDim);
  throw new LiteralSyntaxError(`np.${fn}: a shape needs an int or a tuple of ints`);
}

function dtypeArgument(arg: Argument | undefined): NpDtype | undefined {
  if (!arg) return undefined;
  if ('dtype' in arg) return arg.dtype;
  if (arg.value.kind === 'str') {
    const dtype = parseDtypeName(arg.value.value);
    if (dtype) return dtype;
    throw new LiteralSyntaxError(`data type '${arg.value.value}' not understood`);
  }
  if (arg.value.kind === 'none') return undefined;
  throw new LiteralSyntaxError('dtype must be a numpy dtype');
}

function valueArgument(arg: Argument | undefined, fn: string): PyValue {
  if (!arg || !('value' in arg)) throw new LiteralSyntaxError(`np.${fn} needs a value`);
  return arg.value;
}

/** np.array / asarray / ones / zeros / full / np.<dtype>(value). */
function callNumpy(fn: string, positional: readonly Argument[], keywords: ReadonlyMap<string, Argument>): NdArray {
  const known = new Set(['dtype', 'shape', 'object', 'fill_value']);
  for (const k of keywords.keys()) if (!known.has(k)) throw new LiteralSyntaxError(`np.${fn}: unsupported argument ${k}`);
  switch (fn) {
    case 'array':
    case 'asarray': {
      const array = asarray(valueArgument(positional[0] ?? keywords.get('object'), fn));
      const dtype = dtypeArgument(positional[1] ?? keywords.get('dtype'));
      return dtype ? astype(array, dtype) : array;
    }
    case 'ones':
    case 'zeros': {
      const shape = shapeArgument(positional[0] ?? keywords.get('shape'), fn);
      const dtype = dtypeArgument(positional[1] ?? keywords.get('dtype')) ?? FLOAT64;
      return full(shape, fn === 'ones' ? 1 : 0, dtype);
    }
    case 'full': {
      const shape = shapeArgument(positional[0] ?? keywords.get('shape'), fn);
      const fill = valueArgument(positional[1] ?? keywords.get('fill_value'), fn);
      if (fill.kind !== 'int' && fill.kind !== 'float' && fill.kind !== 'bool') throw new LiteralSyntaxError('np.full needs a numeric fill value');
      const natural = fill.kind === 'int' ? INT64 : fill.kind === 'bool' ? BOOL : FLOAT64;
      const dtype = dtypeArgument(positional[2] ?? keywords.get('dtype')) ?? natural;
      return full(shape, fill.value, dtype);
    }
    default: {
      const dtype = parseDtypeName(fn);
      if (!dtype || positional.length !== 1) throw new LiteralSyntaxError(`np.${fn} is not supported`);
      return astype(asarray(valueArgument(positional[0], fn)), dtype);
    }
  }
}

/**
 * ast.literal_eval(text) (leading spaces and tabs ignored, as literal_eval does). Throws
 * LiteralSyntaxError, or ConversionError from the numpy calls.
 */
export function parsePythonLiteral(text: string): PyValue {
  return new Parser(tokenize(text.replace(/^[ \t]+/, ''))).parseTop();
}

/** type(value).__name__. */
export function pyTypeName(value: PyValue): string {
  switch (value.kind) {
    case 'none': return 'NoneType';
    case 'ndarray': return 'numpy.ndarray';
    default: return value.kind;
  }
}

/** repr(value) (str() too, except that str() of a str is the text itself). */
export function pyRepr(value: PyValue): string {
  switch (value.kind) {
    case 'none': return 'None';
    case 'bool': return value.value ? 'True' : 'False';
    case 'int': return value.value.toString();
    case 'float': return pythonFloatRepr(value.value);
    case 'str': return pyStrRepr(value.value);
    case 'bytes': return pyBytesRepr(value.value);
    case 'list': return `[${value.items.map(pyRepr).join(', ')}]`;
    case 'tuple': return value.items.length === 1 ? `(${pyRepr(value.items[0]!)},)` : `(${value.items.map(pyRepr).join(', ')})`;
    case 'dict': return `{${value.entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
    case 'ndarray': return `array(shape=(${value.array.shape.join(', ')}), dtype=${dtypeName(value.array.dtype)})`;
  }
}

export function pyStr(value: PyValue): string {
  return value.kind === 'str' ? value.value : pyRepr(value);
}
