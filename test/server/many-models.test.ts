/**
 * Issue 7 item 6: a config reload that adds hundreds of models. The real server process loads them
 * on a bounded pool (TF Serving's --num_load_threads, default 0: one at a time after the initial
 * load), and while it does, /healthz, the status endpoints and an already-serving model keep
 * answering. No timing assertions: the test counts what it observed while loads were in progress.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortSync, ServerProcess } from '../support/server-process.js';
import { servingTestModels } from '../support/test-models.js';

const MODELS = 250;
const BASE = servingTestModels().halfPlusTwo;

interface ListedModel {
  name: string;
  model_version_status: Array<{ version: string; state: string }>;
}

function configText(names: readonly string[]): string {
  const entries = names.map((name) => `  config { name: "${name}" base_path: "${BASE}" model_platform: "tensorflow" }`);
  return `model_config_list {\n${entries.join('\n')}\n}\n`;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

describe('a reload of hundreds of models (bounded loads, issue 7 item 6)', function () {
  this.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-many-'));
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it(`loads ${MODELS} models one at a time while health, status and a serving model keep answering`, async () => {
    const config = join(root, 'models.config');
    writeFileSync(config, configText(['a']));
    const rest = freePortSync();
    server = ServerProcess.start([
      `--rest_api_port=${rest}`,
      `--model_config_file=${config}`,
      '--model_config_file_poll_wait_seconds=1',
      '--inference_threads=0',
    ]);
    await server.ports();
    const url = `http://127.0.0.1:${rest}`;

    const names = ['a', ...Array.from({ length: MODELS }, (_, i) => `m${String(i).padStart(3, '0')}`)];
    writeFileSync(config, configText(names));

    let rounds = 0;
    let roundsWhileLoading = 0;
    let maxLoading = 0;
    let sawQueued = false;
    for (;;) {
      const [health, status, predict, list] = await Promise.all([
        getJson(`${url}/healthz`),
        getJson(`${url}/v1/models/a`),
        fetch(`${url}/v1/models/a:predict`, { method: 'POST', body: JSON.stringify({ instances: [1.0, 2.0] }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown })),
        getJson(`${url}/v1/models`),
      ]);
      rounds++;
      assert.equal(health.status, 200, '/healthz answers');
      assert.equal(status.status, 200, 'GET /v1/models/a answers');
      assert.deepEqual(predict, { status: 200, body: { predictions: [2.5, 3.0] } }, 'model a keeps serving');
      assert.equal(list.status, 200);
      const models = (list.body as { models: ListedModel[] }).models;
      const states = models.flatMap((m) => m.model_version_status.map((v) => v.state));
      const loading = states.filter((s) => s === 'LOADING').length;
      maxLoading = Math.max(maxLoading, loading);
      if (states.includes('START')) sawQueued = true;
      const available = states.filter((s) => s === 'AVAILABLE').length;
      if (models.length === names.length && available < names.length) roundsWhileLoading++;
      if (models.length === names.length && available === names.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(maxLoading <= 1, `at most one version LOADING at a time (--num_load_threads=0), saw ${maxLoading}`);
    assert.ok(sawQueued, 'versions waiting for the load pool show as START');
    assert.ok(roundsWhileLoading >= 3, `probes answered while the models loaded (${roundsWhileLoading} of ${rounds} rounds)`);
    const loaded = server.events.filter((e) => e.event === 'version_available').length;
    assert.equal(loaded, names.length);
  });
});
