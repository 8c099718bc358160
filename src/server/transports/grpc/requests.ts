/** gRPC request messages -> the transport-neutral inputs of the api/ functions. */
import type { TensorProto } from '../../../gen/tensorflow/core/framework/tensor_pb.js';
import type { Input } from '../../../gen/tensorflow_serving/apis/input_pb.js';
import type { InferenceTask as InferenceTaskProto } from '../../../gen/tensorflow_serving/apis/inference_pb.js';
import type { ModelSpec } from '../../../gen/tensorflow_serving/apis/model_pb.js';
import type { PredictRequest } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import type { ExampleInput } from '../../api/examples.js';
import type { InferenceTask } from '../../api/multi-inference.js';
import type { PredictInput } from '../../api/predict.js';
import { hostTensorFromProto } from '../../api/tensor-proto.js';
import type { ModelSpecRequest, RequestKeys } from '../../core/types.js';
import { ServingError, invalidArgument } from '../../errors.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import type { ConvertedPredict } from './big-requests.js';

/** TF Serving's check in every API that takes one ModelSpec. */
export function requiredModelSpec(spec: ModelSpec | undefined, keys?: RequestKeys): ModelSpecRequest {
  if (!spec) throw invalidArgument('Missing ModelSpec');
  return modelSpecRequest(spec, keys);
}

/** `keys`: the call's metadata, which routing reads its request key from. */
export function modelSpecRequest(spec: ModelSpec, keys?: RequestKeys): ModelSpecRequest {
  const choice = spec.versionChoice;
  const requestKeys = keys ? { requestKeys: keys } : {};
  switch (choice.case) {
    case 'version':
      return { name: spec.name, version: choice.value.value, signatureName: spec.signatureName, ...requestKeys };
    case 'versionLabel':
      return { name: spec.name, label: choice.value, signatureName: spec.signatureName, ...requestKeys };
    default:
      return { name: spec.name, signatureName: spec.signatureName, ...requestKeys };
  }
}

export function predictInput(request: PredictRequest, keys?: RequestKeys): PredictInput {
  const modelSpec = requiredModelSpec(request.modelSpec, keys);
  const inputs = new Map<string, HostTensor>();
  const protos: Record<string, TensorProto> = request.inputs;
  for (const alias in protos) inputs.set(alias, hostTensorFromProto(protos[alias]!, alias));
  return { modelSpec, inputs, outputFilter: request.outputFilter };
}

/** A Predict converted by big-requests.ts: the ModelSpec checked first, then the tensors' error if any. */
export function predictInputOf(converted: ConvertedPredict, keys?: RequestKeys): PredictInput {
  const modelSpec = requiredModelSpec(converted.request.modelSpec, keys);
  if (converted.inputs instanceof ServingError) throw converted.inputs;
  return { modelSpec, inputs: new Map(converted.inputs), outputFilter: converted.request.outputFilter };
}

/** An absent Input or kind is an empty example list ("Input is empty." from the API). */
export function exampleInput(input: Input | undefined): ExampleInput {
  const kind = input?.kind;
  if (kind?.case === 'exampleList') return { examples: kind.value.examples };
  if (kind?.case === 'exampleListWithContext') {
    const { examples, context } = kind.value;
    return context ? { examples, context } : { examples };
  }
  return { examples: [] };
}

/** MultiInference: TF Serving reads a missing task ModelSpec as the empty one. */
export function inferenceTasks(tasks: readonly InferenceTaskProto[], keys?: RequestKeys): InferenceTask[] {
  return tasks.map((task) => ({
    modelSpec: task.modelSpec ? modelSpecRequest(task.modelSpec, keys) : { name: '' },
    methodName: task.methodName,
  }));
}
