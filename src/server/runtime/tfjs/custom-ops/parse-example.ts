/**
 * ParseExample and ParseExampleV2: decode serialized tf.Example protos into dense and sparse
 * tensors. Every classify/regress signature built with tf.io.parse_example uses one of them.
 * Semantics follow TensorFlow's parser: a dense feature takes its values from the example or, when
 * absent, from its default (no default = required); a dense shape whose first dimension is -1
 * (V2, FixedLenSequenceFeature) is padded per batch with the default value; sparse features
 * become (indices, values, dense_shape) triples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fromBinary } from '@bufbuild/protobuf';
import { type Example, ExampleSchema } from '../../../../gen/tensorflow/core/example/example_pb.js';
import type { Feature } from '../../../../gen/tensorflow/core/example/feature_pb.js';
import { invalidArgument, unimplemented } from '../../../errors.js';
import { DataType, tfDtypeString } from '../../tensor/dtypes.js';
import { type HostTensor, numElements } from '../../tensor/host-tensor.js';
import { getInt, getTypeList } from '../../graph/attrs.js';
import type { IrNode } from '../../graph/ir.js';
import { fromTfjsSync, stringBytes, toTfjs } from '../convert.js';
import type { CustomOpImpl } from './context.js';

interface DenseSpec {
  key: string;
  dtype: DataType;
  /** Per-example shape; a leading -1 means variable length (padded). */
  shape: number[];
  /** Undefined (empty default tensor) means the feature is required. */
  defaultValue: HostTensor | undefined;
}

interface SparseSpec {
  key: string;
  dtype: DataType;
}

const decoder = new TextDecoder();

export const parseExampleV1: CustomOpImpl = (inputs, node) => {
  const nSparse = getInt(node, 'Nsparse') ?? 0;
  const nDense = getInt(node, 'Ndense') ?? 0;
  const sparseKeys = inputs.slice(2, 2 + nSparse).map(scalarString);
  const denseKeys = inputs.slice(2 + nSparse, 2 + nSparse + nDense).map(scalarString);
  const defaults = inputs.slice(2 + nSparse + nDense, 2 + nSparse + 2 * nDense);
  return run(inputs[0]!, node, sparseKeys, denseKeys, defaults, 'sparse_types');
};

export const parseExampleV2: CustomOpImpl = (inputs, node) => {
  const raggedKeys = stringList(inputs[4]!);
  if (raggedKeys.length > 0) throw unimplemented(`ParseExampleV2 node "${node.name}": ragged features are not supported`);
  const denseCount = (getTypeList(node, 'Tdense') ?? []).length;
  return run(inputs[0]!, node, stringList(inputs[2]!), stringList(inputs[3]!), inputs.slice(5, 5 + denseCount), 'sparse_types');
};

function run(
  serializedTensor: tf.Tensor,
  node: IrNode,
  sparseKeys: string[],
  denseKeys: string[],
  defaults: tf.Tensor[],
  sparseTypesAttr: string,
): tf.Tensor[] {
  const denseTypes = getTypeList(node, 'Tdense') ?? [];
  const sparseTypes = getTypeList(node, sparseTypesAttr) ?? [];
  const shapesAttr = node.attr['dense_shapes']?.value;
  const denseShapes = shapesAttr?.case === 'list' ? shapesAttr.value.shape.map((s) => s.dim.map((d) => Number(d.size))) : [];
  const dense: DenseSpec[] = denseKeys.map((key, i) => {
    const defaultTensor = defaults[i]!;
    return {
      key,
      dtype: denseTypes[i]!,
      shape: denseShapes[i] ?? [],
      defaultValue: defaultTensor.size === 0 ? undefined : fromTfjsSync(defaultTensor, denseTypes[i]!),
    };
  });
  const sparse: SparseSpec[] = sparseKeys.map((key, i) => ({ key, dtype: sparseTypes[i]! }));

  const batchShape = serializedTensor.shape;
  const serialized = stringBytes(serializedTensor);
  const examples = serialized.map((bytes, i) => {
    try {
      return fromBinary(ExampleSchema, bytes);
    } catch {
      throw invalidArgument(`Could not parse example input, value: '${preview(bytes)}' (index ${i})`);
    }
  });

  const sparseOut = sparse.map((spec) => parseSparse(examples, spec));
  const denseOut = dense.map((spec) => parseDense(examples, spec, batchShape));
  return [
    ...sparseOut.map((s) => tf.tensor2d(s.indices, [s.indices.length / 2, 2], 'int32')),
    ...sparseOut.map((s) => toTfjs(s.values, 'check', `sparse feature ${s.key}`)),
    ...sparseOut.map((s) => tf.tensor1d(s.denseShape, 'int32')),
    ...denseOut.map((d, i) => toTfjs(d, 'check', `feature ${dense[i]!.key}`)),
  ];
}

function parseDense(examples: Example[], spec: DenseSpec, batchShape: number[]): HostTensor {
  const variableLength = spec.shape[0] === -1;
  const perRowShape = variableLength ? spec.shape.slice(1) : spec.shape;
  const stride = numElements(perRowShape);
  const rows = examples.map((example, index) => {
    const feature = example.features?.feature[spec.key];
    if (!feature || feature.kind.case === undefined) {
      if (!spec.defaultValue) {
        throw invalidArgument(
          `Name: <unknown>, Feature: ${spec.key} (data type: ${tfDtypeString(spec.dtype)}) is required but could not be found.`,
        );
      }
      return variableLength ? [] : valuesOf(spec.defaultValue);
    }
    const values = featureValues(feature, spec, index);
    if (variableLength ? values.length % stride !== 0 : values.length !== stride) {
      throw invalidArgument(
        `Name: <unknown>, Key: ${spec.key}, Index: ${index}.  Number of ${typeWord(spec.dtype)} values != expected.  ` +
          `Values size: ${values.length} but output shape: [${perRowShape.join(',')}]`,
      );
    }
    return values;
  });
  // Reduces and loops, not spreads: a batch (or a feature) of 1e6 values overflows the call stack.
  const length = variableLength ? rows.reduce((longest, r) => Math.max(longest, r.length / stride), 0) : 1;
  const rowSize = variableLength ? length * stride : stride;
  const padding = variableLength && spec.defaultValue ? valuesOf(spec.defaultValue)[0] : undefined;
  const flat: Array<number | bigint | Uint8Array> = [];
  for (const row of rows) {
    for (const value of row) flat.push(value);
    for (let i = row.length; i < rowSize; i++) flat.push(padding ?? zeroOf(spec.dtype));
  }
  const shape = [...batchShape, ...(variableLength ? [length] : []), ...perRowShape];
  return hostFrom(spec.dtype, shape, flat);
}

function parseSparse(examples: Example[], spec: SparseSpec): { key: string; indices: Int32Array; values: HostTensor; denseShape: number[] } {
  const indices: number[] = [];
  const values: Array<number | bigint | Uint8Array> = [];
  let maxLength = 0;
  examples.forEach((example, b) => {
    const feature = example.features?.feature[spec.key];
    if (!feature || feature.kind.case === undefined) return;
    const v = featureValues(feature, { key: spec.key, dtype: spec.dtype, shape: [], defaultValue: undefined }, b);
    v.forEach((value, i) => {
      indices.push(b, i);
      values.push(value);
    });
    maxLength = Math.max(maxLength, v.length);
  });
  return { key: spec.key, indices: Int32Array.from(indices), values: hostFrom(spec.dtype, [values.length], values), denseShape: [examples.length, maxLength] };
}

function featureValues(feature: Feature, spec: DenseSpec, index: number): Array<number | bigint | Uint8Array> {
  const kind = feature.kind;
  const actual = kind.case === 'floatList' ? DataType.DT_FLOAT : kind.case === 'int64List' ? DataType.DT_INT64 : DataType.DT_STRING;
  if (actual !== spec.dtype) {
    throw invalidArgument(
      `Name: <unknown>, Key: ${spec.key}, Index: ${index}.  Data types don't match. Data type: ${tfDtypeString(actual)} ` +
        `but expected type: ${tfDtypeString(spec.dtype)}`,
    );
  }
  return kind.value ? [...kind.value.value] : [];
}

function hostFrom(dtype: DataType, shape: number[], values: Array<number | bigint | Uint8Array>): HostTensor {
  if (dtype === DataType.DT_FLOAT) return { dtype, shape, data: Float32Array.from(values as number[]) };
  if (dtype === DataType.DT_INT64) return { dtype, shape, data: BigInt64Array.from(values as bigint[]) };
  return { dtype, shape, data: values as Uint8Array[] };
}

function valuesOf(tensor: HostTensor): Array<number | bigint | Uint8Array> {
  return Array.from(tensor.data as ArrayLike<number | bigint | Uint8Array>);
}

const zeroOf = (dtype: DataType): number | bigint | Uint8Array =>
  dtype === DataType.DT_INT64 ? 0n : dtype === DataType.DT_STRING ? new Uint8Array(0) : 0;

const typeWord = (dtype: DataType): string =>
  dtype === DataType.DT_FLOAT ? 'float' : dtype === DataType.DT_INT64 ? 'int64' : 'bytes';

function scalarString(t: tf.Tensor): string {
  return decoder.decode(stringBytes(t)[0]);
}

function stringList(t: tf.Tensor): string[] {
  return stringBytes(t).map((b) => decoder.decode(b));
}

function preview(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 32)).toString('latin1').replace(/[^\x20-\x7e]/g, '?');
}
