/**
 * `saved-model-cli show`: tag-sets, signature keys, one signature's inputs and outputs, the ops of
 * a meta graph, or everything (--all), printed exactly as TensorFlow's saved_model_cli prints
 * them. Python sets (the op lists) are printed in the order CPython gives with PYTHONHASHSEED=0.
 */
import type { FunctionDef } from '../../../gen/tensorflow/core/framework/function_pb.js';
import type { GraphDef } from '../../../gen/tensorflow/core/framework/graph_pb.js';
import type { NodeDef } from '../../../gen/tensorflow/core/framework/node_def_pb.js';
import type { MetaGraphDef, TensorInfo } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { SavedModel } from '../../../gen/tensorflow/core/protobuf/saved_model_pb.js';
import { Code, ServingError } from '../../errors.js';
import { readSavedModelProto } from '../savedmodel/read-saved-model.js';
import { dtypeEnumName } from '../tensor/dtypes.js';
import { runtimeError, usageError } from './cli-errors.js';
import { concreteFunctionsSection } from './concrete-functions.js';
import { PySet } from './python-set.js';
import { comparePyStrList, pySorted, pyStrListRepr, pyStrRepr } from './python-repr.js';

export interface ShowOptions {
  readonly dir: string;
  readonly tagSet?: string;
  readonly signatureDef?: string;
  readonly all: boolean;
  readonly listOps: boolean;
}

/** Reads the SavedModel proto, with TensorFlow's message when there is none. */
export async function readSavedModelForCli(dir: string): Promise<SavedModel> {
  try {
    return await readSavedModelProto(dir);
  } catch (error) {
    if (error instanceof ServingError && error.code === Code.NOT_FOUND) {
      throw runtimeError(`SavedModel file does not exist at: ${dir}`, 'OSError');
    }
    if (error instanceof ServingError) throw runtimeError(error.message, 'OSError');
    throw error;
  }
}

/** saved_model_cli's _sanitize_nonempty_str_list for --tag_set. */
export function sanitizeTagSet(tagSet: string): string[] {
  const tags = tagSet.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (tags.length === 0) throw usageError('tag_set must contain at least one non-empty item.', 'ValueError');
  return tags;
}

/**
 * saved_model_utils.get_meta_graph_def: the meta graph whose tags equal the set given (empty
 * items dropped). saved_model_cli sanitizes the --tag_set text first (strips items, requires one)
 * on every path but the signature-key listing, which passes it on as typed.
 */
export function metaGraphForTags(savedModel: SavedModel, tagSet: string, sanitize = true): MetaGraphDef {
  const text = sanitize ? sanitizeTagSet(tagSet).join(',') : tagSet;
  const wanted = new Set(text.split(',').filter((t) => t.length > 0));
  const valid: string[] = [];
  for (const mg of savedModel.metaGraphs) {
    const tags = mg.metaInfoDef?.tags ?? [];
    const have = new Set(tags);
    if (have.size === wanted.size && [...wanted].every((t) => have.has(t))) return mg;
    valid.push(new PySet(tags).values().join(','));
  }
  throw usageError(
    `MetaGraphDef associated with tag-set ${text} could not be found in the SavedModel. ` +
      `Please use one of the following tag-sets: ${pyStrListRepr(valid)}`,
    'RuntimeError',
  );
}

/** The signature, or TensorFlow's error naming the keys there are. */
export function requireSignature(metaGraph: MetaGraphDef, key: string): void {
  if (!(key in metaGraph.signatureDef)) {
    throw usageError(
      `Could not find signature "${key}". Please choose from: ${Object.keys(metaGraph.signatureDef).join(', ')}`,
      'ValueError',
    );
  }
}

function tagSetsText(savedModel: SavedModel): string[] {
  const tagSets = savedModel.metaGraphs.map((mg) => [...(mg.metaInfoDef?.tags ?? [])]).sort(comparePyStrList);
  return [
    'The given SavedModel contains the following tag-sets:',
    ...tagSets.map((tags) => pyStrRepr(pySorted(tags).join(', '))),
  ];
}

function signatureKeysText(metaGraph: MetaGraphDef): string[] {
  return [
    'The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:',
    ...pySorted(Object.keys(metaGraph.signatureDef)).map((key) => `SignatureDef key: "${key}"`),
  ];
}

function tensorInfoText(info: TensorInfo, indent: string): string[] {
  const shapeProto = info.tensorShape;
  const shape = shapeProto?.unknownRank ? 'unknown_rank' : `(${(shapeProto?.dim ?? []).map((d) => d.size.toString()).join(', ')})`;
  const name = info.encoding.case === 'name' ? info.encoding.value : '';
  return [`${indent}    dtype: ${dtypeEnumName(info.dtype)}`, `${indent}    shape: ${shape}`, `${indent}    name: ${name}`];
}

function inputsOutputsText(metaGraph: MetaGraphDef, key: string, level: number): string[] {
  requireSignature(metaGraph, key);
  const signature = metaGraph.signatureDef[key]!;
  const indent = '  '.repeat(level);
  const lines = [`${indent}The given SavedModel SignatureDef contains the following input(s):`];
  for (const alias of pySorted(Object.keys(signature.inputs))) {
    lines.push(`${indent}  inputs['${alias}'] tensor_info:`, ...tensorInfoText(signature.inputs[alias]!, '  '.repeat(level + 1)));
  }
  lines.push(`${indent}The given SavedModel SignatureDef contains the following output(s):`);
  for (const alias of pySorted(Object.keys(signature.outputs))) {
    lines.push(`${indent}  outputs['${alias}'] tensor_info:`, ...tensorInfoText(signature.outputs[alias]!, '  '.repeat(level + 1)));
  }
  lines.push(`${indent}Method name is: ${signature.methodName}`);
  return lines;
}

/** meta_graph.ops_used_by_graph_def, including its two passes through Python sets. */
export function opsUsedByGraphDef(graphDef: GraphDef | undefined): PySet {
  const functions = new Map((graphDef?.library?.function ?? []).map((f) => [f.signature?.name ?? '', f] as const));
  const used = new PySet();
  const toProcess: FunctionDef[] = [];
  const mark = (op: string): void => {
    if (!used.has(op) && functions.has(op)) toProcess.push(functions.get(op)!);
    used.add(op);
  };
  const processNode = (node: NodeDef): void => {
    mark(node.op);
    if (node.op === 'PartitionedCall' || node.op === 'StatefulPartitionedCall') {
      const f = node.attr['f']?.value;
      mark(f?.case === 'func' ? f.value.name : '');
    }
  };
  for (const node of graphDef?.node ?? []) processNode(node);
  while (toProcess.length > 0) {
    for (const node of toProcess.pop()!.nodeDef) processNode(node);
  }
  return new PySet(used.values().filter((op) => !functions.has(op)));
}

function opsText(metaGraph: MetaGraphDef): string {
  const tags = pyStrListRepr(metaGraph.metaInfoDef?.tags ?? []);
  return `The MetaGraph with tag set ${tags} contains the following ops: ${opsUsedByGraphDef(metaGraph.graphDef).repr()}`;
}

function allText(savedModel: SavedModel): string {
  const metaGraphs = [...savedModel.metaGraphs].sort((a, b) => comparePyStrList(a.metaInfoDef?.tags ?? [], b.metaInfoDef?.tags ?? []));
  const lines: string[] = [];
  for (const mg of metaGraphs) {
    const tags = mg.metaInfoDef?.tags ?? [];
    lines.push(`\nMetaGraphDef with tag-set: '${tags.join(', ')}' contains the following SignatureDefs:`);
    for (const key of pySorted(Object.keys(mg.signatureDef))) {
      lines.push(`\nsignature_def['${key}']:`, ...inputsOutputsText(mg, key, 1));
    }
    lines.push(opsText(mg));
  }
  return lines.map((l) => `${l}\n`).join('') + (concreteFunctionsSection(savedModel) ?? '');
}

/** Everything `show` prints for these options. */
export async function showText(options: ShowOptions): Promise<string> {
  const savedModel = await readSavedModelForCli(options.dir);
  if (options.all) return allText(savedModel);
  const lines: string[] = [];
  if (options.tagSet === undefined) {
    if (options.listOps) lines.push('--list_ops must be paired with a tag-set or with --all.');
    lines.push(...tagSetsText(savedModel));
  } else {
    if (options.listOps) lines.push(opsText(metaGraphForTags(savedModel, options.tagSet)));
    if (options.signatureDef === undefined) lines.push(...signatureKeysText(metaGraphForTags(savedModel, options.tagSet, false)));
    else lines.push(...inputsOutputsText(metaGraphForTags(savedModel, options.tagSet), options.signatureDef, 0));
  }
  return lines.map((l) => `${l}\n`).join('');
}
