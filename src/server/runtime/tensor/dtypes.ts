/** Facts about TensorFlow dtypes that the runtime needs in several places. */
import { DataType } from '../../../gen/tensorflow/core/framework/types_pb.js';

export { DataType };

interface DTypeInfo {
  /** numpy's name, as saved_model_cli and our JSON fixtures write it. */
  readonly numpy: string;
  /** Bytes per element in a TensorBundle or tensor_content; 0 for variable-size (string). */
  readonly size: number;
}

const INFO: ReadonlyMap<DataType, DTypeInfo> = new Map([
  [DataType.DT_FLOAT, { numpy: 'float32', size: 4 }],
  [DataType.DT_DOUBLE, { numpy: 'float64', size: 8 }],
  [DataType.DT_HALF, { numpy: 'float16', size: 2 }],
  [DataType.DT_BFLOAT16, { numpy: 'bfloat16', size: 2 }],
  [DataType.DT_INT8, { numpy: 'int8', size: 1 }],
  [DataType.DT_INT16, { numpy: 'int16', size: 2 }],
  [DataType.DT_INT32, { numpy: 'int32', size: 4 }],
  [DataType.DT_INT64, { numpy: 'int64', size: 8 }],
  [DataType.DT_UINT8, { numpy: 'uint8', size: 1 }],
  [DataType.DT_UINT16, { numpy: 'uint16', size: 2 }],
  [DataType.DT_UINT32, { numpy: 'uint32', size: 4 }],
  [DataType.DT_UINT64, { numpy: 'uint64', size: 8 }],
  [DataType.DT_BOOL, { numpy: 'bool', size: 1 }],
  [DataType.DT_STRING, { numpy: 'string', size: 0 }],
  [DataType.DT_COMPLEX64, { numpy: 'complex64', size: 8 }],
  [DataType.DT_COMPLEX128, { numpy: 'complex128', size: 16 }],
]);

const BY_NUMPY_NAME: ReadonlyMap<string, DataType> = new Map(
  [...INFO].map(([dtype, info]) => [info.numpy, dtype] as const),
);

/** "DT_FLOAT" for DataType.DT_FLOAT; "DT_<n>" for values this build does not name. */
export function dtypeEnumName(dtype: DataType): string {
  return DataType[dtype] ?? `DT_${dtype}`;
}

/** TensorFlow's DataTypeString: "float", "double", "int64", "string", ... (what its errors print). */
export function tfDtypeString(dtype: DataType): string {
  return dtypeEnumName(dtype).replace(/^DT_/, '').toLowerCase();
}

/** The non-reference type (DT_FLOAT_REF -> DT_FLOAT). */
export function baseDtype(dtype: DataType): DataType {
  return dtype > 100 ? (dtype - 100) as DataType : dtype;
}

export function isSupportedHostDtype(dtype: DataType): boolean {
  return INFO.has(dtype);
}

export function numpyName(dtype: DataType): string {
  return INFO.get(dtype)?.numpy ?? dtypeEnumName(dtype).replace(/^DT_/, '').toLowerCase();
}

export function dtypeFromNumpyName(name: string): DataType | undefined {
  return BY_NUMPY_NAME.get(name);
}

export function elementSize(dtype: DataType): number {
  return INFO.get(dtype)?.size ?? 0;
}

export const isFloatingDtype = (dtype: DataType): boolean =>
  dtype === DataType.DT_FLOAT || dtype === DataType.DT_DOUBLE || dtype === DataType.DT_HALF ||
  dtype === DataType.DT_BFLOAT16;
