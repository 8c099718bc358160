/**
 * Classify and Regress: tf.Example inputs through a classification/regression signature, checked and
 * post-processed the way TF Serving's classifier.cc and regressor.cc do, with their messages. The
 * method_name check is off unless --enable_signature_method_name_check (TF Serving's default), so TF2
 * models, whose signatures all record tensorflow/serving/predict, classify and regress.
 */
import { type SignatureDef, SignatureDefSchema } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { printTextFormat } from '../../common/protobuf-text/index.js';
import { invalidArgument } from '../errors.js';
import { CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME } from '../runtime/savedmodel/signatures.js';
import { DataType, dtypeEnumName } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import type { ModelSpecRequest, ServableHandle, ServingCore } from '../core/types.js';
import { type ExampleInput, serializeExamples } from './examples.js';
import { type ResolvedModelSpec, resolvedSpec, signatureNameOf, withServable } from './model-spec.js';
import { runShadowed } from './shadowed-run.js';
import { classifyLog, regressLog } from '../payload-log/prediction-logs.js';

export const CLASSIFY_INPUTS = 'inputs';
export const CLASSIFY_OUTPUT_CLASSES = 'classes';
export const CLASSIFY_OUTPUT_SCORES = 'scores';
export const REGRESS_INPUTS = 'inputs';
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
    const result = await classifyWith(handle, signatureNameOf(request.modelSpec), serializeExamples(request.input), core.signatureMethodNameCheck ?? false);
    const log = handle.payloadLog;
    if (log?.sample()) log.write((config) => classifyLog(loggedCall(result), config, request.input, result));
    return result;
  });
}

export function regress(core: ServingCore, request: ExampleRequest): Promise<RegressResult> {
  return withServable(core, request.modelSpec, async (handle) => {
    const result = await regressWith(handle, signatureNameOf(request.modelSpec), serializeExamples(request.input), core.signatureMethodNameCheck ?? false);
    const log = handle.payloadLog;
    if (log?.sample()) log.write((config) => regressLog(loggedCall(result), config, request.input, result));
    return result;
  });
}

/** Who answered a logged call (payload logs). */
const loggedCall = ({ modelSpec }: { modelSpec: ResolvedModelSpec }) => ({ model: modelSpec.name, version: modelSpec.version, signatureName: modelSpec.signatureName });

/** PreProcessClassification: which outputs to fetch. */
export function classificationOutputs(def: SignatureDef, methodNameCheck: boolean): string[] {
  if (methodNameCheck && def.methodName !== CLASSIFY_METHOD_NAME) throw wrongMethod('classification', CLASSIFY_METHOD_NAME, def);
  const outputs = Object.keys(def.outputs).length;
  if (Object.keys(def.inputs).length !== 1) throw invalidArgument('Expected one input Tensor.');
  if (outputs !== 1 && outputs !== 2) throw invalidArgument(`Expected one or two output Tensors, found ${outputs}`);
  if (!(CLASSIFY_INPUTS in def.inputs)) throw invalidArgument(`No classification inputs found in SignatureDef: ${debugString(def)}`);
  const wanted = [CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES].filter((alias) => alias in def.outputs);
  if (wanted.length === 0) {
    throw invalidArgument(
      `Expected classification signature outputs to contain at least one of "${CLASSIFY_OUTPUT_CLASSES}" or ` +
        `"${CLASSIFY_OUTPUT_SCORES}". Signature was: ${debugString(def)}`,
    );
  }
  return wanted;
}

/** PreProcessRegression. */
export function checkRegressionSignature(def: SignatureDef, methodNameCheck: boolean): void {
  if (methodNameCheck && def.methodName !== REGRESS_METHOD_NAME) throw wrongMethod('regression', REGRESS_METHOD_NAME, def);
  if (Object.keys(def.inputs).length !== 1) throw invalidArgument('Expected one input Tensor.');
  if (Object.keys(def.outputs).length !== 1) throw invalidArgument('Expected one output Tensor.');
  if (!(REGRESS_INPUTS in def.inputs)) throw invalidArgument(`No regression inputs found in SignatureDef: ${debugString(def)}`);
  if (!(REGRESS_OUTPUT in def.outputs)) throw invalidArgument(`No regression outputs found in SignatureDef: ${debugString(def)}`);
}

/** Classification of serialized tf.Examples on an acquired servable (also used by MultiInference). */
export async function classifyWith(handle: ServableHandle, signatureName: string, examples: HostTensor, methodNameCheck: boolean): Promise<ClassifyResult> {
  const def = signatureDefOf(handle, signatureName);
  const wanted = classificationOutputs(def, methodNameCheck);
  const batch = examples.shape[0]!;
  const outputs = await runShadowed(handle, signatureName, new Map([[CLASSIFY_INPUTS, examples]]), wanted);
  const classes = outputs.get(CLASSIFY_OUTPUT_CLASSES);
  const scores = outputs.get(CLASSIFY_OUTPUT_SCORES);
  if (classes) checkClassOutput(classes, DataType.DT_STRING, 'classes', batch);
  if (scores) checkClassOutput(scores, DataType.DT_FLOAT, 'scores', batch);
  if (classes && scores && classes.shape[1] !== scores.shape[1]) {
    throw invalidArgument(`Tensors class and score should match in dim_size(1). Got ${classes.shape[1]} vs. ${scores.shape[1]}`);
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

/** Regression of serialized tf.Examples on an acquired servable (also used by MultiInference). */
export async function regressWith(handle: ServableHandle, signatureName: string, examples: HostTensor, methodNameCheck: boolean): Promise<RegressResult> {
  checkRegressionSignature(signatureDefOf(handle, signatureName), methodNameCheck);
  const batch = examples.shape[0]!;
  const outputs = await runShadowed(handle, signatureName, new Map([[REGRESS_INPUTS, examples]]), [REGRESS_OUTPUT]);
  const tensor = outputs.get(REGRESS_OUTPUT)!;
  const { shape } = tensor;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    throw invalidArgument(`Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got ${shapeString(shape)}`);
  }
  if (shape[0] !== batch) throw invalidArgument(`Input batch size did not match output batch size: ${batch} vs. ${shape[0]}`);
  if (tensor.dtype !== DataType.DT_FLOAT) throw invalidArgument(`Expected output Tensor of DT_FLOAT.  Got: ${dtypeEnumName(tensor.dtype)}`);
  return { modelSpec: resolvedSpec(handle, signatureName), regressions: Array.from(tensor.data as Float32Array) };
}

/** GetClassificationSignatureDef / GetRegressionSignatureDef's lookup. */
function signatureDefOf(handle: ServableHandle, name: string): SignatureDef {
  const def = handle.signatureDefs[name];
  if (!def) throw invalidArgument(`No signature was found with the name: ${name}`);
  return def;
}

function wrongMethod(kind: 'classification' | 'regression', expected: string, def: SignatureDef): Error {
  return invalidArgument(`Expected ${kind} signature method_name to be ${expected}. Was: ${def.methodName}`);
}

function checkClassOutput(tensor: HostTensor, dtype: DataType, name: 'classes' | 'scores', batch: number): void {
  if (tensor.shape.length !== 2) throw invalidArgument(`Expected Tensor shape: [batch_size num_classes] but got ${shapeString(tensor.shape)}`);
  if (tensor.dtype !== dtype) throw invalidArgument(`Expected ${name} Tensor of ${dtypeEnumName(dtype)}. Got: ${dtypeEnumName(tensor.dtype)}`);
  if (tensor.shape[0] !== batch) throw invalidArgument(`Expected ${name} output batch size of ${batch}. Got: ${tensor.shape[0]}`);
}

/** TensorShape::DebugString: "[2,1]". */
const shapeString = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** SignatureDef::DebugString (C++ text format), as TF Serving quotes it in errors. */
const debugString = (def: SignatureDef): string => printTextFormat(SignatureDefSchema, def);
