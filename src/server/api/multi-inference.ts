/** MultiInference: several classify/regress tasks on one model and one set of examples. */
import { invalidArgument } from '../errors.js';
import { CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME } from '../runtime/savedmodel/signatures.js';
import type { ModelSpecRequest, ServingCore } from '../core/types.js';
import { type ClassifyResult, type RegressResult, classifyWith, regressWith } from './classify.js';
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
  if (tasks.length === 0) throw invalidArgument('Empty InferenceTask list');
  const first = tasks[0]!.modelSpec;
  const signatures = new Set<string>();
  for (const task of tasks) {
    if (task.modelSpec.name !== first.name) {
      throw invalidArgument('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
    }
    if (task.modelSpec.version !== first.version || task.modelSpec.label !== first.label) {
      throw invalidArgument('ModelSpec version or label must be the same for all tasks in a MultiInferenceRequest.');
    }
    const name = signatureNameOf(task.modelSpec);
    if (signatures.has(name)) throw invalidArgument(`Duplicate evaluation of signature: ${name}`);
    signatures.add(name);
    if (task.methodName !== CLASSIFY_METHOD_NAME && task.methodName !== REGRESS_METHOD_NAME) {
      throw invalidArgument(`Unsupported signature method_name: ${task.methodName}`);
    }
  }
  const examples = serializeExamples(request.input);
  return withServable(core, first, async (handle) => {
    const results: InferenceTaskResult[] = [];
    for (const task of tasks) {
      const signature = signatureNameOf(task.modelSpec);
      results.push(
        task.methodName === CLASSIFY_METHOD_NAME
          ? { kind: 'classification', ...(await classifyWith(handle, signature, examples)) }
          : { kind: 'regression', ...(await regressWith(handle, signature, examples)) },
      );
    }
    return results;
  });
}
