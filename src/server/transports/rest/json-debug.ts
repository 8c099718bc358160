/**
 * How TF Serving quotes request JSON in its error messages (json_tensor.cc JsonValueToDebugString):
 * rapidjson's PrettyWriter with single-line arrays (4-space indented objects, `[1, 2]` arrays),
 * cut off once 256 bytes are written. Type names are rapidjson's (JsonTypeString).
 */
import { type ServingError, invalidArgument } from '../../errors.js';
import { ByteString, FloatToken, type JsonValue } from './json-parse.js';

const MAX_DEBUG_CHARS = 256;

export function jsonTypeName(value: JsonValue): string {
  if (value === null) return 'Null';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || value instanceof ByteString) return 'String';
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof FloatToken) return 'Number';
  return Array.isArray(value) ? 'Array' : 'Object';
}

export function debugString(value: JsonValue): string {
  const writer = new DebugWriter();
  writer.value(value, 0);
  return writer.out;
}

/** A number as rapidjson writes it: integers plain, doubles shortest with `.0` for whole values. */
export function debugNumber(value: number | bigint | FloatToken): string {
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  const double = typeof value === 'number' ? value : value.value;
  if (!Number.isFinite(double)) return double > 0 ? 'Infinity' : double < 0 ? '-Infinity' : 'NaN';
  const text = String(double);
  if (text.includes('e')) return text.replace('e+', 'e');
  return text.includes('.') ? text : `${text}.0`;
}

class DebugWriter {
  out = '';
  private stopped = false;

  /** One rapidjson writer event: refused once the output has reached the limit. */
  private emit(text: string): boolean {
    if (this.stopped || this.out.length >= MAX_DEBUG_CHARS) {
      this.stopped = true;
      return false;
    }
    this.out += text;
    return true;
  }

  value(value: JsonValue, level: number, prefix = ''): boolean {
    if (value === null) return this.emit(`${prefix}null`);
    if (typeof value === 'boolean') return this.emit(prefix + String(value));
    if (typeof value === 'string') return this.emit(prefix + JSON.stringify(value));
    if (value instanceof ByteString) return this.emit(prefix + JSON.stringify(value.text));
    if (typeof value === 'number' || typeof value === 'bigint' || value instanceof FloatToken) {
      return this.emit(prefix + debugNumber(value));
    }
    if (Array.isArray(value)) {
      if (!this.emit(`${prefix}[`)) return false;
      for (let i = 0; i < value.length; i++) {
        if (!this.value(value[i]!, level + 1, i > 0 ? ', ' : '')) return false;
      }
      return this.emit(']');
    }
    if (!this.emit(`${prefix}{`)) return false;
    const keys = Object.keys(value);
    const indent = '    '.repeat(level + 1);
    for (let i = 0; i < keys.length; i++) {
      if (!this.emit(`${i > 0 ? ',' : ''}\n${indent}${JSON.stringify(keys[i])}`)) return false;
      if (!this.value(value[keys[i]!]!, level + 1, ': ')) return false;
    }
    return this.emit(keys.length > 0 ? `\n${'    '.repeat(level)}}` : '}');
  }
}

/** TF Serving's FormatError: the offending JSON, then what is wrong with it. */
export function jsonValueError(value: JsonValue, message: string): ServingError {
  return invalidArgument(`JSON Value: ${debugString(value)} ${message}`);
}
