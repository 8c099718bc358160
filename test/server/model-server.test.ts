/**
 * The real tfmodel-server process: command line, hot loading under load, label moves through the
 * config file, and graceful shutdown.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TF_SERVING_TESTDATA, itWithSharedModels } from '../support/shared-savedmodels.js';
import { servingTestModels } from '../support/test-models.js';
import { SERVER_MAIN, ServerProcess } from '../support/server-process.js';
import { nativeEnginePresent } from '../support/runtimes.js';

const MODELS = servingTestModels();
const HALF_PLUS_TWO = join(MODELS.halfPlusTwo, '00000123');
const HALF_PLUS_THREE = join(MODELS.halfPlusThree, '00000123');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Copies a version in with a rename, as one should: the poller never sees half a directory. */
function publishVersion(base: string, version: string, from: string): void {
  const staging = join(base, `.staging-${version}`);
  cpSync(from, staging, { recursive: true });
  renameSync(staging, join(base, version));
}

async function predict(rest: number, path: string, x: number): Promise<{ status: number; y?: number }> {
  const response = await fetch(`http://127.0.0.1:${rest}/v1/models/${path}:predict`, {
    method: 'POST',
    body: JSON.stringify({ instances: [[x]] }),
  });
  const body = (await response.json()) as { predictions?: number[][] };
  return { status: response.status, y: body.predictions?.[0]?.[0] };
}

async function status(rest: number, model: string): Promise<Array<{ version: string; state: string; status: { error_code: string; error_message: string } }>> {
  const response = await fetch(`http://127.0.0.1:${rest}/v1/models/${model}`);
  return ((await response.json()) as { model_version_status: [] }).model_version_status;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tfmodel-server process', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-server-'));
  const servers: ServerProcess[] = [];
  const start = (args: string[]): ServerProcess => {
    const server = ServerProcess.start(args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop('SIGKILL');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('refuses unknown flags and bad values with exit code 2', async () => {
    for (const args of [['--model_base_path=/m', '--no_such_flag=1'], ['--model_base_path=/m', '--port=x'], []]) {
      const result = await promisify(execFile)(process.execPath, [SERVER_MAIN, ...args]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(result.code, 2, `args ${args.join(' ')}`);
      assert.match(result.stderr, /tfmodel-server: .+/);
    }
  });

  itWithSharedModels("exits 1 with a clear message on TF Serving's bad_model_config.txt", async () => {
    const config = join(root, 'bad.config');
    cpSync(join(TF_SERVING_TESTDATA, 'bad_model_config.txt'), config);
    const server = start([`--model_config_file=${config}`]);
    assert.equal(await server.exited(), 1);
    const failure = server.events.find((e) => e.event === 'start_failed');
    assert.match(String(failure?.['error']), /INVALID_ARGUMENT: Invalid protobuf file: '.*bad.config'/);
  });

  it("gives TF Serving's thread flags to the native engine's session, and logs them as ignored on wasm", async function () {
    this.timeout(120_000);
    const threads = ['--tensorflow_intra_op_parallelism=1', '--tensorflow_inter_op_parallelism=2'];
    const runtimes = nativeEnginePresent() ? ['wasm', 'tensorflow'] : ['wasm'];
    for (const runtime of runtimes) {
      const rest = await freePort();
      const server = start([`--rest_api_port=${rest}`, '--model_name=m', `--model_base_path=${MODELS.halfPlusTwo}`, `--runtime=${runtime}`, ...threads]);
      await server.waitFor((e) => e.event === 'serving');
      const ignored = server.events.filter((e) => e.event === 'flag_ignored').map((e) => [e['flag'], e['value']]);
      const applied = server.events.find((e) => e.event === 'session_threads');
      if (runtime === 'wasm') {
        assert.deepEqual(ignored, [['tensorflow_intra_op_parallelism', '1'], ['tensorflow_inter_op_parallelism', '2']]);
        assert.equal(applied, undefined);
      } else {
        assert.deepEqual(ignored, []);
        assert.deepEqual([applied?.['intraOpThreads'], applied?.['interOpThreads']], [1, 2]);
      }
      assert.deepEqual(await predict(rest, 'm', 1), { status: 200, y: 2.5 }, runtime);
      await server.stop();
    }
  });

  it('hot-loads a new version under load with zero failed requests, and isolates a corrupt one', async function () {
    this.timeout(120_000);
    const base = join(root, 'hot');
    publishVersion(base, '1', HALF_PLUS_TWO);
    const rest = await freePort();
    const server = start([`--rest_api_port=${rest}`, '--model_name=m', `--model_base_path=${base}`, '--file_system_poll_wait_seconds=1', '--max_num_load_retries=1', '--load_retry_interval_micros=100000']);
    await server.waitFor((e) => e.event === 'serving');
    assert.equal((await predict(rest, 'm', 2)).y, 3, 'version 1 is half_plus_two');

    let stop = false;
    const outcomes: Array<{ status: number; y?: number }> = [];
    const client = async (): Promise<void> => {
      while (!stop) outcomes.push(await predict(rest, 'm', 2).catch(() => ({ status: 0 })));
    };
    const load = Promise.all(Array.from({ length: 8 }, client));

    publishVersion(base, '2', HALF_PLUS_THREE);
    // No timing assertion (the machine is shared); the figure is reported by the server benchmark.
    await eventually(async () => outcomes.at(-1)?.y === 4, 'version 2 (half_plus_three) to serve');
    await eventually(async () => (await status(rest, 'm')).some((v) => v.version === '1' && v.state === 'END'), 'version 1 to unload');

    const corrupt = join(root, 'corrupt');
    cpSync(HALF_PLUS_TWO, corrupt, { recursive: true });
    truncateSync(join(corrupt, 'saved_model.pb'), 50);
    publishVersion(base, '3', corrupt);
    await eventually(async () => (await status(rest, 'm')).some((v) => v.version === '3' && v.state === 'END'), 'version 3 to fail');
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;

    const failed = outcomes.filter((o) => o.status !== 200);
    assert.equal(failed.length, 0, `${failed.length} of ${outcomes.length} requests failed`);
    assert.ok(outcomes.length > 50, `only ${outcomes.length} requests ran`);
    const v3 = (await status(rest, 'm')).find((v) => v.version === '3')!;
    assert.equal(v3.status.error_code, 'DATA_LOSS');
    assert.match(v3.status.error_message, /Could not parse .*saved_model\.pb/);
    assert.equal((await predict(rest, 'm', 2)).y, 4, 'version 2 keeps serving');
  });

  it('moves a label when the polled config file changes, and keeps the old one on a bad change', async function () {
    this.timeout(60_000);
    const base = join(root, 'labels');
    publishVersion(base, '1', HALF_PLUS_TWO);
    publishVersion(base, '2', HALF_PLUS_THREE);
    const config = join(root, 'labels.config');
    const write = (stable: number): void => writeFileSync(config, `model_config_list { config {
      name: "m" base_path: "${base}" model_platform: "tensorflow"
      model_version_policy { specific { versions: 1 versions: 2 } }
      version_labels { key: "stable" value: ${stable} } } }`);
    write(1);
    const rest = await freePort();
    const server = start([`--rest_api_port=${rest}`, `--model_config_file=${config}`, '--model_config_file_poll_wait_seconds=1']);
    await server.waitFor((e) => e.event === 'serving');
    assert.equal((await predict(rest, 'm/labels/stable', 2)).y, 3);
    write(2);
    await eventually(async () => (await predict(rest, 'm/labels/stable', 2)).y === 4, 'stable to move to version 2');
    write(7);
    await server.waitFor((e) => e.event === 'config_reload_rejected');
    const rejected = server.events.find((e) => e.event === 'config_reload_rejected')!;
    assert.match(String(rejected['error']), /Request to assign label to version 7 of model m, which is not currently available for inference/);
    assert.equal((await predict(rest, 'm/labels/stable', 2)).y, 4, 'the old label stays');
  });

  it('finishes in-flight requests on SIGTERM, then exits 0', async function () {
    this.timeout(60_000);
    const base = join(root, 'graceful');
    publishVersion(base, '1', HALF_PLUS_TWO);
    const batching = join(root, 'batching.config');
    // A lone request waits for the batch timeout (0.8 s): long enough to be in flight at SIGTERM.
    writeFileSync(batching, 'max_batch_size { value: 64 } batch_timeout_micros { value: 800000 } num_batch_threads { value: 1 }');
    const rest = await freePort();
    const server = start([`--rest_api_port=${rest}`, '--model_name=m', `--model_base_path=${base}`, '--enable_batching', `--batching_parameters_file=${batching}`]);
    await server.waitFor((e) => e.event === 'serving');
    const inFlight = predict(rest, 'm', 10);
    await new Promise((r) => setTimeout(r, 200));
    const exit = server.stop('SIGTERM');
    assert.deepEqual(await inFlight, { status: 200, y: 7 });
    assert.equal(await exit, 0);
    assert.ok(server.events.some((e) => e.event === 'stopped'));
  });
});
