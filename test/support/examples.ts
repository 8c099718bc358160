/** Serialized tf.Example protos for classify/regress inputs. */
import { create, toBinary } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../src/gen/tensorflow/core/example/example_pb.js';
import { FeatureSchema, FeaturesSchema } from '../../src/gen/tensorflow/core/example/feature_pb.js';

export type FeatureValues = number[] | bigint[] | string[];

export function serializeExample(features: Record<string, FeatureValues>): Uint8Array {
  const feature = Object.fromEntries(
    Object.entries(features).map(([key, values]) => {
      const first = values[0];
      const kind = typeof first === 'bigint'
        ? { case: 'int64List' as const, value: { value: values as bigint[] } }
        : typeof first === 'string'
          ? { case: 'bytesList' as const, value: { value: (values as string[]).map((s) => new TextEncoder().encode(s)) } }
          : { case: 'floatList' as const, value: { value: values as number[] } };
      return [key, create(FeatureSchema, { kind })];
    }),
  );
  return toBinary(ExampleSchema, create(ExampleSchema, { features: create(FeaturesSchema, { feature }) }));
}

export const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
