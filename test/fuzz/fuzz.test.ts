/**
 * The short seeded fuzz run CI makes (issue 7): every campaign against one real server (with the
 * corpus' string and image models; CI=true fails without the corpus), failing on any crash, hang,
 * 5xx / INTERNAL / UNKNOWN / DATA_LOSS for a client's error, REST error without TF Serving's
 * {"error"} body, good request lost or answered other than TensorFlow, or case answered
 * differently when sent twice. Longer runs:
 * `npm run fuzz -- --seed N --cases N` (docs/hostile-input.md).
 */
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema, PredictResponseSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { tensorFromProto } from '../../src/server/runtime/tensor/host-tensor.js';
import { decodeTensor, decodeTensors } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';
import { type CampaignResult, FuzzServer, corruptVersionCampaign, floodCampaign, grpcCampaign, reloadFaultCampaign, renderTable, restCampaign } from './campaigns.js';
import { RestClient, grpcRaw } from './clients.js';
import { restChecks } from './good-requests.js';

const SEED = Number(process.env['TFMODEL_FUZZ_SEED'] ?? 7);

describe(`fuzz campaigns, short seeded run (seed ${SEED})`, function () {
  this.timeout(600_000);
  let server: FuzzServer;
  const results: CampaignResult[] = [];

  before(async () => {
    server = await FuzzServer.start();
  });
  const concurrency = 4;
  after(async () => {
    await server?.stop();
    if (results.length > 0) process.stdout.write(`${renderTable(results)}\n`);
  });

  const check = (result: CampaignResult): void => {
    results.push(result);
    assert.deepEqual(result.findings, [], `${result.campaign} (seed ${SEED}):\n${result.findings.join('\n')}`);
    assert.equal(result.crashes + result.hangs + result.serverErrors + result.lost + result.nondeterministic, 0);
  };

  it('gRPC reproducer of seed 202 case 1470: shape [2^31] int64 from one value is refused, not allocated (the server was OOM-killed)', async () => {
    const bytes = Buffer.from('CgcKBWhhbGYAEh4KAXgSGQgJEggSBgiAgICACFILAf///////////wEaBG5vcGU=', 'base64');
    const named = Buffer.from('CgYKBGhhbGYSHgoBeBIZCAkSCBIGCICAgIAIUgsB////////////AQ==', 'base64');
    for (const request of [bytes, named]) {
      const reply = await grpcRaw(server.channel, '/tensorflow.serving.PredictionService/Predict', request);
      assert.notEqual(reply.code, 4, 'no deadline exceeded');
      assert.ok(server.alive);
    }
    const reply = await grpcRaw(server.channel, '/tensorflow.serving.PredictionService/Predict', named);
    assert.equal(reply.code, 8, reply.details); // RESOURCE_EXHAUSTED
  });

  it('gRPC reproducer of seed 1 case 14499: int64 shape [3,3,2^62,0] (no values, its running product overflows) is refused with TensorShape\'s message (TensorFlow\'s CHECK aborted the process)', async () => {
    const bytes = Buffer.from('CgcKBWludDY0Ei0KAXgSKAgJEhYSAggDEgIIAxIKCICAgICAgICAQBIAKgwAAMA/nsl/fwfJAIA=', 'base64');
    const reply = await grpcRaw(server.channel, '/tensorflow.serving.PredictionService/Predict', bytes);
    assert.ok(server.alive, 'the server is alive');
    assert.equal(reply.code, 3, reply.details); // INVALID_ARGUMENT
    assert.match(reply.details, /Encountered overflow when multiplying 9 with 4611686018427387904/);
  });

  it('gRPC reproducer of seed 1 case 2318: 1e6 string_val (7 MB) into TextVectorization is answered, every row TensorFlow\'s value (12-15 s alone, no answer in 30 s under load)', async function () {
    const text = server.media.find((m) => m.name === 'text');
    const kase = text?.goodCases.find((c) => Object.values(c.inputs)[0]!.shape.join() === '1,1' && Object.values(c.inputs)[0]!.values[0] !== '');
    if (!text || !kase) this.skip();
    const [[alias, one]] = [...decodeTensors(kase.inputs)];
    const count = 1_000_000;
    const stringVal = new Array<Uint8Array>(count).fill((one!.data as Uint8Array[])[0]!);
    const request = create(PredictRequestSchema, {
      modelSpec: { name: 'text', signatureName: kase.signature },
      inputs: { [alias!]: { dtype: DataType.DT_STRING, tensorShape: { dim: [{ size: BigInt(count) }, { size: 1n }] }, stringVal } },
    });
    const reply = await grpcRaw(server.channel, '/tensorflow.serving.PredictionService/Predict', Buffer.from(toBinary(PredictRequestSchema, request)));
    assert.ok(server.alive, 'the server is alive');
    assert.equal(reply.code, 0, reply.details);
    const outputs = fromBinary(PredictResponseSchema, reply.bytes!).outputs;
    for (const [name, json] of Object.entries(kase.outputs)) {
      const want = decodeTensor(json);
      const row = want.data as Float32Array;
      const tiled = new Float32Array(count * row.length);
      for (let i = 0; i < count; i++) tiled.set(row, i * row.length);
      const got = tensorFromProto(outputs[name]!);
      assert.equal(describeMismatch(got, { dtype: want.dtype, shape: [count, ...want.shape.slice(1)], data: tiled }, text.corpus.rtol, text.corpus.atol), undefined, name);
    }
  });

  it('REST reproducer of seed 9 case 58: a rank-1 tensor into an image model\'s rank-4 input is refused with 400 (on the native engine, oneDNN\'s Conv2D aborted the process), and valid images answer after it', async function () {
    if (!server.media.some((m) => m.name === 'u8img')) this.skip();
    const client = new RestClient(server.rest, 1);
    for (const model of ['u8img', 'img']) {
      for (const body of ['{"inputs":[1,2,3]}', '{"instances":[1]}']) {
        const reply = await client.post(`/v1/models/${model}:predict`, body);
        assert.ok(server.alive, `the server is alive after ${model} ${body}`);
        assert.equal(reply.status, 400, `${model} ${body}: ${reply.body.slice(0, 300)}`);
        assert.match(reply.body, /must be 4-dimensional/);
      }
    }
    for (const good of restChecks(server, client).filter((c) => /u8img|img/.test(c.name))) assert.equal(await good.run(), undefined, good.name);
    client.close();
  });

  it('REST: 2000 mutated requests (JSON, paths, headers, encodings, bytes, bombs, OIP; strings and images)', async () => check(await restCampaign(server, SEED, 2000, { concurrency })));
  it('gRPC: 1000 mutated messages (dtypes, shapes, tensor_content, huge dims, random bytes; strings and images)', async () => check(await grpcCampaign(server, SEED, 1000, { concurrency })));
  it('corrupt versions dropped into the polled base paths while version 123 is asked', async () => check(await corruptVersionCampaign(server, SEED, 16)));
  it('faulty reloads: the served models keep answering', async () => check(await reloadFaultCampaign(server, SEED, 15)));
  it('connection floods (half-sent headers, garbage, connect-and-close)', async () => check(await floodCampaign(server, SEED, 2)));
});
