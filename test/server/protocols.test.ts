/**
 * The shared protocol case table (test/server/protocols/cases.ts) through every transport of one
 * real tfmodel-server, each driven by a real client nobody here wrote: TF Serving's REST API
 * (requests) and gRPC API (tensorflow-serving-api), and the Open Inference Protocol's REST and gRPC
 * with tritonclient (binary tensor data and JSON) and KServe's Python SDK. Every transport must
 * give the same outputs, or the same error (gRPC code; its HTTP status on REST).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { httpStatusOf } from '../../src/server/transports/rest/index.js';
import { Code } from '../../src/server/errors.js';
import { REPO_ROOT } from '../support/corpus.js';
import { oipClientsPython } from '../support/oip-clients.js';
import { ServerProcess } from '../support/server-process.js';
import { HALF_PLUS_TWO_2_VERSIONS_BASE, INT64_TIMES_SIX, servingTestModels } from '../support/test-models.js';
import { oraclePython } from '../support/tf-oracle.js';
import { type CaseTensor, PROTOCOL_CASES, type ProtocolCase } from './protocols/cases.js';

interface Result {
  readonly outputs?: Record<string, { datatype?: string; shape: number[]; values: Array<number | string> }>;
  readonly model_version?: string;
  readonly error?: { status: string; message: string };
  readonly skipped?: string;
}
type Results = Record<string, Record<string, Result>>;

const SCRIPTS = join(REPO_ROOT, 'test', 'server', 'protocols');
const REST_CLIENTS = new Set(['tfserving.rest', 'tritonclient.http', 'tritonclient.http.json', 'kserve.rest']);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runClients(python: string, script: string, input: unknown, args: string[] = []): Promise<Results & { health?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = execFile(python, [join(SCRIPTS, script), ...args], { maxBuffer: 64 << 20, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Results);
    });
    child.stdin!.end(JSON.stringify(input));
  });
}

function checkOutputs(client: string, kase: ProtocolCase, result: Result, expected: readonly CaseTensor[], version: string): void {
  const where = `${client} / ${kase.id}`;
  assert.ok(result.outputs, `${where}: expected outputs, got ${JSON.stringify(result)}`);
  assert.deepEqual(Object.keys(result.outputs).sort(), expected.map((t) => t.name).sort(), `${where}: output names`);
  for (const tensor of expected) {
    const got: { datatype?: string; shape: number[]; values: Array<number | string> } = result.outputs[tensor.name]!;
    if (got.datatype !== undefined) assert.equal(got.datatype, tensor.datatype, `${where}: ${tensor.name} datatype`);
    assert.deepEqual(got.shape, tensor.shape, `${where}: ${tensor.name} shape`);
    assert.equal(got.values.length, tensor.values.length, `${where}: ${tensor.name} size`);
    tensor.values.forEach((v, i) => {
      if (typeof v === 'number') assert.ok(Math.abs(Number(got.values[i]) - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${where}: ${tensor.name}[${i}] ${got.values[i]} != ${v}`);
      else assert.equal(got.values[i], v, `${where}: ${tensor.name}[${i}]`);
    });
  }
  // kserve's REST client does not keep model_version when the answer has binary parts.
  if (result.model_version != null) assert.equal(result.model_version, version, `${where}: the version that answered`);
}

function checkError(client: string, kase: ProtocolCase, result: Result, code: keyof typeof Code, message: RegExp): void {
  const where = `${client} / ${kase.id}`;
  assert.ok(result.error, `${where}: expected ${code}, got ${JSON.stringify(result)}`);
  const status = REST_CLIENTS.has(client) ? String(httpStatusOf(Code[code])) : code;
  assert.equal(result.error.status, status, `${where}: status (${result.error.message})`);
  assert.match(result.error.message, message, `${where}: ${result.error.message}`);
}

describe('one case table through TF Serving REST and gRPC and the Open Inference Protocol REST and gRPC', function () {
  this.timeout(300_000);
  const clients = oipClientsPython();
  const tf = oraclePython();
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-protocols-'));
  let server: ServerProcess | undefined;
  let results: Results & { health?: Record<string, unknown> } = {};
  let repository: Record<string, unknown> = {};

  before(async function () {
    if (!clients.python || !tf.python) {
      console.warn(`      skipped: ${clients.skipReason ?? tf.skipReason}`);
      this.skip();
    }
    const models = servingTestModels();
    const config = join(root, 'models.config');
    writeFileSync(config, `model_config_list {
      config { name: "hp2" base_path: "${HALF_PLUS_TWO_2_VERSIONS_BASE}" model_platform: "tensorflow"
               model_version_policy { specific { versions: 123 versions: 124 } } version_labels { key: "stable" value: 123 } }
      config { name: "hp3" base_path: "${models.halfPlusThree}" model_platform: "tensorflow" }
      config { name: "int64" base_path: "${dirname(INT64_TIMES_SIX)}" model_platform: "tensorflow" }
    }`);
    server = ServerProcess.start([`--model_config_file=${config}`, `--rest_api_port=${await freePort()}`, '--inference_threads=0']);
    await server.waitFor((e) => e.event === 'serving');
    const ports = await server.ports();
    const input = { rest: `127.0.0.1:${ports.rest}`, grpc: `127.0.0.1:${ports.grpc}`, cases: PROTOCOL_CASES };
    const [triton, kserve, tfs] = await Promise.all([
      runClients(clients.python!, 'oip_clients.py', input, ['triton']),
      runClients(clients.python!, 'oip_clients.py', input, ['kserve']),
      runClients(tf.python!, 'tf_clients.py', input),
    ]);
    results = { ...triton, ...kserve, ...tfs };
    // Last, as it changes the served models: Triton's repository extension.
    repository = await runClients(clients.python!, 'oip_clients.py', input, ['repository']) as unknown as Record<string, unknown>;
  });

  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const CLIENTS = ['tfserving.rest', 'tfserving.grpc', 'tritonclient.http', 'tritonclient.http.json', 'tritonclient.grpc', 'kserve.rest', 'kserve.grpc'];
  for (const kase of PROTOCOL_CASES) {
    it(`${kase.id}: the same answer on every transport`, () => {
      for (const client of CLIENTS) {
        const result = results[client]?.[kase.id];
        assert.ok(result, `${client} ran no "${kase.id}"`);
        if (result.skipped || kase.skip?.[client]) continue;
        if ('error' in kase.expect) checkError(client, kase, result, kase.expect.error.code, kase.expect.error.message);
        else checkOutputs(client, kase, result, kase.expect.outputs, kase.expect.version);
      }
    });
  }

  it("maps Triton's model repository unload and load to config reloads", async () => {
    assert.deepEqual(repository['after_unload'], [false, [['hp3', 'UNAVAILABLE', 'unloaded']]]);
    const unknown = repository['unknown'] as { status: string; message: string };
    assert.equal(unknown.status, '404');
    assert.match(unknown.message, /failed to load 'never_configured'/);
    assert.equal(repository['after_load'], true, 'loaded back, and ready once the load call returns');
  });

  it('answers health, readiness and metadata as tritonclient and kserve expect', () => {
    const health = results.health as Record<string, unknown>;
    health['kserve'] = (results as unknown as Record<string, unknown>)['kserve_health'];
    assert.deepEqual(health['http'], [true, true, true, false]);
    assert.deepEqual(health['grpc'], [true, true, true, false]);
    assert.deepEqual(health['kserve'], { rest_server_ready: true, rest_model_ready: true, grpc_server_ready: true, grpc_model_ready: true });
    assert.deepEqual(health['http_metadata'], {
      name: 'hp2', versions: ['124', '123'], platform: 'tensorflow_savedmodel',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    });
    const grpcMetadata = health['grpc_metadata'] as { versions: string[]; inputs: Array<{ shape: string[] }> };
    assert.deepEqual(grpcMetadata.versions, ['124', '123']);
    assert.deepEqual(grpcMetadata.inputs[0]!.shape, ['-1']);
    assert.deepEqual((health['http_server'] as { extensions: string[] }).extensions, ['binary_tensor_data', 'model_repository']);
    const index = health['http_index'] as Array<{ name: string; version: string; state: string }>;
    assert.deepEqual(index.map((m) => `${m.name}/${m.version}/${m.state}`), ['hp2/124/READY', 'hp2/123/READY', 'hp3/123/READY', 'int64/123/READY']);
  });
});
