/**
 * The "Concrete Functions" section of `show --all`. TensorFlow loads the model and lists the
 * root object's tf.functions with their structured input signatures; we read the same facts from
 * the SavedObjectGraph proto (root children of kind function / bare concrete function and each
 * concrete function's canonicalized_input_signature) and print them as Python would.
 */
import type { SavedModel } from '../../../gen/tensorflow/core/protobuf/saved_model_pb.js';
import type { SavedObjectGraph } from '../../../gen/tensorflow/core/protobuf/saved_object_graph_pb.js';
import { type StructuredValue, TypeSpecProto_TypeSpecClass } from '../../../gen/tensorflow/core/protobuf/struct_pb.js';
import type { TensorShapeProto } from '../../../gen/tensorflow/core/framework/tensor_shape_pb.js';
import { numpyName } from '../tensor/dtypes.js';
import type { DataType } from '../tensor/dtypes.js';
import { pythonFloatRepr } from './dragon4.js';
import { comparePyStr, pyStrRepr } from './python-repr.js';

/** A decoded StructuredValue: the Python objects nested_structure_coder builds. */
type PyObject =
  | { readonly t: 'None' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'int'; readonly v: bigint }
  | { readonly t: 'float'; readonly v: number }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'list' | 'tuple'; readonly items: readonly PyObject[] }
  | { readonly t: 'dict'; readonly entries: ReadonlyArray<readonly [string, PyObject]> }
  | { readonly t: 'namedtuple'; readonly name: string; readonly fields: ReadonlyArray<readonly [string, PyObject]> }
  | { readonly t: 'TensorShape'; readonly dims: ReadonlyArray<number | null> | null }
  | { readonly t: 'DType'; readonly name: string }
  | { readonly t: 'TensorSpec'; readonly cls: string; readonly shape: PyObject; readonly dtype: string; readonly name: string | null }
  | { readonly t: 'TypeSpec'; readonly cls: string; readonly state: PyObject }
  | { readonly t: 'opaque'; readonly cls: string; readonly text: string };

const TYPE_SPEC_CLASS_NAMES: Partial<Record<TypeSpecProto_TypeSpecClass, string>> = {
  [TypeSpecProto_TypeSpecClass.SPARSE_TENSOR_SPEC]: 'SparseTensorSpec',
  [TypeSpecProto_TypeSpecClass.INDEXED_SLICES_SPEC]: 'IndexedSlicesSpec',
  [TypeSpecProto_TypeSpecClass.RAGGED_TENSOR_SPEC]: 'RaggedTensorSpec',
  [TypeSpecProto_TypeSpecClass.TENSOR_ARRAY_SPEC]: 'TensorArraySpec',
  [TypeSpecProto_TypeSpecClass.DATA_DATASET_SPEC]: 'DatasetSpec',
  [TypeSpecProto_TypeSpecClass.DATA_ITERATOR_SPEC]: 'IteratorSpec',
  [TypeSpecProto_TypeSpecClass.OPTIONAL_SPEC]: 'OptionalSpec',
  [TypeSpecProto_TypeSpecClass.PER_REPLICA_SPEC]: 'PerReplicaSpec',
  [TypeSpecProto_TypeSpecClass.VARIABLE_SPEC]: 'VariableSpec',
  [TypeSpecProto_TypeSpecClass.ROW_PARTITION_SPEC]: 'RowPartitionSpec',
};

const NONE: PyObject = { t: 'None' };

function shapeOf(proto: TensorShapeProto | undefined): PyObject {
  if (proto?.unknownRank) return { t: 'TensorShape', dims: null };
  return { t: 'TensorShape', dims: (proto?.dim ?? []).map((d) => (d.size < 0n ? null : Number(d.size))) };
}

function dtypeName(dtype: DataType): string {
  return numpyName(dtype);
}

function decode(value: StructuredValue | undefined): PyObject {
  const kind = value?.kind;
  if (!kind || kind.case === undefined) return NONE;
  switch (kind.case) {
    case 'noneValue': return NONE;
    case 'float64Value': return { t: 'float', v: kind.value };
    case 'int64Value': return { t: 'int', v: kind.value };
    case 'stringValue': return { t: 'str', v: kind.value };
    case 'boolValue': return { t: 'bool', v: kind.value };
    case 'tensorShapeValue': return shapeOf(kind.value);
    case 'tensorDtypeValue': return { t: 'DType', name: dtypeName(kind.value) };
    case 'tensorSpecValue':
      return { t: 'TensorSpec', cls: 'TensorSpec', shape: shapeOf(kind.value.shape), dtype: dtypeName(kind.value.dtype), name: kind.value.name || null };
    case 'boundedTensorSpecValue':
      return { t: 'TensorSpec', cls: 'BoundedTensorSpec', shape: shapeOf(kind.value.shape), dtype: dtypeName(kind.value.dtype), name: kind.value.name || null };
    case 'typeSpecValue': {
      const cls = kind.value.typeSpecClassName || TYPE_SPEC_CLASS_NAMES[kind.value.typeSpecClass] || 'TypeSpec';
      return { t: 'TypeSpec', cls, state: decode(kind.value.typeState) };
    }
    case 'listValue': return { t: 'list', items: kind.value.values.map(decode) };
    case 'tupleValue': return { t: 'tuple', items: kind.value.values.map(decode) };
    case 'dictValue': return { t: 'dict', entries: Object.entries(kind.value.fields).map(([k, v]) => [k, decode(v)] as const) };
    case 'namedTupleValue':
      return { t: 'namedtuple', name: kind.value.name, fields: kind.value.values.map((p) => [p.key, decode(p.value)] as const) };
    case 'tensorValue': return { t: 'opaque', cls: 'EagerTensor', text: '<tf.Tensor>' };
    default: return NONE;
  }
}

function typeName(o: PyObject): string {
  switch (o.t) {
    case 'None': return 'NoneType';
    case 'namedtuple': return o.name;
    case 'TensorSpec':
    case 'TypeSpec':
    case 'opaque': return o.cls;
    default: return o.t;
  }
}

function shapeStr(o: Extract<PyObject, { t: 'TensorShape' }>): string {
  if (o.dims === null) return '<unknown>';
  const dims = o.dims.map((d) => (d === null ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

function repr(o: PyObject): string {
  switch (o.t) {
    case 'None': return 'None';
    case 'bool': return o.v ? 'True' : 'False';
    case 'int': return o.v.toString();
    case 'float': return pythonFloatRepr(o.v);
    case 'str': return pyStrRepr(o.v);
    case 'list': return `[${o.items.map(repr).join(', ')}]`;
    case 'tuple': return o.items.length === 1 ? `(${repr(o.items[0]!)},)` : `(${o.items.map(repr).join(', ')})`;
    case 'dict': return `{${o.entries.map(([k, v]) => `${pyStrRepr(k)}: ${repr(v)}`).join(', ')}}`;
    case 'namedtuple': return `${o.name}(${o.fields.map(([k, v]) => `${k}=${repr(v)}`).join(', ')})`;
    case 'TensorShape': return o.dims === null ? 'TensorShape(None)' : `TensorShape([${o.dims.map((d) => (d === null ? 'None' : d)).join(', ')}])`;
    case 'DType': return `tf.${o.name}`;
    case 'TensorSpec': return `${o.cls}(shape=${str(o.shape)}, dtype=tf.${o.dtype}, name=${o.name === null ? 'None' : pyStrRepr(o.name)})`;
    case 'TypeSpec': return `${o.cls}${repr(o.state)}`;
    case 'opaque': return o.text;
  }
}

function str(o: PyObject): string {
  switch (o.t) {
    case 'str': return o.v;
    case 'TensorShape': return shapeStr(o);
    case 'DType': return `<dtype: ${pyStrRepr(o.name)}>`;
    default: return repr(o);
  }
}

/** The elements `for value in element` yields, for the iterable kinds. */
function iterate(o: PyObject): PyObject[] | undefined {
  switch (o.t) {
    case 'list':
    case 'tuple': return [...o.items];
    case 'namedtuple': return o.fields.map(([, v]) => v);
    case 'TensorShape': return o.dims === null ? undefined : o.dims.map((d): PyObject => (d === null ? NONE : { t: 'int', v: BigInt(d) }));
    default: return undefined;
  }
}

function maybeQuoted(o: PyObject): string {
  return o.t === 'str' ? `'${o.v}'` : str(o);
}

/** saved_model_cli's _print_args with indent 4. */
function printArgs(lines: string[], args: readonly PyObject[], argumentType: string): void {
  const indent = '        ';
  args.forEach((element, i) => {
    lines.push(`${indent}${argumentType} #${i + 1}`);
    if (element.t === 'str') {
      lines.push(`${indent}  ${element.v}`);
    } else if (element.t === 'TensorSpec') {
      lines.push(`          ${element.name === null ? 'None' : element.name}: ${repr(element)}`);
    } else if (element.t === 'dict') {
      lines.push(`${indent}  DType: dict`);
      lines.push(`${indent}  Value: {${element.entries.map(([k, v]) => `'${k}': ${maybeQuoted(v)}, `).join('')}\b\b}`);
    } else {
      const items = iterate(element);
      lines.push(`${indent}  DType: ${typeName(element)}`);
      if (items) lines.push(`${indent}  Value: [${items.map((v) => `${maybeQuoted(v)}, `).join('')}\b\b]`);
      else lines.push(`${indent}  Value: ${str(element)}`);
    }
  });
}

/** Python truthiness of a decoded value. */
function truthy(o: PyObject | undefined): boolean {
  if (!o) return false;
  switch (o.t) {
    case 'None': return false;
    case 'bool': return o.v;
    case 'int': return o.v !== 0n;
    case 'float': return o.v !== 0;
    case 'str': return o.v.length > 0;
    case 'list':
    case 'tuple': return o.items.length > 0;
    case 'dict': return o.entries.length > 0;
    case 'namedtuple': return o.fields.length > 0;
    default: return true;
  }
}

/** "__inference_predict_123" -> "predict", the name TensorFlow gives a function when loading it. */
function cleanFunctionName(name: string): string {
  return /^__inference_(.*)_\d+$/.exec(name)?.[1] ?? name;
}

function concreteFunctionLines(graph: SavedObjectGraph, name: string, index: number, argumentKeywords: readonly string[]): string[] {
  const lines: string[] = [];
  const signature = decode(graph.concreteFunctions[name]?.canonicalizedInputSignature);
  let args: PyObject[] | undefined;
  let kwargs: PyObject | undefined;
  if (truthy(signature) && signature.t === 'tuple' && signature.items.length === 2) {
    args = iterate(signature.items[0]!);
    kwargs = signature.items[1];
  } else if (argumentKeywords.length > 0) {
    args = argumentKeywords.map((k): PyObject => ({ t: 'str', v: k }));
  }
  if (args && args.length > 0) {
    lines.push(`    Option #${index}`, '      Callable with:');
    printArgs(lines, args, 'Argument');
  }
  if (kwargs && truthy(kwargs)) {
    const keys = kwargs.t === 'dict' ? kwargs.entries.map(([k]): PyObject => ({ t: 'str', v: k })) : iterate(kwargs) ?? [];
    printArgs(lines, keys, 'Named Argument');
  }
  return lines;
}

/**
 * The section's text, starting with "\nConcrete Functions:" and with no final newline of its own
 * (TensorFlow prints the header with end=''); undefined when no meta graph has an object graph.
 */
export function concreteFunctionsSection(savedModel: SavedModel): string | undefined {
  const withGraph = savedModel.metaGraphs.filter((mg) => mg.objectGraphDef !== undefined);
  if (withGraph.length === 0) return undefined;
  const header = '\nConcrete Functions:';
  if (savedModel.metaGraphs.length !== 1) return `${header} N/A (could not be listed due to unknown reasons)\n`;
  const graph = withGraph[0]!.objectGraphDef!;
  const root = graph.nodes[0];
  if (!root) return header;
  const children = root.children
    .map((ref) => ({ name: ref.localName, node: graph.nodes[ref.nodeId] }))
    .filter((c) => c.node?.kind.case === 'function' || c.node?.kind.case === 'bareConcreteFunction')
    .sort((a, b) => comparePyStr(a.name, b.name));
  let text = header;
  for (const child of children) {
    const lines = [`\n  Function Name: '${child.name}'`];
    const kind = child.node!.kind;
    if (kind.case === 'function') {
      const names = kind.value.concreteFunctions
        .map((name, order) => ({ name, order }))
        .sort((a, b) => comparePyStr(cleanFunctionName(a.name), cleanFunctionName(b.name)) || a.order - b.order);
      names.forEach(({ name }, i) => lines.push(...concreteFunctionLines(graph, name, i + 1, [])));
    } else if (kind.case === 'bareConcreteFunction') {
      lines.push(...concreteFunctionLines(graph, kind.value.concreteFunctionName, 1, kind.value.argumentKeywords));
    }
    text += `${lines.join('\n')}\n`;
  }
  return text;
}
