/**
 * Hash tables (tf.lookup) are filled by the SavedModel's init op: from constant keys and values
 * (LookupTableImportV2, InitializeTableV2) or from a vocabulary file shipped as an asset
 * (InitializeTableFromTextFileV2). We do that work at load time and hand tfjs the resulting keys
 * and values; the lookups themselves run on tfjs's own hash tables.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { failedPrecondition, invalidArgument, unimplemented } from '../../errors.js';
import { DataType, dtypeEnumName } from '../tensor/dtypes.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { getInt, getString, getType } from './attrs.js';
import { evaluateConstant } from './constant-eval.js';
import { inlineReachableCalls } from './inline.js';
import { type IrNode, parseRef } from './ir.js';
import type { Body, FunctionLibrary } from './library.js';
import { INIT_OP_SIGNATURE_KEY } from '../savedmodel/signatures.js';
import { reachable, traceForwarded } from './traverse.js';

export interface TableInit {
  /** The HashTableV2 node the lookups use. */
  readonly table: string;
  readonly keyDtype: DataType;
  readonly valueDtype: DataType;
  readonly keys: HostTensor;
  readonly values: HostTensor;
}

const TABLE_OPS = new Set(['HashTableV2', 'HashTable']);
/** Collections TF1 exports name their init ops in. */
const INIT_COLLECTIONS = ['saved_model_main_op', 'legacy_init_op', 'table_initializer'];

/** Node names the loader runs after restoring variables. */
export function initOpRoots(metaGraph: MetaGraphDef): string[] {
  const roots: string[] = [];
  const initSignature = metaGraph.signatureDef[INIT_OP_SIGNATURE_KEY];
  for (const info of Object.values(initSignature?.outputs ?? {})) {
    if (info.encoding.case === 'name') roots.push(parseRef(info.encoding.value).node);
  }
  for (const name of INIT_COLLECTIONS) {
    const kind = metaGraph.collectionDef[name]?.kind;
    if (kind?.case === 'nodeList') roots.push(...kind.value.value.map((n) => parseRef(n).node));
  }
  return roots;
}

export async function resolveTableInits(
  metaGraph: MetaGraphDef,
  top: Body,
  library: FunctionLibrary,
  exportDir: string,
): Promise<TableInit[]> {
  const roots = initOpRoots(metaGraph).filter((r) => top.nodes.has(r));
  if (roots.length === 0) return [];
  inlineReachableCalls(top, roots, library, () => true);
  const inits: TableInit[] = [];
  for (const name of reachable(top, roots, true)) {
    const node = top.nodes.get(name)!;
    const kind = node.op;
    if (!['LookupTableImportV2', 'LookupTableImport', 'InitializeTableV2', 'InitializeTable', 'InitializeTableFromTextFileV2', 'InitializeTableFromTextFile'].includes(kind)) {
      continue;
    }
    const table = top.nodes.get(parseRef(traceForwarded(top, node.inputs[0] ?? '')).node);
    if (!table || !TABLE_OPS.has(table.op)) {
      throw unimplemented(`${kind} node "${name}" initialises a ${table?.op ?? 'missing'} table; only HashTableV2 is supported`);
    }
    const keyDtype = getType(table, 'key_dtype')!;
    const valueDtype = getType(table, 'value_dtype')!;
    let keys: HostTensor | undefined;
    let values: HostTensor | undefined;
    if (kind.startsWith('InitializeTableFromTextFile')) {
      const filename = evaluateConstant(top, node.inputs[1] ?? '');
      if (!filename || filename.dtype !== DataType.DT_STRING) {
        throw unimplemented(`${kind} node "${name}": the vocabulary file name is not a constant`);
      }
      const path = new TextDecoder().decode((filename.data as Uint8Array[])[0]);
      ({ keys, values } = await readVocabulary(path, exportDir, node, keyDtype, valueDtype));
    } else {
      keys = evaluateConstant(top, node.inputs[1] ?? '');
      values = evaluateConstant(top, node.inputs[2] ?? '');
      if (!keys || !values) throw unimplemented(`${kind} node "${name}": table keys or values are not constants`);
    }
    inits.push({ table: table.name, keyDtype, valueDtype, keys, values });
  }
  return inits;
}

/** tf.lookup.TextFileIndex. */
export const WHOLE_LINE = -2;
export const LINE_NUMBER = -1;

/** Reads a vocabulary asset, refusing paths outside the SavedModel directory. */
async function readVocabulary(
  path: string,
  exportDir: string,
  node: IrNode,
  keyDtype: DataType,
  valueDtype: DataType,
): Promise<{ keys: HostTensor; values: HostTensor }> {
  const root = resolve(exportDir);
  const resolved = resolve(root, path);
  if (!resolved.startsWith(root + sep)) throw failedPrecondition(`Vocabulary file ${path} is outside the SavedModel directory ${root}`);
  let text: string;
  try {
    text = await readFile(resolved, 'utf8');
  } catch (error) {
    throw failedPrecondition(`Cannot read vocabulary file ${resolved}: ${(error as Error).message}`);
  }
  return parseVocabulary(text, {
    source: resolved,
    keyIndex: getInt(node, 'key_index') ?? WHOLE_LINE,
    valueIndex: getInt(node, 'value_index') ?? LINE_NUMBER,
    vocabSize: getInt(node, 'vocab_size') ?? -1,
    offset: getInt(node, 'offset') ?? 0,
    delimiter: getString(node, 'delimiter') ?? '\t',
    keyDtype,
    valueDtype,
  });
}

export interface VocabularyOptions {
  /** For error messages. */
  readonly source: string;
  /** A column, WHOLE_LINE (-2) or LINE_NUMBER (-1). */
  readonly keyIndex: number;
  readonly valueIndex: number;
  /** -1 = every line. */
  readonly vocabSize: number;
  /** Added to line numbers. */
  readonly offset: number;
  readonly delimiter: string;
  readonly keyDtype: DataType;
  readonly valueDtype: DataType;
}

/** TensorFlow's TextFileInitializer: one entry per line; key and value are a column, the line, or its number. */
export function parseVocabulary(text: string, options: VocabularyOptions): { keys: HostTensor; values: HostTensor } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const used = options.vocabSize >= 0 ? lines.slice(0, options.vocabSize) : lines;
  if (options.vocabSize >= 0 && used.length < options.vocabSize) {
    throw invalidArgument(`Invalid vocab_size: expected ${options.vocabSize} lines in ${options.source}, found ${used.length}`);
  }
  const field = (line: string, lineNumber: number, index: number, dtype: DataType, what: string): string | bigint | number => {
    if (index === LINE_NUMBER) return BigInt(lineNumber + options.offset);
    const token = index === WHOLE_LINE ? line : line.split(options.delimiter)[index];
    if (token === undefined) {
      throw invalidArgument(`Invalid ${what}_index ${index} on line ${lineNumber} of ${options.source}: ${JSON.stringify(line)}`);
    }
    if (dtype === DataType.DT_STRING) return token;
    if (dtype === DataType.DT_INT64 || dtype === DataType.DT_INT32) {
      if (!/^-?\d+$/.test(token.trim())) throw invalidArgument(`Field ${token} on line ${lineNumber} of ${options.source} is not a valid integer`);
      return BigInt(token.trim());
    }
    const number = Number(token);
    if (Number.isNaN(number) && token.trim().toLowerCase() !== 'nan') {
      throw invalidArgument(`Field ${token} on line ${lineNumber} of ${options.source} is not a valid number`);
    }
    return number;
  };
  const keys = used.map((line, i) => field(line, i, options.keyIndex, options.keyDtype, 'key'));
  const values = used.map((line, i) => field(line, i, options.valueIndex, options.valueDtype, 'value'));
  return { keys: hostVector(options.keyDtype, keys), values: hostVector(options.valueDtype, values) };
}

function hostVector(dtype: DataType, items: Array<string | bigint | number>): HostTensor {
  const shape = [items.length];
  const encoder = new TextEncoder();
  switch (dtype) {
    case DataType.DT_STRING: return { dtype, shape, data: items.map((v) => encoder.encode(String(v))) };
    case DataType.DT_INT64: return { dtype, shape, data: BigInt64Array.from(items.map((v) => BigInt(v))) };
    case DataType.DT_INT32: return { dtype, shape, data: Int32Array.from(items.map(Number)) };
    case DataType.DT_FLOAT: return { dtype, shape, data: Float32Array.from(items.map(Number)) };
    case DataType.DT_DOUBLE: return { dtype, shape, data: Float64Array.from(items.map(Number)) };
    default: throw unimplemented(`Vocabulary tables of ${dtypeEnumName(dtype)} are not supported`);
  }
}
