import { ScalarType, fromBinary } from '@bufbuild/protobuf';
import type { DescEnum, DescField, DescMessage, Message, MessageShape, Registry } from '@bufbuild/protobuf';
import { reflect } from '@bufbuild/protobuf/reflect';
import type { ReflectMap, ReflectMessage, ScalarValue } from '@bufbuild/protobuf/reflect';
import { escapeBytes, escapeString } from './escape.js';

export interface PrintOptions {
  /** Spaces per nesting level (default 2, as C++ prints). */
  indent?: number;
  /** google.protobuf.Any values whose type this registry knows print expanded: `[type_url] { ... }`. */
  registry?: Registry;
}

/**
 * Prints a message in protobuf text format as C++'s TextFormat::Printer does: fields in
 * field-number order, only fields that are set (non-default for proto3 scalars), one line
 * per element of a repeated field, map entries sorted by key, strings C-escaped.
 * Unknown fields are not printed.
 */
export function printTextFormat<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  options?: PrintOptions,
): string {
  const printer = new Printer(' '.repeat(options?.indent ?? 2), options?.registry);
  printer.printFields(reflect(schema, message, false), '');
  return printer.out;
}

type MapField = DescField & { fieldKind: 'map' };
type MapKey = string | number | bigint | boolean;

class Printer {
  out = '';

  constructor(
    private readonly unit: string,
    private readonly registry: Registry | undefined,
  ) {}

  printFields(msg: ReflectMessage, indent: string): void {
    if (msg.desc.typeName === 'google.protobuf.Any' && this.printExpandedAny(msg, indent)) return;
    for (const field of msg.sortedFields) {
      if (!msg.isSet(field)) continue;
      switch (field.fieldKind) {
        case 'scalar':
          this.line(indent, field.name, formatScalar(field.scalar, msg.get(field)));
          break;
        case 'enum':
          this.line(indent, field.name, formatEnum(field.enum, msg.get(field)));
          break;
        case 'message':
          this.block(indent, field.name, msg.get(field));
          break;
        case 'list':
          for (const item of msg.get(field)) {
            switch (field.listKind) {
              case 'scalar':
                this.line(indent, field.name, formatScalar(field.scalar, item as ScalarValue));
                break;
              case 'enum':
                this.line(indent, field.name, formatEnum(field.enum, item as number));
                break;
              case 'message':
                this.block(indent, field.name, item as ReflectMessage);
                break;
            }
          }
          break;
        case 'map':
          this.printMap(indent, field, msg.get(field));
          break;
      }
    }
  }

  /** Each entry as a `key`/`value` message, sorted by key so the output is deterministic. */
  private printMap(indent: string, field: MapField, map: ReflectMap): void {
    const inner = indent + this.unit;
    const entries = Array.from(map as ReflectMap<MapKey>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, value] of entries) {
      this.out += `${indent}${field.name} {\n`;
      this.line(inner, 'key', formatScalar(field.mapKey, key));
      switch (field.mapKind) {
        case 'scalar':
          this.line(inner, 'value', formatScalar(field.scalar, value as ScalarValue));
          break;
        case 'enum':
          this.line(inner, 'value', formatEnum(field.enum, value as number));
          break;
        case 'message':
          this.block(inner, 'value', value as ReflectMessage);
          break;
      }
      this.out += `${indent}}\n`;
    }
  }

  /** `[type.googleapis.com/pkg.Msg] { ... }` when the registry knows the type and the bytes decode. */
  private printExpandedAny(msg: ReflectMessage, indent: string): boolean {
    const typeUrlField = msg.fields.find((f) => f.name === 'type_url');
    const valueField = msg.fields.find((f) => f.name === 'value');
    if (this.registry === undefined || typeUrlField === undefined || valueField === undefined) return false;
    const typeUrl = msg.get(typeUrlField) as string;
    const slash = typeUrl.lastIndexOf('/');
    const desc = slash < 0 ? undefined : this.registry.getMessage(typeUrl.slice(slash + 1));
    if (desc === undefined) return false;
    let value: Message;
    try {
      value = fromBinary(desc, msg.get(valueField) as Uint8Array);
    } catch {
      return false;
    }
    this.block(indent, `[${typeUrl}]`, reflect(desc, value, false));
    return true;
  }

  private line(indent: string, name: string, value: string): void {
    this.out += `${indent}${name}: ${value}\n`;
  }

  private block(indent: string, name: string, msg: ReflectMessage): void {
    this.out += `${indent}${name} {\n`;
    this.printFields(msg, indent + this.unit);
    this.out += `${indent}}\n`;
  }
}

function formatScalar(type: ScalarType, value: ScalarValue): string {
  switch (type) {
    case ScalarType.DOUBLE:
      return formatDouble(value as number);
    case ScalarType.FLOAT:
      return formatFloat(value as number);
    case ScalarType.STRING:
      return `"${escapeString(value as string)}"`;
    case ScalarType.BYTES:
      return `"${escapeBytes(value as Uint8Array)}"`;
    default:
      // Integers (64-bit ones are bigint) and bools.
      return String(value);
  }
}

function formatEnum(desc: DescEnum, value: number): string {
  return desc.value[value]?.name ?? String(value);
}

function formatDouble(value: number): string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Number.isNaN(value)) return 'nan';
  if (Object.is(value, -0)) return '-0';
  // The shortest text that reads back as the same double.
  return String(value);
}

/**
 * Like C++'s SimpleFtoa: 6 significant digits when they read back as the same 32-bit float,
 * otherwise 9, which always do.
 */
function formatFloat(value: number): string {
  if (!Number.isFinite(value) || value === 0) return formatDouble(value);
  const short = Number(value.toPrecision(6));
  return String(Math.fround(short) === value ? short : Number(value.toPrecision(9)));
}
