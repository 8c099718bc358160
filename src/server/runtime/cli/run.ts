/**
 * `saved-model-cli run`: feeds inputs to one signature and prints every output the way
 * TensorFlow's saved_model_cli does ("Result for output key <key>:" and numpy's str of the
 * array), optionally saving each as <outdir>/<key>.npy.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TensorInfo } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { RuntimeSelection } from '../backend.js';
import type { ModelEngine } from '../engine.js';
import { DataType } from '../tensor/dtypes.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { runtimeError, usageError } from './cli-errors.js';
import { type FeedValue, loadFeedDict } from './inputs.js';
import { ConversionError, fromHostTensor, toFeedTensor } from './ndarray.js';
import { encodeNpy } from './npy.js';
import { formatNumpyStr } from './numpy-format.js';
import { pySorted } from './python-repr.js';
import { metaGraphForTags, readSavedModelForCli, requireSignature, sanitizeTagSet } from './show.js';

export interface RunOptions {
  readonly dir: string;
  readonly tagSet: string;
  readonly signatureDef: string;
  readonly inputs: string;
  readonly inputExprs: string;
  readonly inputExamples: string;
  readonly outdir?: string;
  readonly overwrite: boolean;
  readonly tfDebug: boolean;
  readonly runtime: RuntimeSelection;
}

export interface RunIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Loads the engine lazily so that `show` never initialises TensorFlow.js. */
async function loadEngine(dir: string, tags: readonly string[], runtime: RuntimeSelection): Promise<ModelEngine> {
  const { loadSavedModel } = await import('../index.js');
  return loadSavedModel(dir, { tags, runtime, threads: 0 });
}

/** numpy's str of a shape tuple: (), (3,), (2, 1). */
function numpyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** TensorShape's str: <unknown>, (None, 1), (3,). */
function tensorShapeText(info: TensorInfo): string {
  const proto = info.tensorShape;
  if (proto?.unknownRank) return '<unknown>';
  const dims = (proto?.dim ?? []).map((d) => (d.size < 0n ? 'None' : d.size.toString()));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

function shapeCompatible(info: TensorInfo, shape: readonly number[]): boolean {
  const proto = info.tensorShape;
  if (!proto || proto.unknownRank) return true;
  if (proto.dim.length !== shape.length) return false;
  return proto.dim.every((d, i) => d.size < 0n || Number(d.size) === shape[i]);
}

/** numpy's class for a TensorFlow dtype, as str(type) prints it. */
function numpyClass(dtype: DataType): string {
  const names: Partial<Record<DataType, string>> = {
    [DataType.DT_FLOAT]: 'numpy.float32', [DataType.DT_DOUBLE]: 'numpy.float64', [DataType.DT_HALF]: 'numpy.float16',
    [DataType.DT_INT8]: 'numpy.int8', [DataType.DT_INT16]: 'numpy.int16', [DataType.DT_INT32]: 'numpy.int32',
    [DataType.DT_INT64]: 'numpy.int64', [DataType.DT_UINT8]: 'numpy.uint8', [DataType.DT_UINT16]: 'numpy.uint16',
    [DataType.DT_UINT32]: 'numpy.uint32', [DataType.DT_UINT64]: 'numpy.uint64', [DataType.DT_BOOL]: 'numpy.bool',
    [DataType.DT_STRING]: 'object',
  };
  return `<class '${names[dtype] ?? 'object'}'>`;
}

/** Session.run refuses a Python int scalar that does not survive conversion to the tensor's type. */
function checkIntScalar(value: FeedValue, tensor: HostTensor): void {
  if (!('kind' in value) || value.kind !== 'int') return;
  const converted = tensor.data[0];
  let same: boolean;
  if (typeof converted === 'bigint') same = converted === value.value;
  else if (typeof converted === 'number' && tensor.dtype !== DataType.DT_BOOL) {
    same = Number.isInteger(converted) && BigInt(converted) === value.value;
  } else if (tensor.dtype === DataType.DT_BOOL) same = value.value === BigInt(converted as number);
  else same = false;
  if (!same) {
    throw usageError(
      `Type of feed value ${value.value} with type <class 'int'> is not compatible with Tensor type ${numpyClass(tensor.dtype)}. ` +
        'Try explicitly setting the type of the feed tensor to a larger type (e.g. int64).',
      'TypeError',
    );
  }
}

/** The feed converted to each input's dtype and checked against its shape, as Session.run does. */
function prepareFeeds(feed: ReadonlyMap<string, FeedValue>, inputs: Readonly<Record<string, TensorInfo>>): Map<string, HostTensor> {
  const tensors = new Map<string, HostTensor>();
  for (const [key, value] of feed) {
    const info = inputs[key]!;
    const name = info.encoding.case === 'name' ? info.encoding.value : key;
    let tensor: HostTensor;
    try {
      tensor = toFeedTensor(value, info.dtype);
    } catch (error) {
      if (error instanceof ConversionError) throw usageError(`input ${key}: ${error.message}`, 'ValueError');
      throw error;
    }
    checkIntScalar(value, tensor);
    if (!shapeCompatible(info, tensor.shape)) {
      throw usageError(
        `Cannot feed value of shape ${numpyShape(tensor.shape)} for Tensor ${name}, which has shape ${tensorShapeText(info)}`,
        'ValueError',
      );
    }
    tensors.set(key, tensor);
  }
  return tensors;
}

async function saveOutput(outdir: string, key: string, tensor: HostTensor, overwrite: boolean, io: RunIo): Promise<void> {
  await mkdir(outdir, { recursive: true });
  const path = join(outdir, `${key}.npy`);
  if (!overwrite && existsSync(path)) {
    throw runtimeError(`Output file ${path} already exists. Add "--overwrite" to overwrite the existing output files.`, 'RuntimeError');
  }
  await writeFile(path, encodeNpy(fromHostTensor(tensor)));
  io.stdout(`Output ${key} is saved to ${path}\n`);
}

export async function runCommand(options: RunOptions, io: RunIo): Promise<void> {
  if (!options.inputs && !options.inputExprs && !options.inputExamples) {
    throw usageError('At least one of --inputs, --input_exprs or --input_examples must be required', 'AttributeError');
  }
  if (options.tfDebug) io.stderr('WARNING: --tf_debug is not supported by this implementation; ignored.\n');
  const feed = await loadFeedDict(options, (line) => io.stderr(`${line}\n`));
  const tags = sanitizeTagSet(options.tagSet);
  const savedModel = await readSavedModelForCli(options.dir);
  const metaGraph = metaGraphForTags(savedModel, tags.join(','));
  requireSignature(metaGraph, options.signatureDef);
  const signature = metaGraph.signatureDef[options.signatureDef]!;
  for (const key of feed.keys()) {
    if (!(key in signature.inputs)) {
      const choices = `"${Object.keys(signature.inputs).join('", "')}"`;
      throw usageError(`"${key}" is not a valid input key. Please choose from ${choices}, or use --show option.`, 'ValueError');
    }
  }
  const inputs = prepareFeeds(feed, signature.inputs);
  const engine = await loadEngine(options.dir, tags, options.runtime);
  try {
    const outputs = await engine.run({ signature: options.signatureDef, inputs });
    for (const key of pySorted(outputs.keys())) {
      const tensor = outputs.get(key)!;
      io.stdout(`Result for output key ${key}:\n${formatNumpyStr(tensor)}\n`);
      if (options.outdir) await saveOutput(options.outdir, key, tensor, options.overwrite, io);
    }
  } finally {
    await engine.dispose();
  }
}
