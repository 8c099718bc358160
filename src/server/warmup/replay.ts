/**
 * Replays one warmup PredictionLog through the serving APIs, as TF Serving's saved_model_warmup
 * RunWarmupRequest does: the request runs on the servable being loaded whatever model name or
 * version its model_spec names; only the signature name counts. The logged response is ignored.
 */
import type { PredictionLog } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import type { Input } from '../../gen/tensorflow_serving/apis/input_pb.js';
import type { ModelSpec } from '../../gen/tensorflow_serving/apis/model_pb.js';
import type { PredictRequest } from '../../gen/tensorflow_serving/apis/predict_pb.js';
import { classify, regress } from '../api/classify.js';
import type { ExampleInput } from '../api/examples.js';
import { multiInference } from '../api/multi-inference.js';
import { predict } from '../api/predict.js';
import { hostTensorFromProto } from '../api/tensor-proto.js';
import type { ModelSpecRequest, ServingCore } from '../core/types.js';
import { unimplemented } from '../errors.js';

/** PredictionLog's log_type fields that warmup refuses (session_run_log, predict_streamed_log). */
const UNSUPPORTED_LOG_FIELDS = new Set([5, 7]);

export type WarmupLogKind = NonNullable<PredictionLog['logType']['case']> | 'empty';

export function warmupLogKind(log: PredictionLog): WarmupLogKind {
  return log.logType.case ?? 'empty';
}

/** Runs the logged request against the servable `core` serves. */
export async function replayWarmupLog(core: ServingCore, log: PredictionLog): Promise<void> {
  const logType = log.logType;
  switch (logType.case) {
    case 'predictLog': {
      const request = logType.value.request;
      await predict(core, {
        modelSpec: modelSpecOf(request?.modelSpec),
        inputs: inputTensorsOf(request),
        outputFilter: request?.outputFilter,
      });
      return;
    }
    case 'classifyLog': {
      const request = logType.value.request;
      await classify(core, { modelSpec: modelSpecOf(request?.modelSpec), input: exampleInputOf(request?.input) });
      return;
    }
    case 'regressLog': {
      const request = logType.value.request;
      await regress(core, { modelSpec: modelSpecOf(request?.modelSpec), input: exampleInputOf(request?.input) });
      return;
    }
    case 'multiInferenceLog': {
      const request = logType.value.request;
      await multiInference(core, {
        tasks: (request?.tasks ?? []).map((task) => ({ modelSpec: modelSpecOf(task.modelSpec), methodName: task.methodName })),
        input: exampleInputOf(request?.input),
      });
      return;
    }
    default: {
      // Our PredictionLog omits the log types warmup cannot run; they arrive as unknown fields.
      const unsupported = log.$unknown?.find((field) => UNSUPPORTED_LOG_FIELDS.has(field.no));
      if (unsupported) throw unimplemented(`Unsupported log_type for warmup: ${unsupported.no}`);
      // A log without a request is a no-op in TF Serving too.
    }
  }
}

function modelSpecOf(spec: ModelSpec | undefined): ModelSpecRequest {
  return { name: spec?.name ?? '', signatureName: spec?.signatureName ?? '' };
}

function inputTensorsOf(request: PredictRequest | undefined) {
  return new Map(Object.entries(request?.inputs ?? {}).map(([alias, proto]) => [alias, hostTensorFromProto(proto, alias)]));
}

function exampleInputOf(input: Input | undefined): ExampleInput {
  switch (input?.kind.case) {
    case 'exampleList':
      return { examples: input.kind.value.examples };
    case 'exampleListWithContext':
      return { examples: input.kind.value.examples, context: input.kind.value.context };
    default:
      // serializeExamples answers "Input is empty.", as TF Serving does.
      return { examples: [] };
  }
}
