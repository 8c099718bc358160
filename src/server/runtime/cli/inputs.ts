/**
 * Turns --inputs, --input_exprs and --input_examples into the feed dict, with saved_model_cli's
 * parsing rules, precedence (examples over expressions over files) and messages.
 */
import { readFile } from 'node:fs/promises';
import { usageError } from './cli-errors.js';
import { serializeExamples } from './examples.js';
import { ConversionError, type NdArray } from './ndarray.js';
import { NpyFormatError, loadNumpy } from './npy.js';
import { LiteralSyntaxError, type PyValue, parsePythonLiteral } from './python-literal.js';
import { ZipFormatError } from './zip.js';

/** A value to feed: a parsed literal or an array loaded from a file. */
export type FeedValue = PyValue | NdArray;

export interface InputFlags {
  readonly inputs: string;
  readonly inputExprs: string;
  readonly inputExamples: string;
}

/** preprocess_inputs_arg_string: key -> [file, variable name]. */
export function parseInputsFlag(text: string): Map<string, { file: string; variable?: string }> {
  const result = new Map<string, { file: string; variable?: string }>();
  for (const raw of text.split(';').filter((s) => s.length > 0)) {
    const withVariable = /^([^=]+)=([^[\]]+)\[([^[\]]+)\]$/.exec(raw);
    if (withVariable) {
      result.set(withVariable[1]!, { file: withVariable[2]!, variable: withVariable[3]! });
      continue;
    }
    const plain = /^([^=]+)=([^[\]]+)$/.exec(raw);
    if (!plain) {
      throw usageError(
        `--inputs "${raw}" format is incorrect. Please follow"<input_key>=<filename>", or"<input_key>=<filename>[<variable_name>]"`,
        'RuntimeError',
      );
    }
    result.set(plain[1]!, { file: plain[2]! });
  }
  return result;
}

/** preprocess_input_exprs_arg_string: key -> parsed literal. */
export function parseExprsFlag(text: string, flag = '--input_exprs'): Map<string, PyValue> {
  const result = new Map<string, PyValue>();
  for (const raw of text.split(';').filter((s) => s.length > 0)) {
    if (!text.includes('=')) {
      throw usageError(`${flag} "${text}" format is incorrect. Please follow"<input_key>=<python expression>"`, 'RuntimeError');
    }
    const eq = raw.indexOf('=');
    if (eq < 0) throw usageError('not enough values to unpack (expected 2, got 1)', 'ValueError');
    const key = raw.slice(0, eq);
    const expr = raw.slice(eq + 1);
    try {
      result.set(key, parsePythonLiteral(expr));
    } catch (error) {
      if (error instanceof LiteralSyntaxError || error instanceof ConversionError) {
        throw usageError(`Expression "${expr}" is not a valid python literal. (${error.message})`, 'RuntimeError');
      }
      throw error;
    }
  }
  return result;
}

async function loadInputFile(key: string, file: string, variable: string | undefined, warn: (line: string) => void): Promise<NdArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(`${file}; ${code === 'ENOENT' ? 'No such file or directory' : (error as Error).message}`, 'NotFoundError');
  }
  let loaded;
  try {
    loaded = loadNumpy(bytes);
  } catch (error) {
    if (error instanceof NpyFormatError || error instanceof ZipFormatError) {
      throw usageError(`Input file ${file} for input key ${key} could not be loaded: ${error.message}`, 'ValueError');
    }
    throw error;
  }
  if (loaded.kind === 'npy') {
    if (variable) warn(`WARNING: Input file ${file} contains a single ndarray. Name key "${variable}" ignored.`);
    return loaded.array;
  }
  if (variable) {
    const array = loaded.get(variable);
    if (!array) throw usageError(`Input file ${file} does not contain variable with name "${variable}".`, 'RuntimeError');
    return array;
  }
  if (loaded.files.length !== 1) {
    throw usageError(`Input file ${file} contains more than one ndarrays. Please specify the name of ndarray to use.`, 'RuntimeError');
  }
  return loaded.get(loaded.files[0]!)!;
}

/** load_inputs_from_input_arg_string: the feed dict, keyed by input alias, in insertion order. */
export async function loadFeedDict(flags: InputFlags, warn: (line: string) => void): Promise<Map<string, FeedValue>> {
  const files = parseInputsFlag(flags.inputs);
  const exprs = parseExprsFlag(flags.inputExprs);
  const examples = new Map<string, PyValue>();
  for (const [key, value] of parseExprsFlag(flags.inputExamples, '--input_exprs')) {
    const serialized = serializeExamples(value);
    examples.set(key, { kind: 'list', items: serialized.map((bytes) => ({ kind: 'bytes', value: bytes })) });
  }
  const feed = new Map<string, FeedValue>();
  for (const [key, { file, variable }] of files) feed.set(key, await loadInputFile(key, file, variable, warn));
  for (const [key, value] of exprs) {
    if (feed.has(key)) {
      warn(`WARNING: input_key ${key} has been specified with both --inputs and --input_exprs options. Value in --input_exprs will be used.`);
    }
    feed.set(key, value);
  }
  for (const [key, value] of examples) {
    if (feed.has(key)) warn(`WARNING: input_key ${key} has been specified in multiple options. Value in --input_examples will be used.`);
    feed.set(key, value);
  }
  return feed;
}
