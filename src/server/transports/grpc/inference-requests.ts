/**
 * GRPCInferenceService messages <-> the api/oip functions' inputs and results. Inputs come as
 * raw_input_contents (one entry per input, in order) or as typed InferTensorContents; outputs are
 * always sent as raw_output_contents, as Triton does (its clients read either).
 */
import type {
  InferParameter,
  InferTensorContents,
  ModelInferRequest,
  ModelInferRequest_InferInputTensor,
  ModelInferResponse,
  ModelInferResponse_InferOutputTensor,
} from '../../../gen/inference/grpc_service_pb.js';
import { dtypeOfDatatype } from '../../api/oip/datatypes.js';
import { type InferRequest, type InferResult, SIGNATURE_NAME_PARAMETER, addInput } from '../../api/oip/infer.js';
import { rawFromTensor, tensorFromRaw } from '../../api/oip/raw-tensor.js';
import { invalidArgument } from '../../errors.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import { type HostTensor, type TensorData, allocateData, numElements } from '../../runtime/tensor/host-tensor.js';

export function signatureNameOf(parameters: Readonly<Record<string, InferParameter>>): string {
  const parameter = parameters[SIGNATURE_NAME_PARAMETER];
  if (parameter === undefined) return '';
  if (parameter.parameterChoice.case !== 'stringParam') throw invalidArgument(`parameter '${SIGNATURE_NAME_PARAMETER}' must be a string`);
  return parameter.parameterChoice.value;
}

export function inferRequestOf(request: ModelInferRequest): InferRequest {
  const raw = request.rawInputContents;
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw invalidArgument(`raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs`);
  }
  const inputs = new Map<string, HostTensor>();
  request.inputs.forEach((input, index) => {
    const dtype = dtypeOfDatatype(input.datatype, input.name);
    const shape = shapeOf(input);
    addInput(inputs, input.name, raw.length > 0 ? tensorFromRaw(input.name, dtype, shape, raw[index]!) : tensorFromContents(input, dtype, shape));
  });
  return {
    modelName: request.modelName,
    modelVersion: request.modelVersion,
    signatureName: signatureNameOf(request.parameters),
    inputs,
    outputs: request.outputs.map((o) => o.name),
  };
}

function shapeOf(input: ModelInferRequest_InferInputTensor): number[] {
  return input.shape.map((dim) => {
    if (dim < 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`input '${input.name}' has an invalid shape [${input.shape.join(',')}]`);
    return Number(dim);
  });
}

function tensorFromContents(input: ModelInferRequest_InferInputTensor, dtype: DataType, shape: number[]): HostTensor {
  const contents: InferTensorContents | undefined = input.contents;
  const count = numElements(shape);
  const values = contentsFor(contents, dtype, input.name);
  if (values.length !== count) {
    throw invalidArgument(`unexpected number of elements ${values.length} in the contents of input '${input.name}', expecting ${count} for shape [${shape.join(',')}]`);
  }
  const data: TensorData = allocateData(dtype, count);
  if (dtype === DataType.DT_BOOL) (values as boolean[]).forEach((v, i) => ((data as Uint8Array)[i] = v ? 1 : 0));
  else if (dtype === DataType.DT_STRING) (values as Uint8Array[]).forEach((v, i) => ((data as Uint8Array[])[i] = v));
  else (data as Exclude<TensorData, Uint8Array[]>).set(values as ArrayLike<number> & ArrayLike<bigint>);
  return { dtype, shape, data };
}

function contentsFor(contents: InferTensorContents | undefined, dtype: DataType, name: string): ArrayLike<unknown> {
  if (!contents) return [];
  switch (dtype) {
    case DataType.DT_BOOL: return contents.boolContents;
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_INT32: return contents.intContents;
    case DataType.DT_INT64: return contents.int64Contents;
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32: return contents.uintContents;
    case DataType.DT_UINT64: return contents.uint64Contents;
    case DataType.DT_FLOAT: return contents.fp32Contents;
    case DataType.DT_DOUBLE: return contents.fp64Contents;
    case DataType.DT_STRING: return contents.bytesContents;
    default: throw invalidArgument(`input '${name}': FP16 and BF16 tensors must be sent in raw_input_contents`);
  }
}

export function inferResponseOf(result: InferResult, id: string): ModelInferResponse {
  const outputs: ModelInferResponse_InferOutputTensor[] = [];
  const raw: Uint8Array[] = [];
  for (const output of result.outputs) {
    outputs.push({
      $typeName: 'inference.ModelInferResponse.InferOutputTensor',
      name: output.name,
      datatype: output.datatype,
      shape: output.tensor.shape.map(BigInt),
      parameters: {},
    });
    raw.push(rawFromTensor(output.tensor));
  }
  return {
    $typeName: 'inference.ModelInferResponse',
    modelName: result.modelName,
    modelVersion: result.modelVersion,
    id,
    parameters: {},
    outputs,
    rawOutputContents: raw,
  };
}
