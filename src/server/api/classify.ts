/**
 * Classify and Regress: tf.Example inputs through a classification/regression signature, checked and
 * post-processed the way TF Serving's classifier.cc and regressor.cc do.
 */
import { invalidArgument } from '../errors.js';
import type { SignatureInfo } from '../runtime/savedmodel/signatures.js';
import { CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME } from '../runtime/savedmodel/signatures.js';
import { DataType, numpyName } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import type { ModelSpecRequest, ServableHandle, ServingCore } from '../core/types.js';
import { type ExampleInput, serializeExamples } from './examples.js';
import { classifyLog, regressLog } from '../payload-log/prediction-logs.js';
import { type ResolvedModelSpec, findServingSignature, inferenceAttributes, resolvedSpec, signatureNameOf, withServable } from './model-spec.js';
import { withChildSpan } from '../tracing/tracing.js';

export const CLASSIFY_OUTPUT_CLASSES = 'classes';
export const CLASSIFY_OUTPUT_SCORES = 'scores';
export const REGRESS_OUTPUT = 'outputs';

export interface ExampleRequest {
  readonly modelSpec: ModelSpecRequest;
  readonly input: ExampleInput;
}

export interface ClassEntry {
  readonly label: string;
  readonly score: number;
}

export interface ClassifyResult {
  readonly modelSpec: ResolvedModelSpec;
  /** Per example, its classes. */
  readonly classifications: ClassEntry[][];
}

export interface RegressResult {
  readonly modelSpec: ResolvedModelSpec;
  /** Per example. */
  readonly regressions: number[];
}

export function classify(core: ServingCore, request: ExampleRequest): Promise<ClassifyResult> {
  return withServable(core, request.modelSpec, async (handle) => {
    const result = await classifyWith(handle, signatureNameOf(request.modelSpec), request.input);
    const log = handle.payloadLog;
    if (log?.sample()) log.write((config) => classifyLog(loggedCall(result), config, request.input, result));
    return result;
  });
}

export function regress(core: ServingCore, request: ExampleRequest): Promise<RegressResult> {
  return withServable(core, request.modelSpec, async (handle) => {
    const result = await regressWith(handle, signatureNameOf(request.modelSpec), request.input);
    const log = handle.payloadLog;
    if (log?.sample()) log.write((config) => regressLog(loggedCall(result), config, request.input, result));
    return result;
  });
}

const loggedCall = ({ modelSpec }: { modelSpec: ResolvedModelSpec }) => ({ model: modelSpec.name, version: modelSpec.version, signatureName: modelSpec.signatureName });

/** Classification on an acquired servable (also used by MultiInference). */
export async function classifyWith(handle: ServableHandle, signatureName: string, input: ExampleInput | HostTensor): Promise<ClassifyResult> {
  const signature = findServingSignature(handle, signatureName);
  if (signature.methodName !== CLASSIFY_METHOD_NAME) {
    throw invalidArgument(`Expected classification signature method_name to be ${CLASSIFY_METHOD_NAME}. Was: ${signature.methodName}`);
  }
  checkSingleInput(signature);
  if (signature.outputs.length !== 1 && signature.outputs.length !== 2) {
    throw invalidArgument(`Expected one or two output Tensors, found ${signature.outputs.length}`);
  }
  const hasClasses = signature.outputs.some((o) => o.alias === CLASSIFY_OUTPUT_CLASSES);
  const hasScores = signature.outputs.some((o) => o.alias === CLASSIFY_OUTPUT_SCORES);
  if (!hasClasses && !hasScores) {
    throw invalidArgument(
      `Expected classification signature outputs to contain at least one of ${CLASSIFY_OUTPUT_CLASSES} or ${CLASSIFY_OUTPUT_SCORES}.`,
    );
  }
  const examples = exampleTensor(input);
  const batch = examples.shape[0]!;
  const outputs = await withChildSpan('inference', () => inferenceAttributes(handle, signatureName), () => handle.engine.run({
    signature: signatureName,
    inputs: new Map([[signature.inputs[0]!.alias, examples]]),
    outputFilter: [...(hasClasses ? [CLASSIFY_OUTPUT_CLASSES] : []), ...(hasScores ? [CLASSIFY_OUTPUT_SCORES] : [])],
  }));
  const classes = outputs.get(CLASSIFY_OUTPUT_CLASSES);
  const scores = outputs.get(CLASSIFY_OUTPUT_SCORES);
  if (classes) checkRank2(classes, DataType.DT_STRING, 'classes', batch);
  if (scores) checkRank2(scores, DataType.DT_FLOAT, 'scores', batch);
  if (classes && scores && classes.shape[1] !== scores.shape[1]) {
    throw invalidArgument(`Tensors class and score should match in dim[1]. Got ${classes.shape[1]} vs. ${scores.shape[1]}`);
  }
  const numClasses = (classes ?? scores)!.shape[1]!;
  const labels = classes?.data as Uint8Array[] | undefined;
  const values = scores?.data as Float32Array | undefined;
  const decoder = new TextDecoder();
  const classifications: ClassEntry[][] = [];
  for (let i = 0; i < batch; i++) {
    const row: ClassEntry[] = [];
    for (let c = 0; c < numClasses; c++) {
      const k = i * numClasses + c;
      row.push({ label: labels ? decoder.decode(labels[k]) : '', score: values ? values[k]! : 0 });
    }
    classifications.push(row);
  }
  return { modelSpec: resolvedSpec(handle, signatureName), classifications };
}

export async function regressWith(handle: ServableHandle, signatureName: string, input: ExampleInput | HostTensor): Promise<RegressResult> {
  const signature = findServingSignature(handle, signatureName);
  if (signature.methodName !== REGRESS_METHOD_NAME) {
    throw invalidArgument(`Expected regression signature method_name to be ${REGRESS_METHOD_NAME}. Was: ${signature.methodName}`);
  }
  checkSingleInput(signature);
  if (signature.outputs.length !== 1) throw invalidArgument(`Expected one output Tensor.`);
  if (signature.outputs[0]!.alias !== REGRESS_OUTPUT) {
    throw invalidArgument(`No regression outputs found in signature: expected "${REGRESS_OUTPUT}"`);
  }
  const examples = exampleTensor(input);
  const batch = examples.shape[0]!;
  const outputs = await withChildSpan('inference', () => inferenceAttributes(handle, signatureName), () =>
    handle.engine.run({ signature: signatureName, inputs: new Map([[signature.inputs[0]!.alias, examples]]) }));
  const tensor = outputs.get(REGRESS_OUTPUT)!;
  if (tensor.dtype !== DataType.DT_FLOAT) throw invalidArgument(`Expected output Tensor of DT_FLOAT.  Got: ${numpyName(tensor.dtype)}`);
  const shapeOk = (tensor.shape.length === 1 || (tensor.shape.length === 2 && tensor.shape[1] === 1)) && tensor.shape[0] === batch;
  if (!shapeOk) {
    throw invalidArgument(`Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [${tensor.shape.join(',')}]`);
  }
  return { modelSpec: resolvedSpec(handle, signatureName), regressions: Array.from(tensor.data as Float32Array) };
}

function checkSingleInput(signature: SignatureInfo): void {
  if (signature.inputs.length !== 1) throw invalidArgument('Expected one input Tensor.');
}

function exampleTensor(input: ExampleInput | HostTensor): HostTensor {
  return 'examples' in input ? serializeExamples(input) : input;
}

function checkRank2(tensor: HostTensor, dtype: DataType, name: string, batch: number): void {
  if (tensor.dtype !== dtype) throw invalidArgument(`Expected ${name} Tensor of ${numpyName(dtype)}.  Got: ${numpyName(tensor.dtype)}`);
  if (tensor.shape.length !== 2) {
    throw invalidArgument(`Expected Tensor shape: [batch_size num_classes] but got [${tensor.shape.join(',')}]`);
  }
  if (tensor.shape[0] !== batch) throw invalidArgument(`Expected ${name} output batch size of ${batch}, got ${tensor.shape[0]}`);
}
