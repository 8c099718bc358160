// Protobuf text format (C++ TextFormat compatible), generic over protobuf-es descriptors.
export { parseTextFormat, TextFormatError } from './parse.js';
export type { ParseOptions } from './parse.js';
export { printTextFormat } from './print.js';
export type { PrintOptions } from './print.js';
