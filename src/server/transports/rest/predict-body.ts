/**
 * A REST predict body -> the signature it names and its input tensors: the whole of the request's
 * JSON work, as one function of plain data so that it runs alike on the event loop (small bodies)
 * and in a JSON worker thread (big ones, json-workers.ts). The steps and their order are TF
 * Serving's: parse (ParseJson), signature_name (FillSignature), the signature's inputs
 * (GetInfoMap), then the conversion (FillPredictRequestFromJson).
 */
import { isUtf8 } from 'node:buffer';
import { DEFAULT_SIGNATURE } from '../../core/types.js';
import { type ServingError, invalidArgument, toServingError } from '../../errors.js';
import type { ServableHandle } from '../../core/types.js';
import { jsonValueError } from './json-debug.js';
import { ByteString, type JsonObject, type ParsedBody, member, parseBody } from './json-parse.js';
import { type InputKind, type PredictTensors, needsPreciseNumbers, tensorsFromJson } from './json-tensor.js';

/** What conversion needs of a version's signatures: each key's inputs (alias and dtype). */
export type SignatureInputs = ReadonlyArray<readonly [key: string, inputs: readonly InputKind[]]>;

export interface DecodedPredict {
  /** As written ('' when absent). */
  readonly signatureName: string;
  /** Absent when no signatures were given (the body was parsed and checked only), or on `error`. */
  readonly tensors?: PredictTensors;
  /**
   * Why the request failed after its signature name was read (unknown signature, a value that
   * does not convert): an error of the acquired version's (the caller reports the version).
   */
  readonly error?: ServingError;
}

/** A version's signatures, as decodePredictBody takes them (plain data, cheap to copy to a worker). */
export function signatureInputsOf(handle: ServableHandle): SignatureInputs {
  return handle.signatures.map((s) => [s.key, s.inputs.map(({ alias, dtype }) => ({ alias, dtype }))] as const);
}

/**
 * Body text for JSON: UTF-8 as a rule; a body that is not valid UTF-8 is read one character per
 * byte (latin1) and marked so, for the parser keeps such bytes in strings as TF Serving does.
 */
export function bodyText(body: Uint8Array): { text: string; latin1: boolean } {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (isUtf8(buffer)) return { text: buffer.toString('utf8'), latin1: false };
  return { text: buffer.toString('latin1'), latin1: true };
}

/**
 * Parses and converts a predict body. Throws for a body that does not parse or whose
 * signature_name is not a string; later failures come back as `error`. `signatures` undefined:
 * parse and read signature_name only (the model could not be acquired; a bad body's error still
 * comes first, as in TF Serving).
 */
export function decodePredictBody(body: Uint8Array, signatures: SignatureInputs | undefined): DecodedPredict {
  const { text, latin1 } = bodyText(body);
  const parsed = parseBody(text, false, latin1);
  const signatureName = signatureNameOf(parsed.doc);
  if (signatures === undefined) return { signatureName };
  try {
    return { signatureName, tensors: convert(text, latin1, parsed, signatures, signatureName) };
  } catch (error) {
    return { signatureName, error: toServingError(error) };
  }
}

function convert(text: string, latin1: boolean, parsed: ParsedBody, signatures: SignatureInputs, signatureName: string): PredictTensors {
  const inputs = inputsOf(signatures, signatureName || DEFAULT_SIGNATURE);
  if (!parsed.precise && needsPreciseNumbers(inputs)) parsed = parseBody(text, true, latin1);
  try {
    return tensorsFromJson(parsed.doc, inputs, signatureName, text.length);
  } catch (error) {
    if (parsed.precise) throw error;
    // JSON.parse forgot how numbers were written: redo with the precise parser so that the error
    // quotes the request as TF Serving would.
    return tensorsFromJson(parseBody(text, true, latin1).doc, inputs, signatureName, text.length);
  }
}

/** The optional "signature_name" (FillSignature); '' when absent. */
export function signatureNameOf(doc: JsonObject): string {
  const name = member(doc, 'signature_name');
  if (name === undefined) return '';
  if (name instanceof ByteString) return name.text;
  if (typeof name !== 'string') {
    throw jsonValueError(doc, "not formatted correctly. 'signature_name' key must be a string value.");
  }
  return name;
}

/** The inputs of the signature a predict request names (TF Serving's GetInfoMap). */
function inputsOf(signatures: SignatureInputs, key: string): readonly InputKind[] {
  const found = signatures.find(([name]) => name === key);
  if (!found) throw invalidArgument(`Serving signature name: "${key}" not found in signature def`);
  return found[1];
}
