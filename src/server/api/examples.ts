/**
 * tf.Example inputs of classify/regress/multi-inference. With a context, every example is merged
 * with it the way TF Serving does: by concatenating the serialized protos (protobuf merge: the
 * example's features add to and override the context's).
 */
import { toBinary } from '@bufbuild/protobuf';
import { type Example, ExampleSchema } from '../../gen/tensorflow/core/example/example_pb.js';
import { invalidArgument } from '../errors.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';

export interface ExampleInput {
  readonly examples: readonly Example[];
  readonly context?: Example;
}

export function serializeExamples({ examples, context }: ExampleInput): HostTensor {
  if (examples.length === 0) throw invalidArgument('Input is empty.');
  const contextBytes = context ? toBinary(ExampleSchema, context) : undefined;
  const data = examples.map((example) => {
    const bytes = toBinary(ExampleSchema, example);
    if (!contextBytes) return bytes;
    const merged = new Uint8Array(contextBytes.length + bytes.length);
    merged.set(contextBytes);
    merged.set(bytes, contextBytes.length);
    return merged;
  });
  return { dtype: DataType.DT_STRING, shape: [data.length], data };
}
