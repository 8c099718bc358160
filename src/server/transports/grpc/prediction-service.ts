/** tensorflow.serving.PredictionService: each method converts, calls its api/ function, converts back. */
import { classify, regress } from '../../api/classify.js';
import { modelMetadata } from '../../api/metadata.js';
import { multiInference } from '../../api/multi-inference.js';
import { predict } from '../../api/predict.js';
import { exampleInput, inferenceTasks, predictInputOf, requiredModelSpec } from './requests.js';
import {
  classificationResponse,
  metadataResponse,
  multiInferenceResponse,
  regressionResponse,
} from './responses.js';
import { ON_THE_EVENT_LOOP } from './offload.js';
import { type UnaryHandlers, type predictionServiceServerDefinition } from './service-definitions.js';
import { type ServiceContext, bigRequestHandler, unaryHandler } from './unary.js';

export type PredictionServiceHandlers = UnaryHandlers<typeof predictionServiceServerDefinition>;

interface HasModelSpec {
  readonly modelSpec?: { readonly name: string; readonly signatureName: string; readonly versionChoice: { case: string | undefined; value?: unknown } };
}
const modelNameOf = (request: HasModelSpec): string => request.modelSpec?.name ?? '';
/** Label and signature of inference calls (metrics). */
const specFactsOf = (request: HasModelSpec): { label?: string; signature: string } => {
  const choice = request.modelSpec?.versionChoice;
  return {
    ...(choice?.case === 'versionLabel' ? { label: choice.value as string } : {}),
    signature: request.modelSpec?.signatureName || 'serving_default',
  };
};

export function predictionServiceHandlers(context: ServiceContext): PredictionServiceHandlers {
  const { core } = context;
  const offload = context.offload ?? ON_THE_EVENT_LOOP;
  return {
    predict: bigRequestHandler(context, 'predict', {
      api: 'predict',
      modelOf: (converted) => modelNameOf(converted.request),
      factsOf: (converted) => specFactsOf(converted.request),
      handle: async (converted, keys) => offload.predictResponse(await predict(core, predictInputOf(converted, keys)), context.predictTensorContent ?? false),
    }),
    classify: unaryHandler(context, {
      api: 'classify',
      modelOf: modelNameOf,
      factsOf: specFactsOf,
      handle: async (request, keys) =>
        classificationResponse(await classify(core, { modelSpec: requiredModelSpec(request.modelSpec, keys), input: exampleInput(request.input) })),
    }),
    regress: unaryHandler(context, {
      api: 'regress',
      modelOf: modelNameOf,
      factsOf: specFactsOf,
      handle: async (request, keys) =>
        regressionResponse(await regress(core, { modelSpec: requiredModelSpec(request.modelSpec, keys), input: exampleInput(request.input) })),
    }),
    multiInference: unaryHandler(context, {
      api: 'multi_inference',
      modelOf: (request) => request.tasks[0]?.modelSpec?.name ?? '',
      handle: async (request, keys) =>
        multiInferenceResponse(await multiInference(core, { tasks: inferenceTasks(request.tasks, keys), input: exampleInput(request.input) })),
    }),
    getModelMetadata: unaryHandler(context, {
      api: 'get_model_metadata',
      modelOf: modelNameOf,
      handle: async (request, keys) => metadataResponse(await modelMetadata(core, requiredModelSpec(request.modelSpec, keys), request.metadataField)),
    }),
  };
}
