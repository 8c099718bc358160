/**
 * Classify/regress JSON -> tf.Examples, following TF Serving's json_tensor.cc
 * (FillClassifyRegressRequestFromJson): `{"context"?: {...}, "examples": [{feature: value}, ...]}`.
 * A feature value is one value or a list of them: strings and {"b64": ...} become a bytes_list,
 * numbers written with a fraction or exponent a float_list, integers and booleans an int64_list.
 * Needs the precise parser's numbers (FloatToken vs integer).
 */
import { create } from '@bufbuild/protobuf';
import { type Example, ExampleSchema } from '../../../gen/tensorflow/core/example/example_pb.js';
import { type Feature, FeatureSchema } from '../../../gen/tensorflow/core/example/feature_pb.js';
import type { ExampleInput } from '../../api/examples.js';
import { invalidArgument } from '../../errors.js';
import { decodeBase64, isBase64Object } from './base64.js';
import { jsonTypeName, jsonValueError } from './json-debug.js';
import { ByteString, FloatToken, type JsonObject, type JsonValue, isJsonObject, member } from './json-parse.js';

const INT64_MAX = (1n << 63n) - 1n;

export function exampleInputFromJson(doc: JsonObject): ExampleInput {
  const contextJson = member(doc, 'context');
  const context = contextJson === undefined ? undefined : exampleFromJson(contextJson);
  const examples = member(doc, 'examples');
  // TF Serving says "classify" here for regress requests too.
  if (examples === undefined) throw jsonValueError(doc, "When method is classify, key 'examples' is expected and was not found");
  if (!Array.isArray(examples)) throw jsonValueError(doc, "Expecting 'examples' value to be an list/array");
  if (examples.length === 0) throw jsonValueError(doc, "'examples' value is an empty array");
  return { examples: examples.map(exampleFromJson), ...(context ? { context } : {}) };
}

function exampleFromJson(value: JsonValue): Example {
  if (!isJsonObject(value)) throw invalidArgument(`Example must be JSON object but got JSON ${jsonTypeName(value)}`);
  const feature: Record<string, Feature> = {};
  for (const name of Object.keys(value)) {
    const builder = new FeatureBuilder(name);
    const content = value[name]!;
    if (Array.isArray(content)) for (const item of content) builder.add(item);
    else builder.add(content);
    feature[name] = builder.feature();
  }
  return create(ExampleSchema, { features: { feature } });
}

type FeatureKind = 'bytes' | 'float' | 'int64';

/** One feature's values; all of one kind (AddValueToFeature). */
class FeatureBuilder {
  private kind: FeatureKind | undefined;
  private readonly bytes: Uint8Array[] = [];
  private readonly floats: number[] = [];
  private readonly ints: bigint[] = [];

  constructor(private readonly name: string) {}

  add(value: JsonValue): void {
    if (typeof value === 'boolean') {
      this.expect('int64');
      this.ints.push(value ? 1n : 0n);
    } else if (typeof value === 'string' || value instanceof ByteString) {
      this.expect('bytes');
      this.bytes.push(typeof value === 'string' ? Buffer.from(value, 'utf8') : value.bytes);
    } else if (value instanceof FloatToken) {
      this.expect('float');
      this.floats.push(value.value);
    } else if (typeof value === 'number' || typeof value === 'bigint') {
      this.expect('int64');
      const integer = BigInt(value);
      if (integer > INT64_MAX) throw invalidArgument(`Feature: ${this.name} has uint64_t element. Only int64_t is supported.`);
      this.ints.push(integer);
    } else if (isBase64Object(value)) {
      this.expect('bytes');
      const decoded = decodeBase64(value.b64);
      if (!decoded) throw invalidArgument('Unable to base64 decode');
      this.bytes.push(decoded);
    } else {
      throw invalidArgument(`Feature: ${this.name} has element with unexpected JSON type: ${jsonTypeName(value)}`);
    }
  }

  private expect(kind: FeatureKind): void {
    if (this.kind === undefined) this.kind = kind;
    else if (this.kind !== kind) {
      throw invalidArgument(`Unexpected element type in feature: ${this.name} expecting type: ${this.kind}`);
    }
  }

  feature(): Feature {
    switch (this.kind) {
      case 'bytes': return create(FeatureSchema, { kind: { case: 'bytesList', value: { value: this.bytes } } });
      case 'float': return create(FeatureSchema, { kind: { case: 'floatList', value: { value: this.floats } } });
      case 'int64': return create(FeatureSchema, { kind: { case: 'int64List', value: { value: this.ints } } });
      default: return create(FeatureSchema, {});
    }
  }
}
