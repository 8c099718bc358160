/**
 * The Open Inference Protocol's tensor datatypes and TensorFlow's dtypes, one to one. BYTES is
 * DT_STRING; FP16 and BF16 travel as their raw 16-bit patterns (HostTensor keeps those bits too).
 */
import { invalidArgument } from '../../errors.js';
import { DataType, dtypeEnumName } from '../../runtime/tensor/dtypes.js';

export type OipDatatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'BF16' | 'FP32' | 'FP64' | 'BYTES';

const TO_DTYPE: ReadonlyMap<string, DataType> = new Map<OipDatatype, DataType>([
  ['BOOL', DataType.DT_BOOL],
  ['UINT8', DataType.DT_UINT8],
  ['UINT16', DataType.DT_UINT16],
  ['UINT32', DataType.DT_UINT32],
  ['UINT64', DataType.DT_UINT64],
  ['INT8', DataType.DT_INT8],
  ['INT16', DataType.DT_INT16],
  ['INT32', DataType.DT_INT32],
  ['INT64', DataType.DT_INT64],
  ['FP16', DataType.DT_HALF],
  ['BF16', DataType.DT_BFLOAT16],
  ['FP32', DataType.DT_FLOAT],
  ['FP64', DataType.DT_DOUBLE],
  ['BYTES', DataType.DT_STRING],
]);

const FROM_DTYPE: ReadonlyMap<DataType, OipDatatype> = new Map([...TO_DTYPE].map(([name, dtype]) => [dtype, name as OipDatatype]));

/** The dtype of a request tensor's datatype; INVALID_ARGUMENT naming the tensor otherwise. */
export function dtypeOfDatatype(datatype: string, tensor: string): DataType {
  const dtype = TO_DTYPE.get(datatype);
  if (dtype === undefined) throw invalidArgument(`invalid datatype '${datatype}' for input '${tensor}'`);
  return dtype;
}

/** The datatype a TensorFlow dtype is reported as; INVALID_ARGUMENT for dtypes the protocol lacks. */
export function datatypeOfDtype(dtype: DataType): OipDatatype {
  const name = FROM_DTYPE.get(dtype);
  if (name === undefined) throw invalidArgument(`${dtypeEnumName(dtype)} has no Open Inference Protocol datatype`);
  return name;
}

/** For metadata: a signature dtype the protocol cannot express is reported by its TF name. */
export function datatypeNameOf(dtype: DataType): string {
  return FROM_DTYPE.get(dtype) ?? dtypeEnumName(dtype);
}
