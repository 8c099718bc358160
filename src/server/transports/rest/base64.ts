/**
 * Binary values in JSON: `{"b64": "<base64>"}` (the only key). Decoding follows absl::Base64Unescape:
 * the standard alphabet, whitespace ignored, padding optional but only at the end. Buffer's own
 * decoder silently skips bad characters, so the text is checked first.
 */
import { type JsonValue, isJsonObject } from './json-parse.js';

const STRICT_BASE64 = /^[A-Za-z0-9+/]*(?:={0,2}|\.{0,2})$/;
const WHITESPACE = /[\s]/g;

export function isBase64Object(value: JsonValue | undefined): value is { readonly b64: string } {
  if (!isJsonObject(value) || !Object.hasOwn(value, 'b64') || typeof value.b64 !== 'string') return false;
  for (const key in value) if (key !== 'b64') return false;
  return true;
}

/** The decoded bytes, or undefined when `text` is not valid base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  let clean = text;
  if (!STRICT_BASE64.test(clean)) {
    clean = text.replace(WHITESPACE, '');
    if (!STRICT_BASE64.test(clean)) return undefined;
  }
  const padding = clean.endsWith('==') || clean.endsWith('..') ? 2 : clean.endsWith('=') || clean.endsWith('.') ? 1 : 0;
  const data = clean.length - padding;
  if (data % 4 === 1 || (padding > 0 && clean.length % 4 !== 0)) return undefined;
  return Buffer.from(padding > 0 && clean.endsWith('.') ? clean.slice(0, data) : clean, 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
