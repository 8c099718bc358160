import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ExampleSchema } from '../../../gen/tensorflow/core/example/example_pb.js';
import { Code as TfCode } from '../../../gen/tensorflow/core/protobuf/error_codes_pb.js';
import { SignatureDefMapSchema } from '../../../gen/tensorflow_serving/apis/get_model_metadata_pb.js';
import { ModelVersionStatus_State } from '../../../gen/tensorflow_serving/apis/get_model_status_pb.js';
import { InferenceTaskSchema } from '../../../gen/tensorflow_serving/apis/inference_pb.js';
import { InputSchema } from '../../../gen/tensorflow_serving/apis/input_pb.js';
import { ModelSpecSchema } from '../../../gen/tensorflow_serving/apis/model_pb.js';
import { PredictRequestSchema, PredictResponseSchema } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import { VersionState } from '../../core/types.js';
import { Code, ServingError, dataLoss } from '../../errors.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import { MalformedRequest, decoder, encoder } from './codec.js';
import { exampleInput, inferenceTasks, modelSpecRequest, predictInput, requiredModelSpec } from './requests.js';
import {
  classificationResponse,
  metadataResponse,
  modelSpecProto,
  modelStatusResponse,
  multiInferenceResponse,
  predictResponse,
  regressionResponse,
  statusProto,
} from './responses.js';
import { healthServiceDefinition, modelServiceDefinition, predictionServiceDefinition } from './service-definitions.js';
import { SIGNATURE_DEFS } from './test-support.js';

const resolved = { name: 'm', version: 7n, signatureName: 'serving_default' };

describe('gRPC service definitions and codec', () => {
  it('use TF Serving\'s method paths', () => {
    assert.deepEqual(Object.values(predictionServiceDefinition).map((m) => m.path), [
      '/tensorflow.serving.PredictionService/Classify',
      '/tensorflow.serving.PredictionService/Regress',
      '/tensorflow.serving.PredictionService/Predict',
      '/tensorflow.serving.PredictionService/MultiInference',
      '/tensorflow.serving.PredictionService/GetModelMetadata',
    ]);
    assert.deepEqual(Object.values(modelServiceDefinition).map((m) => m.path), [
      '/tensorflow.serving.ModelService/GetModelStatus',
      '/tensorflow.serving.ModelService/HandleReloadConfigRequest',
    ]);
    assert.deepEqual(
      Object.values(healthServiceDefinition).map((m) => [m.path, m.requestStream, m.responseStream]),
      [['/grpc.health.v1.Health/Check', false, false], ['/grpc.health.v1.Health/Watch', false, true]],
    );
  });

  it('decodes what it encodes, and hands over malformed bytes as INVALID_ARGUMENT instead of throwing', () => {
    const request = create(PredictRequestSchema, { modelSpec: { name: 'm' }, outputFilter: ['y'] });
    const bytes = encoder(PredictRequestSchema)(request);
    assert.ok(Buffer.isBuffer(bytes));
    assert.deepEqual(decoder(PredictRequestSchema)(bytes), request);
    const decoded = decoder(PredictRequestSchema)(bytes.subarray(0, bytes.length - 2));
    assert.ok(decoded instanceof MalformedRequest);
    assert.equal(decoded.error.code, Code.INVALID_ARGUMENT);
    assert.match(decoded.error.message, /^Could not parse the request as tensorflow\.serving\.PredictRequest: /);
  });
});

describe('gRPC request conversions', () => {
  it('reads ModelSpec version, label or neither; a missing ModelSpec is INVALID_ARGUMENT', () => {
    const spec = (init: Parameters<typeof create<typeof ModelSpecSchema>>[1]) => create(ModelSpecSchema, init);
    assert.deepEqual(modelSpecRequest(spec({ name: 'm', versionChoice: { case: 'version', value: { value: 3n } }, signatureName: 's' })), {
      name: 'm', version: 3n, signatureName: 's',
    });
    assert.deepEqual(modelSpecRequest(spec({ name: 'm', versionChoice: { case: 'versionLabel', value: 'stable' } })), {
      name: 'm', label: 'stable', signatureName: '',
    });
    assert.deepEqual(modelSpecRequest(spec({ name: 'm' })), { name: 'm', signatureName: '' });
    assert.throws(() => requiredModelSpec(undefined), (e) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && e.message === 'Missing ModelSpec');
  });

  it('decodes Predict inputs into host tensors, naming a bad one', () => {
    const input = predictInput(create(PredictRequestSchema, {
      modelSpec: { name: 'm' },
      inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 2n }] }, floatVal: [1, 2] } },
      outputFilter: ['y'],
    }));
    assert.deepEqual(input.modelSpec, { name: 'm', signatureName: '' });
    assert.deepEqual(input.outputFilter, ['y']);
    const x = input.inputs.get('x')!;
    assert.deepEqual([x.dtype, x.shape, Array.from(x.data as Float32Array)], [DataType.DT_FLOAT, [2], [1, 2]]);
    assert.throws(
      () => predictInput(create(PredictRequestSchema, {
        modelSpec: { name: 'm' },
        inputs: { bad: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 2n }] }, tensorContent: new Uint8Array(3) } },
      })),
      (e) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && /bad/.test(e.message),
    );
  });

  it('reads example lists with and without context; nothing is an empty list', () => {
    const example = create(ExampleSchema, {});
    assert.deepEqual(exampleInput(create(InputSchema, { kind: { case: 'exampleList', value: { examples: [example] } } })), { examples: [example] });
    const withContext = exampleInput(create(InputSchema, { kind: { case: 'exampleListWithContext', value: { examples: [example], context: example } } }));
    assert.deepEqual(withContext, { examples: [example], context: example });
    assert.deepEqual(exampleInput(undefined), { examples: [] });
    assert.deepEqual(exampleInput(create(InputSchema, {})), { examples: [] });
  });

  it('reads MultiInference tasks; a task without ModelSpec gets the empty one (as TF Serving)', () => {
    const tasks = inferenceTasks([
      create(InferenceTaskSchema, { modelSpec: { name: 'm', signatureName: 'c' }, methodName: 'tensorflow/serving/classify' }),
      create(InferenceTaskSchema, { methodName: 'tensorflow/serving/regress' }),
    ]);
    assert.deepEqual(tasks, [
      { modelSpec: { name: 'm', signatureName: 'c' }, methodName: 'tensorflow/serving/classify' },
      { modelSpec: { name: '' }, methodName: 'tensorflow/serving/regress' },
    ]);
  });
});

describe('gRPC response conversions', () => {
  it('report the resolved version as an Int64Value and the signature run', () => {
    const spec = modelSpecProto('m', 7n, 'serving_default');
    assert.equal(spec.versionChoice.case, 'version');
    assert.equal(spec.versionChoice.value?.value, 7n);
    assert.equal(spec.signatureName, 'serving_default');
    // On the wire: field 2 is a message (Int64Value), not a plain int64.
    assert.deepEqual([...toBinary(ModelSpecSchema, modelSpecProto('', 7n))], [0x12, 0x02, 0x08, 0x07]);
  });

  it('Predict: outputs as typed TensorProtos, keyed by alias', () => {
    const response = predictResponse({
      modelSpec: resolved,
      outputs: new Map([['y', { dtype: DataType.DT_FLOAT, shape: [2, 1], data: Float32Array.from([2.5, 3]) }]]),
    });
    const back = fromBinary(PredictResponseSchema, toBinary(PredictResponseSchema, response));
    assert.equal(back.modelSpec?.name, 'm');
    const y = back.outputs['y']!;
    assert.deepEqual([y.dtype, y.tensorShape?.dim.map((d) => d.size), y.floatVal], [DataType.DT_FLOAT, [2n, 1n], [2.5, 3]]);
  });

  it('Classify, Regress and MultiInference: one entry per example', () => {
    const classes = [[{ label: 'a', score: 0.25 }, { label: 'b', score: 0.75 }]];
    const classification = classificationResponse({ modelSpec: resolved, classifications: classes });
    assert.deepEqual(classification.result?.classifications.map((c) => c.classes.map(({ label, score }) => [label, score])), [[['a', 0.25], ['b', 0.75]]]);
    const regression = regressionResponse({ modelSpec: resolved, regressions: [1.5, 2] });
    assert.deepEqual(regression.result?.regressions.map((r) => r.value), [1.5, 2]);
    const multi = multiInferenceResponse([
      { kind: 'classification', modelSpec: { ...resolved, signatureName: 'c' }, classifications: classes },
      { kind: 'regression', modelSpec: { ...resolved, signatureName: 'r' }, regressions: [4] },
    ]);
    assert.deepEqual(multi.results.map((r) => [r.modelSpec?.signatureName, r.result.case]), [['c', 'classificationResult'], ['r', 'regressionResult']]);
  });

  it('GetModelMetadata: metadata["signature_def"] is an Any packing a SignatureDefMap; no signature name', () => {
    const response = metadataResponse({ name: 'm', version: 7n, signatureDefs: SIGNATURE_DEFS });
    assert.equal(response.modelSpec?.signatureName, '');
    assert.deepEqual([response.modelSpec?.name, response.modelSpec?.versionChoice.case], ['m', 'version']);
    const any = response.metadata['signature_def']!;
    assert.equal(any.typeUrl, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const map = anyUnpack(any, SignatureDefMapSchema)!;
    assert.deepEqual(Object.keys(map.signatureDef), ['serving_default']);
    assert.equal(map.signatureDef['serving_default']!.methodName, 'tensorflow/serving/predict');
  });

  it('GetModelStatus: states and StatusProto (OK with an empty message, or the load error)', () => {
    const response = modelStatusResponse({
      name: 'm',
      basePath: '/m',
      labels: new Map(),
      versions: [{ version: 2n, state: VersionState.AVAILABLE }, { version: 1n, state: VersionState.END, error: dataLoss('bad') }],
    });
    assert.deepEqual(
      response.modelVersionStatus.map((v) => [v.version, v.state, v.status?.errorCode, v.status?.errorMessage]),
      [[2n, ModelVersionStatus_State.AVAILABLE, TfCode.OK, ''], [1n, ModelVersionStatus_State.END, TfCode.DATA_LOSS, 'bad']],
    );
    assert.deepEqual([statusProto().errorCode, statusProto().errorMessage], [TfCode.OK, '']);
  });
});
