/**
 * --input_examples: each input is a list of dicts mapping feature names to value lists, turned
 * into serialized tf.Example protos the way saved_model_cli's _create_example_string does: the
 * type of a list's first value picks the feature kind (float -> float_list, str -> UTF-8
 * bytes_list, bytes -> bytes_list, int or bool -> int64_list).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../../gen/tensorflow/core/example/example_pb.js';
import type { Feature } from '../../../gen/tensorflow/core/example/feature_pb.js';
import { FeatureSchema } from '../../../gen/tensorflow/core/example/feature_pb.js';
import { usageError } from './cli-errors.js';
import { type PyValue, pyRepr, pyStr, pyTypeName } from './python-literal.js';

function pyClass(value: PyValue): string {
  return `<class '${pyTypeName(value)}'>`;
}

function featureOf(name: string, list: PyValue): Feature {
  if (list.kind !== 'list') {
    throw usageError(`feature value must be a list, but ${name}: "${pyStr(list)}" is ${pyClass(list)}`, 'ValueError');
  }
  const first = list.items[0];
  if (!first) throw usageError('list index out of range', 'ValueError');
  const mismatch = (item: PyValue, wanted: string): never => {
    throw usageError(`${pyRepr(item)} has type ${pyTypeName(item)}, but expected one of: ${wanted}`, 'TypeError');
  };
  switch (first.kind) {
    case 'float': {
      const value = list.items.map((item) => {
        if (item.kind === 'float') return item.value;
        if (item.kind === 'int') return Number(item.value);
        if (item.kind === 'bool') return item.value ? 1 : 0;
        return mismatch(item, 'int, float');
      });
      return create(FeatureSchema, { kind: { case: 'floatList', value: { value: value.map(Math.fround) } } });
    }
    case 'str':
    case 'bytes': {
      const encoder = new TextEncoder();
      const value = list.items.map((item) => {
        if (item.kind === first.kind) return item.kind === 'str' ? encoder.encode(item.value) : (item as { value: Uint8Array }).value;
        return mismatch(item, first.kind === 'str' ? 'str' : 'bytes');
      });
      return create(FeatureSchema, { kind: { case: 'bytesList', value: { value } } });
    }
    case 'int':
    case 'bool': {
      const value = list.items.map((item) => {
        if (item.kind === 'int') return BigInt.asIntN(64, item.value);
        if (item.kind === 'bool') return item.value ? 1n : 0n;
        return mismatch(item, 'int');
      });
      return create(FeatureSchema, { kind: { case: 'int64List', value: { value } } });
    }
    default:
      throw usageError(`Type ${pyClass(first)} for value ${pyStr(first)} is not supported for tf.train.Feature.`, 'ValueError');
  }
}

/** One serialized tf.Example from a dict of feature lists. */
export function serializeExample(dict: PyValue): Uint8Array {
  if (dict.kind !== 'dict') throw usageError(`'${pyTypeName(dict)}' object has no attribute 'items'`, 'AttributeError');
  const feature: Record<string, Feature> = {};
  for (const [key, list] of dict.entries) {
    if (key.kind !== 'str') throw usageError(`feature names must be str, got ${pyRepr(key)}`, 'TypeError');
    feature[key.value] = featureOf(key.value, list);
  }
  // Like Python's proto, `features` is only present once a feature was set.
  const example = dict.entries.length > 0 ? create(ExampleSchema, { features: { feature } }) : create(ExampleSchema);
  return toBinary(ExampleSchema, example);
}

/** The serialized examples for one --input_examples value (which must be a list). */
export function serializeExamples(value: PyValue): Uint8Array[] {
  if (value.kind !== 'list') {
    throw usageError(`tf.Example input must be a list of dictionaries, but "${pyStr(value)}" is ${pyClass(value)}`, 'ValueError');
  }
  return value.items.map(serializeExample);
}
