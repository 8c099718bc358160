/**
 * Converts a frozen graph into the artifacts tfjs-converter loads: a GraphDef in protobuf-JSON form
 * (camelCase, int64 as strings, enums by name, bytes as base64) and the value of every Const as a
 * weight, because tfjs reads Const values only from the weight map. Nodes of control-flow bodies
 * share that map, so their Consts get names unique across the model.
 */
import { toJson } from '@bufbuild/protobuf';
import type * as tf from '@tensorflow/tfjs-core';
import { AttrValueSchema } from '../../../gen/tensorflow/core/framework/attr_value_pb.js';
import { internal, unimplemented } from '../../errors.js';
import { getString, getTensor, getType, intAttr, typeAttr } from '../graph/attrs.js';
import type { FrozenGraph } from '../graph/freeze.js';
import { type IrFunction, type IrNode, formatRef, parseRef } from '../graph/ir.js';
import { CONV2D_OP, GATHER_STRINGS_OP, SELECT_V1_OP, TENSOR_LIST_SET_ITEM_OP, VARIABLE_ATTR, ZEROS_LIKE_STRINGS_OP } from '../graph/names.js';
import type { OpRegistry } from '../graph/op-registry.js';
import { DataType, dtypeEnumName } from '../tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../tensor/host-tensor.js';
import { type ModelContext, MODEL_ID_ATTR, NODE_INDEX_ATTR } from './custom-ops/context.js';
import { isCustomOp } from './custom-ops/index.js';
import { MissingOpsError } from './missing-ops.js';
import { tfjsDtypeOf } from './convert.js';
import { TFJS_CONVERTER_OPS } from './tfjs-op-list.js';

type JsonAttr = ReturnType<typeof toJson>;

interface JsonNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, JsonAttr>;
}

export interface TfjsArtifacts {
  readonly modelTopology: {
    node: JsonNode[];
    library: { function: unknown[] };
    versions: { producer: number; minConsumer: number };
  };
  /** Fills the hash tables; tfjs runs it before the first execution. */
  readonly modelInitializer?: { node: JsonNode[]; versions: { producer: number; minConsumer: number } };
  readonly weightSpecs: tf.io.WeightsManifestEntry[];
  readonly weightData: ArrayBuffer[];
  /** Ops that need tfjs's async executor (control flow, dynamic shapes). */
  readonly asyncOps: ReadonlySet<string>;
}

/** Ops tfjs refuses to run in its synchronous executor. */
const ASYNC_OPS = new Set([
  'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'StatelessIf', 'StatelessWhile', 'If', 'While',
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV5', 'Where',
  'HashTable', 'HashTableV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableFind', 'LookupTableFindV2',
  'LookupTableSize', 'LookupTableSizeV2',
]);

export function toTfjsArtifacts(frozen: FrozenGraph, registry: OpRegistry, context: ModelContext): TfjsArtifacts {
  const weights = new WeightWriter();
  const asyncOps = new Set<string>();
  const constName = new Map<string, string>();
  const missing = new Map<string, string[]>();

  const exportNode = (original: IrNode, where: string, rename: (ref: string) => string): JsonNode => {
    const node = adaptForTfjs(original);
    if (!TFJS_CONVERTER_OPS.has(node.op) && !isCustomOp(node.op)) {
      // Recorded, and the export goes on: the load fails at the end, naming every missing op.
      const nodes = missing.get(node.op) ?? [];
      nodes.push(`"${node.name}"${where}`);
      missing.set(node.op, nodes);
      return { name: node.name, op: node.op, input: [], attr: {} };
    }
    // Recorded under the frozen graph's op name, which is what needsAsync looks at.
    if (ASYNC_OPS.has(node.op)) asyncOps.add(original.op);
    const attr: Record<string, JsonAttr> = {};
    const withDefaults = { ...defaultAttrs(node.op, registry), ...node.attr };
    for (const [key, value] of Object.entries(withDefaults)) {
      if (key.startsWith('_') || (node.op === 'Const' && key === 'value')) continue;
      // TensorFlow does not check fed shapes against placeholders (x [-1,1] serves [3]); tfjs would.
      if (node.op.startsWith('Placeholder') && key === 'shape') continue;
      attr[key] = toJson(AttrValueSchema, value);
    }
    if (isCustomOp(node.op)) {
      attr[MODEL_ID_ATTR] = toJson(AttrValueSchema, intAttr(context.id));
      attr[NODE_INDEX_ATTR] = toJson(AttrValueSchema, intAttr(context.nodes.length));
      context.nodes.push(node);
    }
    const name = rename(formatRef(node.name, 0)).split(':')[0]!;
    if (node.op === 'Const') weights.add(name, constValue(node, frozen, where));
    return { name, op: node.op, input: node.inputs.map(rename), attr };
  };

  const topNodes = [...frozen.nodes.values()].map((n) => exportNode(n, '', (ref) => ref));
  const functions = [...frozen.functions.values()].map((fn) => {
    // Const names must be unique across the model: prefix them with the function's name.
    const renamed = new Map<string, string>();
    for (const node of fn.nodes.values()) {
      if (node.op === 'Const' && getString(node, VARIABLE_ATTR) === undefined) {
        const unique = `${fn.name}/${node.name}`;
        if (frozen.nodes.has(unique) || constName.has(unique)) throw internal(`weight name clash: ${unique}`);
        renamed.set(node.name, unique);
        constName.set(unique, fn.name);
      }
    }
    const rename = (ref: string): string => {
      const { node, index } = parseRef(ref);
      return formatRef(renamed.get(node) ?? node, index);
    };
    return exportFunction(fn, (n) => exportNode(n, ` in function ${fn.name}`, rename), rename);
  });

  if (missing.size > 0) throw new MissingOpsError(missing);
  const versions = { producer: frozen.producer, minConsumer: 0 };
  return {
    modelTopology: { node: topNodes, library: { function: functions }, versions },
    ...(frozen.tables.length > 0 ? { modelInitializer: { node: tableInitializer(frozen, weights), versions } } : {}),
    weightSpecs: weights.specs,
    weightData: weights.buffers,
    asyncOps,
  };
}

/**
 * The initializer graph: per table, a HashTableV2 node with the same name as the one the lookups
 * use (tfjs finds tables by node name) and a LookupTableImportV2 of the keys and values we read.
 */
function tableInitializer(frozen: FrozenGraph, weights: WeightWriter): JsonNode[] {
  const noInputs: string[] = [];
  const json = (value: Parameters<typeof toJson<typeof AttrValueSchema>>[1]): JsonAttr => toJson(AttrValueSchema, value);
  return frozen.tables.flatMap((init, i): JsonNode[] => {
    const tableNode = frozen.nodes.get(init.table);
    if (!tableNode) return [];
    const keysName = `tfm_tables/${i}/keys`;
    const valuesName = `tfm_tables/${i}/values`;
    for (const [name, value] of [[keysName, init.keys], [valuesName, init.values]] as const) {
      if (!fitsInt32(value)) throw unimplemented(`Table ${init.table} holds int64 values beyond the int32 range of the tfjs runtime`);
      weights.add(name, value);
    }
    return [
      { name: init.table, op: tableNode.op, input: noInputs, attr: { key_dtype: json(typeAttr(init.keyDtype)), value_dtype: json(typeAttr(init.valueDtype)) } },
      { name: keysName, op: 'Const', input: noInputs, attr: { dtype: json(typeAttr(init.keys.dtype)) } },
      { name: valuesName, op: 'Const', input: noInputs, attr: { dtype: json(typeAttr(init.values.dtype)) } },
      {
        name: `tfm_tables/${i}/import`, op: 'LookupTableImportV2', input: [init.table, keysName, valuesName],
        attr: { Tin: json(typeAttr(init.keyDtype)), Tout: json(typeAttr(init.valueDtype)) },
      },
    ];
  });
}

function fitsInt32(value: HostTensor): boolean {
  if (value.dtype !== DataType.DT_INT64) return true;
  return Array.from(value.data as BigInt64Array).every((v) => v >= -2147483648n && v <= 2147483647n);
}

/** Ops tfjs maps but cannot run for some dtypes go to our custom ops instead. */
function adaptForTfjs(node: IrNode): IrNode {
  if (node.op === 'GatherV2' && getType(node, 'Tparams') === DataType.DT_STRING) return { ...node, op: GATHER_STRINGS_OP };
  if (node.op === 'Select') return { ...node, op: SELECT_V1_OP };
  if (node.op === 'ZerosLike' && getType(node, 'T') === DataType.DT_STRING) return { ...node, op: ZEROS_LIKE_STRINGS_OP };
  if (node.op === 'Conv2D' || node.op === '_FusedConv2D') return { ...node, op: CONV2D_OP };
  if (node.op === 'TensorListSetItem') return { ...node, op: TENSOR_LIST_SET_ITEM_OP };
  // tfjs executes If and StatelessIf alike, but its control-flow detection only knows StatelessIf.
  if (node.op === 'If') return { ...node, op: 'StatelessIf' };
  return node;
}

function exportFunction(fn: IrFunction, exportNode: (n: IrNode) => JsonNode, rename: (ref: string) => string): unknown {
  const argNames = new Set(fn.inputArgs.map((a) => a.name));
  const argJson = (arg: IrFunction['inputArgs'][number]): Record<string, string> => ({ name: arg.name, type: dtypeEnumName(arg.type) });
  return {
    signature: { name: fn.name, inputArg: fn.inputArgs.map(argJson), outputArg: fn.outputArgs.map(argJson) },
    nodeDef: [...fn.nodes.values()].filter((n) => !argNames.has(n.name)).map(exportNode),
    ret: Object.fromEntries([...fn.ret].map(([out, ref]) => [out, rename(ref)])),
  };
}

function constValue(node: IrNode, frozen: FrozenGraph, where: string): HostTensor {
  const key = getString(node, VARIABLE_ATTR);
  if (key !== undefined) {
    const value = frozen.variables.get(key);
    if (!value) throw internal(`no checkpoint value loaded for variable ${key}`);
    return value;
  }
  const proto = getTensor(node, 'value');
  if (!proto) throw unimplemented(`Const node "${node.name}"${where} has no value`);
  return tensorFromProto(proto);
}

const defaultsCache = new Map<string, Record<string, IrNode['attr'][string]>>();

/** Attr defaults from the op's OpDef: SavedModels omit attrs that equal their defaults. */
function defaultAttrs(op: string, registry: OpRegistry): Record<string, IrNode['attr'][string]> {
  let defaults = defaultsCache.get(op);
  if (!defaults) {
    defaults = {};
    for (const attr of registry.lookup(op)?.attr ?? []) {
      if (attr.defaultValue) defaults[attr.name] = attr.defaultValue;
    }
    defaultsCache.set(op, defaults);
  }
  return defaults;
}

/** Accumulates weights in tfjs's encoding: LE float32/int32, bool as bytes, strings length-prefixed. */
class WeightWriter {
  readonly specs: tf.io.WeightsManifestEntry[] = [];
  readonly buffers: ArrayBuffer[] = [];

  add(name: string, value: HostTensor): void {
    const dtype = tfjsDtypeOf(value.dtype);
    this.specs.push({ name, shape: [...value.shape], dtype: dtype as tf.io.WeightsManifestEntry['dtype'] });
    this.buffers.push(encodeWeight(value, dtype));
  }
}

function encodeWeight(value: HostTensor, dtype: tf.DataType): ArrayBuffer {
  const data = value.data;
  if (dtype === 'string') {
    const strings = data as Uint8Array[];
    const out = new Uint8Array(strings.reduce((n, s) => n + 4 + s.length, 0));
    const view = new DataView(out.buffer);
    let pos = 0;
    for (const s of strings) {
      view.setUint32(pos, s.length, true);
      out.set(s, pos + 4);
      pos += 4 + s.length;
    }
    return out.buffer;
  }
  if (dtype === 'bool') return ownBuffer(data as Uint8Array);
  if (dtype === 'int32') {
    if (value.dtype === DataType.DT_INT32) return ownBuffer(data as Int32Array);
    // Graph constants: saturate 64-bit values (INT64_MAX as "until the end" and the like).
    const out = new Int32Array((data as ArrayLike<number | bigint>).length);
    const src = data as ArrayLike<number | bigint>;
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-2147483648, Math.min(2147483647, Number(src[i]!)));
    return out.buffer;
  }
  if (value.dtype === DataType.DT_FLOAT) return ownBuffer(data as Float32Array);
  if (value.dtype === DataType.DT_DOUBLE) return Float32Array.from(data as Float64Array).buffer;
  throw unimplemented(`cannot store a ${dtypeEnumName(value.dtype)} constant for tfjs`);
}

/** The array's buffer when the array spans all of it (no copy), else a copy of its bytes. */
function ownBuffer(array: Float32Array | Int32Array | Uint8Array): ArrayBuffer {
  const buffer = array.buffer as ArrayBuffer;
  if (array.byteOffset === 0 && array.byteLength === buffer.byteLength) return buffer;
  return buffer.slice(array.byteOffset, array.byteOffset + array.byteLength);
}
