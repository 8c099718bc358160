/** Plain descriptions of a meta graph's SignatureDefs, as every API surface reports them. */
import type { MetaGraphDef, SignatureDef, TensorInfo } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { notFound } from '../../errors.js';
import { type DataType, baseDtype } from '../tensor/dtypes.js';

/** Signatures TensorFlow keeps for itself; not callable by clients. */
export const INIT_OP_SIGNATURE_KEY = '__saved_model_init_op';

export const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';
export const CLASSIFY_METHOD_NAME = 'tensorflow/serving/classify';
export const REGRESS_METHOD_NAME = 'tensorflow/serving/regress';

export interface TensorSpec {
  /** The signature's key for this tensor (what clients use). */
  readonly alias: string;
  /** The graph tensor, "node:index"; for composite tensors the first component. */
  readonly tensorName: string;
  /** The value dtype: reference types (DT_FLOAT_REF in old TF1 signatures) as their base type. */
  readonly dtype: DataType;
  /** -1 for unknown dimensions; undefined for unknown rank. */
  readonly shape: readonly number[] | undefined;
}

export interface SignatureInfo {
  readonly key: string;
  readonly methodName: string;
  /** Sorted by alias, as TensorFlow Serving and saved_model_cli list them. */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

export function tensorSpecOf(alias: string, info: TensorInfo): TensorSpec {
  const shapeProto = info.tensorShape;
  const shape = !shapeProto || shapeProto.unknownRank ? undefined : shapeProto.dim.map((d) => Number(d.size));
  let tensorName = '';
  if (info.encoding.case === 'name') tensorName = info.encoding.value;
  else if (info.encoding.case === 'cooSparse') tensorName = info.encoding.value.valuesTensorName;
  else if (info.encoding.case === 'compositeTensor') {
    const first = info.encoding.value.components[0];
    tensorName = first?.encoding.case === 'name' ? first.encoding.value : '';
  }
  return { alias, tensorName, dtype: baseDtype(info.dtype), shape };
}

export function describeSignature(key: string, def: SignatureDef): SignatureInfo {
  const specs = (map: Record<string, TensorInfo>): TensorSpec[] =>
    Object.keys(map).sort().map((alias) => tensorSpecOf(alias, map[alias]!));
  return { key, methodName: def.methodName, inputs: specs(def.inputs), outputs: specs(def.outputs) };
}

/** Client-callable signatures, sorted by key. */
export function describeSignatures(metaGraph: MetaGraphDef): SignatureInfo[] {
  return Object.keys(metaGraph.signatureDef)
    .filter((key) => key !== INIT_OP_SIGNATURE_KEY)
    .sort()
    .map((key) => describeSignature(key, metaGraph.signatureDef[key]!));
}

export function findSignature(signatures: readonly SignatureInfo[], key: string): SignatureInfo {
  const found = signatures.find((s) => s.key === key);
  if (!found) throw notFound(`Serving signature key "${key}" not found.`);
  return found;
}
