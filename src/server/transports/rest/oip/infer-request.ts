/**
 * A REST inference request: the JSON body, or with the binary tensor data extension a JSON header
 * of Inference-Header-Content-Length bytes followed by the binary inputs (each input with a
 * `binary_data_size` parameter takes that many bytes, in input order). Also says which outputs
 * the client wants as binary (`binary_data` per output, `binary_data_output` for all).
 */
import { invalidArgument, unimplemented } from '../../../errors.js';
import { type InferRequest, SIGNATURE_NAME_PARAMETER, addInput } from '../../../api/oip/infer.js';
import { dtypeOfDatatype } from '../../../api/oip/datatypes.js';
import { tensorFromRaw } from '../../../api/oip/raw-tensor.js';
import type { HostTensor } from '../../../runtime/tensor/host-tensor.js';
import { type JsonObject, type JsonValue, isJsonObject, member, parseBody } from '../json-parse.js';
import { tensorFromJsonData } from './json-tensor-data.js';
import { debugString } from '../json-debug.js';

export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

export interface RestInferRequest {
  readonly request: InferRequest;
  readonly id: string | undefined;
  /** Outputs to send as binary: by name, or every output when `allBinary`. */
  readonly binaryOutputs: ReadonlySet<string>;
  readonly allBinary: boolean;
}

export function parseInferRequest(modelName: string, modelVersion: string, body: Buffer, headerLength: string | undefined): RestInferRequest {
  let jsonBytes = body;
  let binary: Buffer | undefined;
  if (headerLength !== undefined) {
    const length = Number(headerLength);
    if (!Number.isInteger(length) || length < 0 || length > body.length) {
      throw invalidArgument(`Inference-Header-Content-Length ${headerLength} does not fit a body of ${body.length} bytes`);
    }
    jsonBytes = body.subarray(0, length);
    binary = body.subarray(length);
  }
  const text = jsonBytes.toString('utf8');
  const { doc } = parseBody(text, /"U?INT64"/.test(text));
  const parameters = objectMember(doc, 'parameters', 'request');
  const signatureName = stringParameter(parameters, SIGNATURE_NAME_PARAMETER) ?? '';
  const allBinary = booleanParameter(parameters, 'binary_data_output') ?? false;

  const inputsJson = member(doc, 'inputs');
  if (!Array.isArray(inputsJson)) throw invalidArgument("inference request must have an 'inputs' array");
  const inputs = new Map<string, HostTensor>();
  let offset = 0;
  for (const input of inputsJson) {
    if (!isJsonObject(input)) throw invalidArgument("each element of 'inputs' must be an object");
    const name = requiredString(input, 'name', 'input');
    const datatype = requiredString(input, 'datatype', `input '${name}'`);
    const shape = shapeOf(input, name);
    const dtype = dtypeOfDatatype(datatype, name);
    const binarySize = numberParameter(objectMember(input, 'parameters', `input '${name}'`), 'binary_data_size');
    let tensor: HostTensor;
    if (binarySize !== undefined) {
      if (!binary || offset + binarySize > binary.length) {
        throw invalidArgument(`input '${name}' has binary_data_size ${binarySize}, but the request has only ${(binary?.length ?? 0) - offset} binary bytes left`);
      }
      tensor = tensorFromRaw(name, dtype, shape, binary.subarray(offset, offset + binarySize));
      offset += binarySize;
    } else {
      tensor = tensorFromJsonData(name, dtype, shape, member(input, 'data'));
    }
    addInput(inputs, name, tensor);
  }
  if (binary && offset !== binary.length) throw invalidArgument(`the request has ${binary.length - offset} binary bytes no input claims`);

  const outputs: string[] = [];
  const binaryOutputs = new Set<string>();
  const outputsJson = member(doc, 'outputs');
  if (outputsJson !== undefined) {
    if (!Array.isArray(outputsJson)) throw invalidArgument("'outputs' must be an array");
    for (const output of outputsJson) {
      if (!isJsonObject(output)) throw invalidArgument("each element of 'outputs' must be an object");
      const name = requiredString(output, 'name', 'requested output');
      const outputParameters = objectMember(output, 'parameters', `output '${name}'`);
      if (outputParameters && member(outputParameters, 'classification') !== undefined) {
        throw unimplemented(`output '${name}': the classification extension is not supported; use the model's classify signature`);
      }
      if (booleanParameter(outputParameters, 'binary_data') ?? allBinary) binaryOutputs.add(name);
      outputs.push(name);
    }
  }
  const id = member(doc, 'id');
  if (id !== undefined && typeof id !== 'string') throw invalidArgument("'id' must be a string");
  return { request: { modelName, modelVersion, signatureName, inputs, outputs }, id, binaryOutputs, allBinary: allBinary && outputs.length === 0 };
}

function objectMember(object: JsonObject, key: string, what: string): JsonObject | undefined {
  const value = member(object, key);
  if (value === undefined) return undefined;
  if (!isJsonObject(value)) throw invalidArgument(`'${key}' of the ${what} must be an object`);
  return value;
}

function requiredString(object: JsonObject, key: string, what: string): string {
  const value = member(object, key);
  if (typeof value !== 'string') throw invalidArgument(`${what} must have a string '${key}'`);
  return value;
}

function shapeOf(input: JsonObject, name: string): number[] {
  const shape = member(input, 'shape');
  if (!Array.isArray(shape)) throw invalidArgument(`input '${name}' must have a 'shape' array`);
  return shape.map((dim: JsonValue) => {
    // debugString: the elements may be objects without a prototype (String() would throw on them).
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0) throw invalidArgument(`input '${name}' has an invalid shape ${debugString(shape)}`);
    return dim;
  });
}

function stringParameter(parameters: JsonObject | undefined, key: string): string | undefined {
  const value = parameters ? member(parameters, key) : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidArgument(`parameter '${key}' must be a string`);
  return value;
}

function booleanParameter(parameters: JsonObject | undefined, key: string): boolean | undefined {
  const value = parameters ? member(parameters, key) : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArgument(`parameter '${key}' must be a boolean`);
  return value;
}

function numberParameter(parameters: JsonObject | undefined, key: string): number | undefined {
  const value = parameters ? member(parameters, key) : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalidArgument(`parameter '${key}' must be a non-negative integer`);
  return value;
}
