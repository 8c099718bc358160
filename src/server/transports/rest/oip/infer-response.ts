/**
 * A REST inference response: JSON, or with binary outputs the JSON header (its length in
 * Inference-Header-Content-Length) followed by each binary output's raw bytes in output order.
 */
import type { InferResult } from '../../../api/oip/infer.js';
import { rawFromTensor } from '../../../api/oip/raw-tensor.js';
import { jsonDataOf } from './json-tensor-data.js';
import type { RestInferRequest } from './infer-request.js';

export interface RestInferResponse {
  /** The JSON text alone, or the JSON header and the binary outputs. */
  readonly body: string | Buffer;
  /** Set when `body` carries binary outputs. */
  readonly headerLength: number | undefined;
}

export function inferResponse(result: InferResult, parsed: RestInferRequest): RestInferResponse {
  let json = `{"model_name":${JSON.stringify(result.modelName)},"model_version":${JSON.stringify(result.modelVersion)}`;
  if (parsed.id !== undefined) json += `,"id":${JSON.stringify(parsed.id)}`;
  json += ',"outputs":[';
  const binaries: Uint8Array[] = [];
  result.outputs.forEach((output, index) => {
    const head = `${index > 0 ? ',' : ''}{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":[${output.tensor.shape.join(',')}]`;
    if (parsed.allBinary || parsed.binaryOutputs.has(output.name)) {
      const raw = rawFromTensor(output.tensor);
      binaries.push(raw);
      json += `${head},"parameters":{"binary_data_size":${raw.length}}}`;
    } else {
      json += `${head},"data":${jsonDataOf(output.tensor)}}`;
    }
  });
  json += ']}';
  if (binaries.length === 0) return { body: json, headerLength: undefined };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...binaries]), headerLength: header.length };
}
