import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { type Client, Metadata, Server, ServerCredentials, type ServiceError, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { requirePrerequisite } from '../../../../test/support/prerequisites.js';
import { ClassificationRequestSchema } from '../../../gen/tensorflow_serving/apis/classification_pb.js';
import { GetModelMetadataRequestSchema } from '../../../gen/tensorflow_serving/apis/get_model_metadata_pb.js';
import { GetModelStatusRequestSchema, ModelVersionStatus_State } from '../../../gen/tensorflow_serving/apis/get_model_status_pb.js';
import { MultiInferenceRequestSchema } from '../../../gen/tensorflow_serving/apis/inference_pb.js';
import { ReloadConfigRequestSchema } from '../../../gen/tensorflow_serving/apis/model_management_pb.js';
import { type PredictRequest, PredictRequestSchema } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import { RegressionRequestSchema } from '../../../gen/tensorflow_serving/apis/regression_pb.js';
import { SSLConfigSchema } from '../../../gen/tensorflow_serving/config/ssl_config_pb.js';
import { Code } from '../../errors.js';
import { memoryLogger } from '../../logging.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import { grpcClient, unaryCall } from './client.js';
import { serverCredentials } from './server.js';
import { modelServiceDefinition, predictionServiceDefinition } from './service-definitions.js';
import { MODEL, type Running, VERSION, startFakeServer } from './test-support.js';

const { predict, classify, regress, multiInference, getModelMetadata } = predictionServiceDefinition;
const { getModelStatus, handleReloadConfigRequest } = modelServiceDefinition;

function predictRequest(values: number[], spec: Partial<{ name: string; signatureName: string; label: string }> = {}): PredictRequest {
  const { label, ...rest } = spec;
  return create(PredictRequestSchema, {
    modelSpec: { name: MODEL, ...rest, ...(label ? { versionChoice: { case: 'versionLabel', value: label } } : {}) },
    inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: BigInt(values.length) }] }, floatVal: values } },
  });
}

const examples = (n: number) => ({
  kind: { case: 'exampleList' as const, value: { examples: Array.from({ length: n }, () => ({})) } },
});

const rejectsWith = (code: GrpcStatus, details?: string | RegExp) => (e: ServiceError): boolean => {
  assert.equal(GrpcStatus[e.code], GrpcStatus[code], e.details);
  if (typeof details === 'string') assert.equal(e.details, details);
  else if (details) assert.match(e.details, details);
  return true;
};

/** Sends raw bytes to a method path, as a client with another (or a broken) encoder would. */
function rawCall(client: Client, path: string, bytes: Buffer): Promise<Buffer> {
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, same, same, bytes, new Metadata(), {}, (error: ServiceError | null, response?: Buffer) =>
      (error ? reject(error) : resolve(response!)));
  });
}

describe('gRPC server (fake core)', () => {
  let running: Running | undefined;
  const start = async (...args: Parameters<typeof startFakeServer>): Promise<Running> => (running = await startFakeServer(...args));
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('Predict: runs the signature and reports the resolved version and signature name', async () => {
    const { client } = await start();
    const response = await unaryCall(client, predict, predictRequest([1, 2.5]));
    assert.deepEqual(response.outputs['y']!.floatVal, [2, 5]);
    assert.deepEqual(response.outputs['y']!.tensorShape?.dim.map((d) => d.size), [2n]);
    assert.equal(response.modelSpec?.name, MODEL);
    const choice = response.modelSpec!.versionChoice;
    assert.ok(choice.case === 'version');
    assert.equal(choice.value.value, VERSION);
    assert.equal(response.modelSpec?.signatureName, 'serving_default');
    const labelled = await unaryCall(client, predict, predictRequest([1], { label: 'stable' }));
    assert.deepEqual(labelled.outputs['y']!.floatVal, [2]);
  });

  it('Classify, Regress, MultiInference and GetModelMetadata answer through the api functions', async () => {
    const { client } = await start();
    const classified = await unaryCall(client, classify, create(ClassificationRequestSchema, { modelSpec: { name: MODEL, signatureName: 'classify' }, input: examples(2) }));
    assert.deepEqual(
      classified.result?.classifications.map((c) => c.classes.map((k) => [k.label, k.score])),
      [[['a', 0], ['b', 0.5]], [['a', 1], ['b', 1.5]]],
    );
    assert.equal(classified.modelSpec?.signatureName, 'classify');
    const regressed = await unaryCall(client, regress, create(RegressionRequestSchema, { modelSpec: { name: MODEL, signatureName: 'regress' }, input: examples(3) }));
    assert.deepEqual(regressed.result?.regressions.map((r) => r.value), [0, 1, 2]);
    const multi = await unaryCall(client, multiInference, create(MultiInferenceRequestSchema, {
      tasks: [
        { modelSpec: { name: MODEL, signatureName: 'classify' }, methodName: 'tensorflow/serving/classify' },
        { modelSpec: { name: MODEL, signatureName: 'regress' }, methodName: 'tensorflow/serving/regress' },
      ],
      input: examples(1),
    }));
    assert.deepEqual(multi.results.map((r) => [r.modelSpec?.signatureName, r.result.case]), [['classify', 'classificationResult'], ['regress', 'regressionResult']]);
    const metadata = await unaryCall(client, getModelMetadata, create(GetModelMetadataRequestSchema, { modelSpec: { name: MODEL }, metadataField: ['signature_def'] }));
    assert.equal(metadata.metadata['signature_def']?.typeUrl, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
  });

  it('GetModelStatus: every version, or the one asked for; a label does not narrow it (as TF Serving)', async () => {
    const { client } = await start();
    const all = await unaryCall(client, getModelStatus, create(GetModelStatusRequestSchema, { modelSpec: { name: MODEL } }));
    assert.deepEqual(
      all.modelVersionStatus.map((v) => [v.version, ModelVersionStatus_State[v.state], v.status?.errorCode, v.status?.errorMessage]),
      [[7n, 'AVAILABLE', 0, ''], [6n, 'END', Code.DATA_LOSS, 'corrupt checkpoint']],
    );
    const one = await unaryCall(client, getModelStatus, create(GetModelStatusRequestSchema, {
      modelSpec: { name: MODEL, versionChoice: { case: 'version', value: { value: 6n } } },
    }));
    assert.deepEqual(one.modelVersionStatus.map((v) => v.version), [6n]);
    const labelled = await unaryCall(client, getModelStatus, create(GetModelStatusRequestSchema, {
      modelSpec: { name: MODEL, versionChoice: { case: 'versionLabel', value: 'stable' } },
    }));
    assert.equal(labelled.modelVersionStatus.length, 2);
    await assert.rejects(
      unaryCall(client, getModelStatus, create(GetModelStatusRequestSchema, { modelSpec: { name: MODEL, versionChoice: { case: 'version', value: { value: 5n } } } })),
      rejectsWith(GrpcStatus.NOT_FOUND, 'Could not find version 5 of model m'),
    );
    await assert.rejects(unaryCall(client, getModelStatus, create(GetModelStatusRequestSchema, {})), rejectsWith(GrpcStatus.INVALID_ARGUMENT, 'Missing ModelSpec'));
  });

  it('HandleReloadConfigRequest: OK status on success; a refused reload fails the call with its code and message', async () => {
    const { client, core } = await start();
    const config = (name: string) => create(ReloadConfigRequestSchema, {
      config: { config: { case: 'modelConfigList', value: { config: [{ name, basePath: '/models/x', modelPlatform: 'tensorflow' }] } } },
    });
    const ok = await unaryCall(client, handleReloadConfigRequest, config('x'));
    assert.deepEqual([ok.status?.errorCode, ok.status?.errorMessage], [0, '']);
    assert.deepEqual(core.reloads.map((l) => l.config.map((c) => c.name)), [['x']]);
    await assert.rejects(
      unaryCall(client, handleReloadConfigRequest, config('bad')),
      rejectsWith(GrpcStatus.FAILED_PRECONDITION, 'Request to assign label to version 9 of model bad, which is not currently available for inference'),
    );
    await assert.rejects(unaryCall(client, handleReloadConfigRequest, create(ReloadConfigRequestSchema, {})), rejectsWith(GrpcStatus.INVALID_ARGUMENT));
    assert.equal(core.reloads.length, 1);
  });

  it('maps errors: ServingError codes as they are, unexpected errors INTERNAL (and logged)', async () => {
    const logger = memoryLogger();
    const { client } = await start({ logger });
    await assert.rejects(unaryCall(client, predict, predictRequest([1], { name: 'nope' })), rejectsWith(GrpcStatus.NOT_FOUND, 'Servable not found for request: Latest(nope)'));
    await assert.rejects(unaryCall(client, predict, predictRequest([1], { label: 'canary' })), rejectsWith(GrpcStatus.INVALID_ARGUMENT, 'Unrecognized servable version label: canary'));
    await assert.rejects(unaryCall(client, predict, predictRequest([1], { signatureName: 'nope' })), rejectsWith(GrpcStatus.FAILED_PRECONDITION, 'Serving signature key "nope" not found.'));
    await assert.rejects(unaryCall(client, predict, create(PredictRequestSchema, {})), rejectsWith(GrpcStatus.INVALID_ARGUMENT, 'Missing ModelSpec'));
    await assert.rejects(unaryCall(client, predict, predictRequest([1], { signatureName: 'boom' })), rejectsWith(GrpcStatus.INTERNAL, 'engine exploded'));
    assert.ok(logger.events.some((e) => e.event === 'grpc_unexpected_error' && e['api'] === 'predict'));
  });

  it('answers a truncated request with INVALID_ARGUMENT and keeps serving', async () => {
    const { client } = await start();
    const bytes = Buffer.from(toBinary(PredictRequestSchema, predictRequest([1, 2, 3])));
    await assert.rejects(
      rawCall(client, predict.path, bytes.subarray(0, bytes.length - 4)),
      rejectsWith(GrpcStatus.INVALID_ARGUMENT, /^Could not parse the request as tensorflow\.serving\.PredictRequest: /),
    );
    const response = predict.responseDeserialize(await rawCall(client, predict.path, bytes));
    assert.deepEqual(response.outputs['y']!.floatVal, [2, 4, 6]);
  });

  it('(why the decoder does not throw) grpc-js answers a throwing deserializer with INTERNAL and no reason', async () => {
    const server = new Server();
    const throwing = {
      ...predict,
      requestDeserialize: (): never => {
        throw new Error('premature EOF');
      },
    };
    server.addService({ predict: throwing }, { predict: (_call: unknown, callback: (e: null, r: Buffer) => void) => callback(null, Buffer.alloc(0)) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const client = grpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      await assert.rejects(rawCall(client, predict.path, Buffer.from([0x0a])), (e: ServiceError) => {
        assert.equal(e.code, GrpcStatus.INTERNAL);
        assert.equal(e.details, process.env['GRPC_NODE_DEBUG_SEND_ERROR_DETAILS'] ? 'Error deserializing request: premature EOF' : 'Error deserializing request');
        return true;
      });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('reports every call to the observer: model, API label, GRPC, status code, latency', async () => {
    const { client, events } = await start();
    await unaryCall(client, predict, predictRequest([1]));
    await assert.rejects(unaryCall(client, predict, predictRequest([1], { name: 'nope' })));
    await assert.rejects(rawCall(client, predict.path, Buffer.from([0x0a, 0x05])));
    await unaryCall(client, getModelStatus, create(GetModelStatusRequestSchema, { modelSpec: { name: MODEL } }));
    assert.deepEqual(events.map((e) => [e.model, e.api, e.entrypoint, e.status]), [
      [MODEL, 'predict', 'GRPC', Code.OK],
      ['nope', 'predict', 'GRPC', Code.NOT_FOUND],
      ['', 'predict', 'GRPC', Code.INVALID_ARGUMENT],
      [MODEL, 'get_model_status', 'GRPC', Code.OK],
    ]);
    assert.ok(events.every((e) => Number.isInteger(e.latencyMicros) && e.latencyMicros >= 0));
  });

  it('takes and returns messages far over gRPC\'s default 4 MiB limit', async () => {
    const { client } = await start();
    const n = 2_000_000; // 8 MB of floats each way
    const response = await unaryCall(client, predict, predictRequest(Array.from({ length: n }, (_, i) => i % 7)));
    assert.equal(response.outputs['y']!.floatVal.length, n);
    assert.equal(response.outputs['y']!.floatVal[n - 1], 2 * ((n - 1) % 7));
  });

  it('close(): calls in flight finish; after the grace period the rest are cut', async () => {
    const { client, core, server } = await start({ shutdownGraceMs: 5000 });
    let release!: () => void;
    core.slow = new Promise((resolve) => (release = resolve));
    const inFlight = unaryCall(client, predict, predictRequest([3], { signatureName: 'slow' }));
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close();
    setTimeout(release, 50);
    assert.deepEqual((await inFlight).outputs['y']!.floatVal, [6]);
    await closed;

    const second = await startFakeServer({ shutdownGraceMs: 100 });
    try {
      second.core.slow = new Promise(() => undefined);
      const stuck = unaryCall(second.client, predict, predictRequest([3], { signatureName: 'slow' }));
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await second.server.close();
      assert.ok(Date.now() - started < 2000);
      await assert.rejects(stuck, (e: ServiceError) => e.code !== GrpcStatus.OK);
    } finally {
      second.client.close();
    }
  });

  describe('TLS (SSLConfig)', () => {
    const openssl = requirePrerequisite('openssl', 'install openssl (apt-get install openssl)', () => execFileSync('openssl', ['version'], { encoding: 'utf8' }));
    let dir: string | undefined;
    let pem: Record<'ca' | 'serverKey' | 'serverCert' | 'clientKey' | 'clientCert', string>;

    before(function () {
      if (openssl.skipReason) {
        console.warn(`skipping: ${openssl.skipReason}`);
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'tfmodel-grpc-tls-'));
      const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca');
      writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
      for (const who of ['server', 'client']) {
        run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'client'}`);
        run('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', 'san.ext');
      }
      const read = (name: string): string => readFileSync(join(dir!, name), 'utf8');
      pem = { ca: read('ca.crt'), serverKey: read('server.key'), serverCert: read('server.crt'), clientKey: read('client.key'), clientCert: read('client.crt') };
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('serves over TLS with server_key/server_cert; a plaintext client cannot call', async () => {
      const ssl = create(SSLConfigSchema, { serverKey: pem.serverKey, serverCert: pem.serverCert });
      const { client, port } = await start({ ssl }, credentials.createSsl(Buffer.from(pem.ca)));
      assert.deepEqual((await unaryCall(client, predict, predictRequest([1]))).outputs['y']!.floatVal, [2]);
        const plain = grpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
      try {
        await assert.rejects(unaryCall(plain, predict, predictRequest([1]), { deadline: Date.now() + 3000 }), (e: ServiceError) => e.code !== GrpcStatus.OK);
      } finally {
        plain.close();
      }
    });

    it('client_verify requires a client certificate signed by custom_ca', async () => {
      const ssl = create(SSLConfigSchema, { serverKey: pem.serverKey, serverCert: pem.serverCert, customCa: pem.ca, clientVerify: true });
      const withCert = credentials.createSsl(Buffer.from(pem.ca), Buffer.from(pem.clientKey), Buffer.from(pem.clientCert));
      const { client, port } = await start({ ssl }, withCert);
      assert.deepEqual((await unaryCall(client, predict, predictRequest([2]))).outputs['y']!.floatVal, [4]);
        const noCert = grpcClient(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(pem.ca)), { 'grpc.ssl_target_name_override': 'localhost' });
      try {
        await assert.rejects(unaryCall(noCert, predict, predictRequest([1]), { deadline: Date.now() + 3000 }), (e: ServiceError) => e.code !== GrpcStatus.OK);
      } finally {
        noCert.close();
      }
    });

    it('rejects an SSLConfig without key or certificate', () => {
      assert.throws(() => serverCredentials(create(SSLConfigSchema, { serverCert: pem.serverCert })), /server_key and server_cert/);
    });
  });
});
