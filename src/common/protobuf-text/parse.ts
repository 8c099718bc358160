import { ScalarType, toBinary } from '@bufbuild/protobuf';
import type { DescEnum, DescEnumValue, DescField, DescMessage, MessageShape, Registry } from '@bufbuild/protobuf';
import { reflect, scalarZeroValue } from '@bufbuild/protobuf/reflect';
import type { ReflectMap, ReflectMessage, ScalarValue } from '@bufbuild/protobuf/reflect';
import { TextFormatError } from './error.js';
import { ByteBuffer, unescapeInto } from './escape.js';
import { Tokenizer } from './tokenizer.js';

export { TextFormatError } from './error.js';

export interface ParseOptions {
  /** Resolves the message types named by expanded `google.protobuf.Any` values. */
  registry?: Registry;
}

/**
 * Parses protobuf text format into a message of the given schema with the semantics of C++'s
 * TextFormat::Parser (which TensorFlow and TF Serving use): unknown fields, a repeated
 * non-repeated field and two members of one oneof are errors. Throws TextFormatError.
 */
export function parseTextFormat<Desc extends DescMessage>(
  schema: Desc,
  text: string,
  options?: ParseOptions,
): MessageShape<Desc> {
  const root = reflect(schema, undefined, false);
  new Parser(text, options?.registry).parseFields(root, END_OF_INPUT);
  return root.message as MessageShape<Desc>;
}

const COMMA = 0x2c;
const MINUS = 0x2d;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const LESS = 0x3c;
const GREATER = 0x3e;
const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;
const LEFT_BRACE = 0x7b;
const RIGHT_BRACE = 0x7d;
/** The "closing delimiter" of the top-level message. */
const END_OF_INPUT = -1;

const INT32_MAX = 0x7fffffffn;
const UINT32_MAX = 0xffffffffn;
const INT64_MAX = 0x7fffffffffffffffn;
const UINT64_MAX = 0xffffffffffffffffn;
/** C++'s default; also keeps hostile input from overflowing the stack. */
const RECURSION_LIMIT = 100;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const fieldsByName = new WeakMap<DescMessage, Map<string, DescField>>();

function findField(desc: DescMessage, name: string): DescField | undefined {
  let fields = fieldsByName.get(desc);
  if (fields === undefined) {
    fields = new Map(desc.fields.map((f) => [f.name, f]));
    fieldsByName.set(desc, fields);
  }
  return fields.get(name);
}

const enumValuesByName = new WeakMap<DescEnum, Map<string, DescEnumValue>>();

function findEnumValue(desc: DescEnum, name: string): DescEnumValue | undefined {
  let values = enumValuesByName.get(desc);
  if (values === undefined) {
    values = new Map(desc.values.map((v) => [v.name, v]));
    enumValuesByName.set(desc, values);
  }
  return values.get(name);
}

/** C++'s wording, plus the enum's name. */
function unknownEnumValue(value: string, fieldName: string, desc: DescEnum): string {
  return `Unknown enumeration value of "${value}" for field "${fieldName}" (enum ${desc.typeName}).`;
}

/** Whether the field's values are messages, for which C++ makes the `:` optional. */
function takesMessage(field: DescField): boolean {
  return (
    field.fieldKind === 'message' ||
    field.fieldKind === 'map' ||
    (field.fieldKind === 'list' && field.listKind === 'message')
  );
}

/** The value of an integer token: decimal, 0x hex, or octal with a leading 0. */
function integerValue(text: string): bigint {
  if (text.length > 1 && text.charCodeAt(0) === 0x30) {
    const second = text.charCodeAt(1);
    return second === 0x78 || second === 0x58 ? BigInt(`0x${text.slice(2)}`) : BigInt(`0o${text.slice(1)}`);
  }
  return BigInt(text);
}

/** For an integer token: C++ reads only decimal integers as floating point. */
function isHexOrOctal(text: string): boolean {
  return text.length > 1 && text.charCodeAt(0) === 0x30;
}

type MapField = DescField & { fieldKind: 'map' };

class Parser {
  private readonly tok: Tokenizer;
  private readonly bytes = new ByteBuffer();
  private depth = 0;

  constructor(
    text: string,
    private readonly registry: Registry | undefined,
  ) {
    this.tok = new Tokenizer(text);
  }

  /** Parses fields into `msg` up to its closing delimiter (consumed), or to the end of input. */
  parseFields(msg: ReflectMessage, close: number): void {
    const tok = this.tok;
    // Fields given so far, to reject repeats as C++'s FORBID_SINGULAR_OVERWRITES policy does.
    const seen = new Set<DescField>();
    for (;;) {
      if (close === END_OF_INPUT) {
        if (tok.kind === 'end') return;
      } else if (tok.isSymbol(RIGHT_BRACE) || tok.isSymbol(GREATER)) {
        this.expectSymbol(close);
        return;
      } else if (tok.kind === 'end') {
        throw tok.error(`Expected "${String.fromCharCode(close)}", found end of input.`);
      }
      if (tok.isSymbol(LEFT_BRACKET)) {
        this.parseBracketedField(msg, seen);
      } else {
        this.parseField(msg, seen);
      }
      // For historical reasons a field may be followed by one `;` or `,`.
      if (!this.trySymbol(SEMICOLON)) this.trySymbol(COMMA);
    }
  }

  private parseField(msg: ReflectMessage, seen: Set<DescField>): void {
    const tok = this.tok;
    if (tok.kind !== 'identifier') throw tok.error(`Expected identifier, got: ${this.describe()}`);
    const name = tok.tokenText;
    const field = findField(msg.desc, name);
    // C++ reports these at the token after the name (it has consumed the name by then).
    tok.next();
    if (field === undefined) throw tok.error(`Message type "${msg.desc.typeName}" has no field named "${name}".`);
    this.markSeen(field, seen);

    if (takesMessage(field)) {
      this.trySymbol(COLON);
    } else {
      this.expectSymbol(COLON);
    }
    // List syntax, `field: [a, b]`, is allowed for every repeated field, maps included.
    if ((field.fieldKind === 'list' || field.fieldKind === 'map') && this.trySymbol(LEFT_BRACKET)) {
      if (this.trySymbol(RIGHT_BRACKET)) return;
      for (;;) {
        this.parseValue(msg, field);
        if (this.trySymbol(RIGHT_BRACKET)) return;
        this.expectSymbol(COMMA);
      }
    }
    this.parseValue(msg, field);
  }

  /** Rejects a second value for a singular field or a second member of a oneof, naming the current token. */
  private markSeen(field: DescField, seen: Set<DescField>): void {
    if (field.fieldKind === 'list' || field.fieldKind === 'map') return;
    if (seen.has(field)) throw this.tok.error(`Non-repeated field "${field.name}" is specified multiple times.`);
    const oneof = field.oneof;
    if (oneof !== undefined) {
      for (const other of seen) {
        if (other.oneof === oneof) {
          throw this.tok.error(
            `Field "${field.name}" is specified along with field "${other.name}", another member of oneof "${oneof.name}".`,
          );
        }
      }
    }
    seen.add(field);
  }

  /** One value of the field: the whole value of a singular field, one element of a repeated one. */
  private parseValue(msg: ReflectMessage, field: DescField): void {
    switch (field.fieldKind) {
      case 'scalar':
        msg.set(field, this.readScalar(field.scalar, field.name));
        return;
      case 'enum':
        msg.set(field, this.readEnum(field.enum, field.name));
        return;
      case 'message':
        msg.set(field, this.readMessage(field.message));
        return;
      case 'list': {
        const list = msg.get(field);
        switch (field.listKind) {
          case 'scalar':
            list.add(this.readScalar(field.scalar, field.name));
            return;
          case 'enum':
            list.add(this.readEnum(field.enum, field.name));
            return;
          case 'message':
            list.add(this.readMessage(field.message));
            return;
        }
        return;
      }
      case 'map':
        this.readMapEntry(msg.get(field), field);
        return;
    }
  }

  /** `{ ... }` or `< ... >`. */
  private readMessage(desc: DescMessage): ReflectMessage {
    const close = this.openMessage();
    const msg = reflect(desc, undefined, false);
    this.parseFields(msg, close);
    this.depth--;
    return msg;
  }

  /** Consumes `{` or `<` and returns the matching closing char code. */
  private openMessage(): number {
    const tok = this.tok;
    let close: number;
    if (tok.isSymbol(LEFT_BRACE)) {
      close = RIGHT_BRACE;
    } else if (tok.isSymbol(LESS)) {
      close = GREATER;
    } else {
      throw tok.error(`Expected "{", found ${this.describeQuoted()}.`);
    }
    if (++this.depth > RECURSION_LIMIT) {
      throw tok.error(
        `Message is too deep, the parser exceeded the configured recursion limit of ${RECURSION_LIMIT}.`,
      );
    }
    tok.next();
    return close;
  }

  /**
   * A map entry, written as a message with fields `key` and `value`; either may be left out
   * and then takes its zero value. A later entry with the same key replaces an earlier one.
   */
  private readMapEntry(map: ReflectMap, field: MapField): void {
    const tok = this.tok;
    const close = this.openMessage();
    let key: unknown;
    let value: unknown;
    while (!tok.isSymbol(RIGHT_BRACE) && !tok.isSymbol(GREATER)) {
      if (tok.kind !== 'identifier') {
        throw tok.kind === 'end'
          ? tok.error(`Expected "${String.fromCharCode(close)}", found end of input.`)
          : tok.error(`Expected identifier, got: ${this.describe()}`);
      }
      const name = tok.tokenText;
      tok.next();
      if (name !== 'key' && name !== 'value') {
        // The entry type is the map field's message type, e.g. "pkg.Msg.LabelsEntry".
        throw tok.error(`Message type "${field.proto.typeName.slice(1)}" has no field named "${name}".`);
      }
      if ((name === 'key' ? key : value) !== undefined) {
        throw tok.error(`Non-repeated field "${name}" is specified multiple times.`);
      }
      if (name === 'key') {
        this.expectSymbol(COLON);
        key = this.readScalar(field.mapKey, 'key');
      } else if (field.mapKind === 'message') {
        this.trySymbol(COLON);
        value = this.readMessage(field.message);
      } else {
        this.expectSymbol(COLON);
        value = field.mapKind === 'enum' ? this.readEnum(field.enum, 'value') : this.readScalar(field.scalar, 'value');
      }
      if (!this.trySymbol(SEMICOLON)) this.trySymbol(COMMA);
    }
    this.expectSymbol(close);
    this.depth--;
    map.set(key ?? scalarZeroValue(field.mapKey, false), value ?? this.mapValueZero(field));
  }

  private mapValueZero(field: MapField): unknown {
    switch (field.mapKind) {
      case 'message':
        return reflect(field.message, undefined, false);
      case 'enum':
        return field.enum.values[0].number;
      case 'scalar':
        return scalarZeroValue(field.scalar, false);
    }
  }

  /**
   * A `[...]` field name. Inside a google.protobuf.Any it is the expanded form
   * `[type.googleapis.com/pkg.Msg] { ... }`: the value is parsed as that message type, found in
   * the registry, and stored serialized like C++ does. Elsewhere it would name an extension,
   * which we do not support.
   */
  private parseBracketedField(msg: ReflectMessage, seen: Set<DescField>): void {
    const tok = this.tok;
    const { line, column } = tok;
    const fail = (what: string) => new TextFormatError(line, column, what);
    const url = tok.readBracketedName();
    const typeUrlField = findField(msg.desc, 'type_url');
    const valueField = findField(msg.desc, 'value');
    if (msg.desc.typeName !== 'google.protobuf.Any' || typeUrlField === undefined || valueField === undefined) {
      throw fail(`Extension "${url}" is not defined or is not an extension of "${msg.desc.typeName}".`);
    }
    const slash = url.lastIndexOf('/');
    if (slash < 0) throw fail('Type URL prefix is missing');
    const prefix = url.slice(0, slash + 1);
    if (prefix === '/') throw fail('Type URL prefix is empty');
    if (prefix.startsWith('/')) throw fail('Type URL starts with "/"');
    const badPercent = /%(?![0-9A-Fa-f]{2})/.exec(prefix);
    if (badPercent !== null) throw fail(`Invalid percent encode, got: "${prefix.slice(badPercent.index, badPercent.index + 3)}"`);
    const typeName = url.slice(slash + 1);
    for (const part of typeName.split('.')) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) throw fail(`Invalid identifier in type name, got: "${part}"`);
    }
    const desc = this.registry?.getMessage(typeName);
    if (desc === undefined) throw fail(`Could not find type "${url}" stored in google.protobuf.Any.`);
    if (seen.has(typeUrlField) || seen.has(valueField)) throw fail('Non-repeated Any specified multiple times.');
    seen.add(typeUrlField);
    seen.add(valueField);

    this.trySymbol(COLON);
    const value = this.readMessage(desc);
    msg.set(typeUrlField, url);
    msg.set(valueField, toBinary(desc, value.message));
  }

  private readScalar(type: ScalarType, fieldName: string): ScalarValue {
    switch (type) {
      case ScalarType.DOUBLE:
        return this.readDouble();
      case ScalarType.FLOAT:
        // Like C++'s SafeDoubleToFloat: out-of-range values become infinities.
        return Math.fround(this.readDouble());
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return Number(this.readSignedInteger(INT32_MAX));
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return Number(this.readUnsignedInteger(UINT32_MAX));
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return this.readSignedInteger(INT64_MAX);
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return this.readUnsignedInteger(UINT64_MAX);
      case ScalarType.BOOL:
        return this.readBool(fieldName);
      case ScalarType.STRING:
        return this.readString(fieldName);
      case ScalarType.BYTES:
        return this.readBytes();
    }
  }

  private readUnsignedInteger(max: bigint): bigint {
    const tok = this.tok;
    if (tok.kind !== 'integer') throw tok.error(`Expected integer, got: ${this.describe()}`);
    const text = tok.tokenText;
    const value = integerValue(text);
    if (value > max) throw tok.error(`Integer out of range (${text})`);
    tok.next();
    return value;
  }

  private readSignedInteger(max: bigint): bigint {
    // Two's complement allows one more negative value than positive.
    if (this.trySymbol(MINUS)) return -this.readUnsignedInteger(max + 1n);
    return this.readUnsignedInteger(max);
  }

  /** A float or double: decimal integers and floats, `inf`, `infinity` and `nan` in any case. */
  private readDouble(): number {
    const tok = this.tok;
    const negative = this.trySymbol(MINUS);
    const text = tok.tokenText;
    let value: number;
    switch (tok.kind) {
      case 'integer':
        if (isHexOrOctal(text)) throw tok.error(`Expect a decimal number, got: ${text}`);
        value = Number(text);
        break;
      case 'float': {
        const last = text.charCodeAt(text.length - 1);
        value = Number(last === 0x66 || last === 0x46 ? text.slice(0, -1) : text);
        break;
      }
      case 'identifier': {
        const lower = text.toLowerCase();
        if (lower === 'inf' || lower === 'infinity') {
          value = Infinity;
        } else if (lower === 'nan') {
          value = NaN;
        } else {
          throw tok.error(`Expected double, got: ${text}`);
        }
        break;
      }
      default:
        throw tok.error(`Expected double, got: ${this.describe()}`);
    }
    tok.next();
    return negative ? -value : value;
  }

  private readBool(fieldName: string): boolean {
    const tok = this.tok;
    if (tok.kind === 'integer') return this.readUnsignedInteger(1n) === 1n;
    if (tok.kind !== 'identifier') throw tok.error(`Expected identifier, got: ${this.describe()}`);
    const text = tok.tokenText;
    let value: boolean;
    if (text === 'true' || text === 'True' || text === 't') {
      value = true;
    } else if (text === 'false' || text === 'False' || text === 'f') {
      value = false;
    } else {
      throw tok.error(`Invalid value for boolean field "${fieldName}". Value: "${text}".`);
    }
    tok.next();
    return value;
  }

  /** An enum by value name, or by number; an unknown number is kept only for open (proto3) enums. */
  private readEnum(desc: DescEnum, fieldName: string): number {
    const tok = this.tok;
    if (tok.kind === 'identifier') {
      const value = findEnumValue(desc, tok.tokenText);
      if (value === undefined) throw tok.error(unknownEnumValue(tok.tokenText, fieldName, desc));
      tok.next();
      return value.number;
    }
    if (tok.kind === 'integer' || tok.isSymbol(MINUS)) {
      const { line, column } = tok;
      const number = Number(this.readSignedInteger(INT32_MAX));
      if (!desc.open && desc.value[number] === undefined) {
        throw new TextFormatError(line, column, unknownEnumValue(String(number), fieldName, desc));
      }
      return number;
    }
    throw tok.error(`Expected integer or identifier, got: ${this.describe()}`);
  }

  /** Adjacent literals concatenate, as bytes, so an escape sequence may continue across them. */
  private readString(fieldName: string): string {
    const tok = this.tok;
    if (tok.kind !== 'string') throw tok.error(`Expected string, got: ${this.describe()}`);
    const { line, column } = tok;
    // Literals without escapes already are the text they spell (the common case).
    let text = '';
    while (tok.kind === 'string' && !tok.escaped) {
      text += tok.text.slice(tok.start + 1, tok.end - 1);
      tok.next();
    }
    if (tok.kind !== 'string') return text;
    this.readLiteralBytes();
    try {
      return text + utf8.decode(this.bytes.view());
    } catch {
      throw new TextFormatError(line, column, `String field "${fieldName}" contains invalid UTF-8 data.`);
    }
  }

  private readBytes(): Uint8Array {
    const tok = this.tok;
    if (tok.kind !== 'string') throw tok.error(`Expected string, got: ${this.describe()}`);
    this.readLiteralBytes();
    return this.bytes.view().slice();
  }

  /** Decodes the current and all adjacent string literals into this.bytes. */
  private readLiteralBytes(): void {
    const tok = this.tok;
    this.bytes.length = 0;
    while (tok.kind === 'string') {
      unescapeInto(tok.text, tok.start + 1, tok.end - 1, this.bytes);
      tok.next();
    }
  }

  private trySymbol(code: number): boolean {
    if (!this.tok.isSymbol(code)) return false;
    this.tok.next();
    return true;
  }

  private expectSymbol(code: number): void {
    if (!this.trySymbol(code)) {
      throw this.tok.error(`Expected "${String.fromCharCode(code)}", found ${this.describeQuoted()}.`);
    }
  }

  /** The current token for an error message, as C++ shows it. */
  private describe(): string {
    return this.tok.kind === 'end' ? 'end of input' : this.tok.tokenText;
  }

  private describeQuoted(): string {
    return this.tok.kind === 'end' ? 'end of input' : `"${this.tok.tokenText}"`;
  }
}
