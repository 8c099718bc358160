/**
 * Payload logging end to end on the real tfmodel-server: logging_config in model.config captures
 * every transport's calls (sampling_rate 1) as PredictionLog TFRecords that TF Serving's warmup
 * reader takes as they are, and as redacted JSON lines; the captured log becomes a version's
 * warmup file (tfmodel-payload-log to-warmup) that the server replays at load; and the replay
 * tool re-sends it to a server, passing on the same model and failing on a different one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tensorFromProto } from '../../src/server/runtime/tensor/host-tensor.js';
import { parseWarmupRecords, warmupFilePath } from '../../src/server/warmup/index.js';
import { REPO_ROOT } from '../support/corpus.js';
import { ServerProcess } from '../support/server-process.js';
import { servingTestModels } from '../support/test-models.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'server', 'payload-log', 'cli', 'main.js');
const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function post(rest: number, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${rest}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

describe('payload logging (logging_config) on tfmodel-server', function () {
  this.timeout(120_000);
  const models = servingTestModels();
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-payload-'));
  const logs = join(root, 'logs');
  let server: ServerProcess | undefined;
  let rest = 0;
  let grpc = 0;

  before(async () => {
    const config = join(root, 'models.config');
    writeFileSync(config, `model_config_list {
      config { name: "hp2" base_path: "${models.halfPlusTwo}" model_platform: "tensorflow"
        logging_config { sampling_config { sampling_rate: 1.0 } log_collector_config { type: "tfrecord" filename_prefix: "${logs}/hp2/requests" } } }
      config { name: "hp3" base_path: "${models.halfPlusThree}" model_platform: "tensorflow"
        logging_config { sampling_config { sampling_rate: 1.0 } log_collector_config { type: "jsonl" filename_prefix: "${logs}/hp3/requests" } } }
    }`);
    server = ServerProcess.start([`--model_config_file=${config}`, `--rest_api_port=${await freePort()}`, '--inference_threads=0',
      '--payload_log_redact=hp3:predict_log.request.inputs.x']);
    await server.waitFor((e) => e.event === 'serving');
    const ports = await server.ports();
    grpc = ports.grpc;
    rest = ports.rest!;
    await post(rest, '/v1/models/hp2:predict', { instances: [1, 2, 5] });
    await post(rest, '/v2/models/hp2/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [10, 20] }] });
    // 80.0, not 80: a JSON integer is an int64_list feature.
    await post(rest, '/v1/models/hp2:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}');
    await post(rest, '/v1/models/hp2:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 20.0}]}');
    await post(rest, '/v1/models/hp2:predict', { instances: [1, 2, 5] });
    await post(rest, '/v1/models/hp3:predict', { instances: [1] });
  });

  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("writes each sampled call as a PredictionLog that TF Serving's warmup reader takes as it is", async () => {
    // Records are written in the background: wait until all six calls are on disk.
    let records: ReturnType<typeof parseWarmupRecords> = [];
    for (let i = 0; i < 100 && records.length < 5; i++) {
      const files = readdirSync(join(logs, 'hp2')).filter((n) => n.endsWith('.tfrecord'));
      records = files.flatMap((f) => parseWarmupRecords(readFileSync(join(logs, 'hp2', f)), f));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(records.map((r) => r.logType.case), ['predictLog', 'predictLog', 'regressLog', 'classifyLog', 'predictLog']);
    const first = records[0]!;
    assert.equal(first.logMetadata?.modelSpec?.name, 'hp2');
    assert.equal(first.logMetadata?.samplingConfig?.samplingRate, 1);
    if (first.logType.case !== 'predictLog') assert.fail();
    const spec = first.logType.value.request!.modelSpec!;
    assert.equal(spec.versionChoice.case === 'version' ? spec.versionChoice.value.value : undefined, 123n, 'the version that answered');
    assert.equal(spec.signatureName, 'serving_default');
    assert.deepEqual(Array.from(tensorFromProto(first.logType.value.request!.inputs['x']!).data as Float32Array), [1, 2, 5]);
    assert.deepEqual(Array.from(tensorFromProto(first.logType.value.response!.outputs['y']!).data as Float32Array), [2.5, 3, 4.5]);
    const oip = records[1]!;
    if (oip.logType.case !== 'predictLog') assert.fail();
    assert.deepEqual(Array.from(tensorFromProto(oip.logType.value.response!.outputs['y']!).data as Float32Array), [7, 12], 'an OIP call is logged too');
    const regress = records[2]!;
    if (regress.logType.case !== 'regressLog') assert.fail();
    assert.equal(regress.logType.value.response!.result!.regressions[0]!.value, 42);
  });

  it('writes the jsonl collector with the redaction rules applied', async () => {
    let lines: string[] = [];
    for (let i = 0; i < 100 && lines.length < 1; i++) {
      const files = readdirSync(join(logs, 'hp3')).filter((n) => n.endsWith('.jsonl'));
      lines = files.flatMap((f) => readFileSync(join(logs, 'hp3', f), 'utf8').split('\n').filter(Boolean));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]!) as { model_name: string; predict_log: { request: { inputs: Record<string, unknown> }; response: { outputs: { y: unknown } } } };
    assert.equal(record.model_name, 'hp3');
    assert.equal(record.predict_log.request.inputs['x'], '[REDACTED]');
    assert.ok(record.predict_log.response.outputs.y, 'outputs are kept');
  });

  it('turns the log into a deduplicated warmup file that a new version replays at load', async () => {
    const base = join(root, 'next');
    cpSync(join(models.halfPlusTwo, '00000123'), join(base, '2'), { recursive: true });
    const { stdout } = await run(process.execPath, [CLI, 'to-warmup', `--log=${join(logs, 'hp2')}`, `--dir=${join(base, '2')}`]);
    const report = JSON.parse(stdout) as { read: number; written: number; duplicates: number };
    assert.deepEqual({ read: report.read, written: report.written, duplicates: report.duplicates }, { read: 5, written: 4, duplicates: 1 });
    const warmup = parseWarmupRecords(readFileSync(warmupFilePath(join(base, '2'))), 'warmup');
    assert.ok(warmup.every((r) => r.logType.case && !('response' in r.logType.value && r.logType.value.response)), 'requests only');
    const next = ServerProcess.start([`--model_name=next`, `--model_base_path=${base}`, '--inference_threads=0']);
    try {
      const finished = await next.waitFor((e) => e.event === 'warmup_finished');
      assert.equal(finished['records'], 4);
      await next.waitFor((e) => e.event === 'version_available');
    } finally {
      await next.stop();
    }
  });

  it('replays the log against a server: the same model matches, another model does not', async () => {
    const same = await run(process.execPath, [CLI, 'replay', `--log=${join(logs, 'hp2')}`, `--address=127.0.0.1:${grpc}`]);
    const report = JSON.parse(same.stdout) as { replayed: number; matched: number; mismatches: unknown[] };
    assert.deepEqual({ replayed: report.replayed, matched: report.matched, mismatches: report.mismatches.length }, { replayed: 5, matched: 5, mismatches: 0 });
    const other = await run(process.execPath, [CLI, 'replay', `--log=${join(logs, 'hp2')}`, `--address=127.0.0.1:${grpc}`, '--model=hp3']).then(
      () => assert.fail('a mismatch must exit 1'),
      (error: { code: number; stdout: string }) => error,
    );
    assert.equal(other.code, 1);
    const mismatches = (JSON.parse(other.stdout) as { mismatches: Array<{ reason: string }> }).mismatches;
    assert.ok(mismatches.some((m) => /y\[0\]: 3\.5 != logged 2\.5/.test(m.reason)), JSON.stringify(mismatches));
  });
});
