/**
 * MultiInference: several classify/regress tasks on one model and one set of examples, checked as
 * TF Serving's multi_inference.cc does (the first task's model spec picks the servable).
 */
import { invalidArgument, unimplemented } from '../errors.js';
import { CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME } from '../runtime/savedmodel/signatures.js';
import type { ModelSpecRequest, ServingCore } from '../core/types.js';
import { type ClassifyResult, type RegressResult, checkRegressionSignature, classificationOutputs, classifyWith, regressWith } from './classify.js';
import { type ExampleInput, serializeExamples } from './examples.js';
import { signatureNameOf, withServable } from './model-spec.js';

export interface InferenceTask {
  readonly modelSpec: ModelSpecRequest;
  readonly methodName: string;
}

export type InferenceTaskResult =
  | ({ readonly kind: 'classification' } & ClassifyResult)
  | ({ readonly kind: 'regression' } & RegressResult);

export async function multiInference(
  core: ServingCore,
  request: { readonly tasks: readonly InferenceTask[]; readonly input: ExampleInput },
): Promise<InferenceTaskResult[]> {
  const { tasks } = request;
  const check = core.signatureMethodNameCheck ?? false;
  // GetModelSpecFromRequest: the first task's spec, or the empty one.
  return withServable(core, tasks[0]?.modelSpec ?? { name: '' }, async (handle) => {
    const signatures = new Set<string>();
    for (const task of tasks) {
      if (!task.modelSpec.name) throw invalidArgument('Found ModelSpec with an empty model name.');
      if (task.modelSpec.name !== tasks[0]!.modelSpec.name) {
        throw invalidArgument('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
      }
      const name = signatureNameOf(task.modelSpec);
      if (signatures.has(name)) throw invalidArgument(`Duplicate evaluation of signature: ${name}`);
      signatures.add(name);
      const def = handle.signatureDefs[name];
      if (!def) throw invalidArgument(`Requested signature not found in model graph: ${name}`);
      if (task.methodName === CLASSIFY_METHOD_NAME) classificationOutputs(def, check);
      else if (task.methodName === REGRESS_METHOD_NAME) checkRegressionSignature(def, check);
      else throw unimplemented(`Unsupported signature method_name: ${task.methodName}`);
    }
    const examples = serializeExamples(request.input);
    const results: InferenceTaskResult[] = [];
    for (const task of tasks) {
      const signature = signatureNameOf(task.modelSpec);
      results.push(
        task.methodName === CLASSIFY_METHOD_NAME
          ? { kind: 'classification', ...(await classifyWith(handle, signature, examples, check)) }
          : { kind: 'regression', ...(await regressWith(handle, signature, examples, check)) },
      );
    }
    return results;
  });
}
