/**
 * The memory budget on the real server (issue 11 section 3, docs/memory.md): with a budget that
 * holds one version of half_plus_two but not two, a new version waits while the label `stable`
 * names the old one (GetModelStatus says why, the old version keeps answering); once the config
 * drops the label, the old version is unloaded first and the new one loads (resource-preserving).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateVersionBytes } from '../../src/server/core/version-loader.js';
import { httpCall } from '../support/flood.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';

interface StatusBody {
  model_version_status: Array<{ version: string; state: string; status: { error_code: string; error_message: string } }>;
}

describe('--model_memory_budget_bytes on the real server', function () {
  this.timeout(120_000);
  let dir: string;
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a new version back while a label names the old one, then unloads first', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tfmodel-memory-budget-'));
    const base = join(dir, 'm');
    cpSync(HALF_PLUS_TWO, join(base, '1'), { recursive: true });
    const one = await estimateVersionBytes(join(base, '1'), { runtime: 'wasm', threads: 1 });
    const config = join(dir, 'models.config');
    const write = (labels: string) => writeFileSync(config, `model_config_list { config { name: "m" base_path: "${base}" model_platform: "tensorflow" ${labels} } }\n`);
    write('version_labels { key: "stable" value: 1 }');
    const monitoring = join(dir, 'monitoring.config');
    writeFileSync(monitoring, 'prometheus_config { enable: true path: "/metrics" }\n');
    const rest = freePortSync();
    server = ServerProcess.start([
      `--model_config_file=${config}`, '--model_config_file_poll_wait_seconds=1', '--file_system_poll_wait_seconds=1', `--monitoring_config_file=${monitoring}`,
      `--rest_api_port=${rest}`, '--runtime=wasm', '--inference_threads=1', `--model_memory_budget_bytes=${Math.floor(one * 1.5)}`,
    ]);
    await server.ports();

    cpSync(HALF_PLUS_TWO, join(base, '2'), { recursive: true });
    await server.waitFor((e) => e.event === 'load_waits_for_label' && e['model'] === 'm');
    const status = JSON.parse((await httpCall(rest, 'GET', '/v1/models/m')).body) as StatusBody;
    const waiting = status.model_version_status.find((v) => v.version === '2')!;
    assert.equal(waiting.state, 'START');
    assert.equal(waiting.status.error_code, 'OK');
    assert.match(waiting.status.error_message, /^Waiting for memory: loading version 2 .* while a label names version 1 \(label stable\)/);
    const labelled = await httpCall(rest, 'POST', '/v1/models/m/labels/stable:predict', '{"instances":[1.0]}');
    assert.equal(labelled.body, '{"predictions":[2.5]}');

    write('');
    await server.waitFor((e) => e.event === 'version_available' && e['model'] === 'm' && String(e['version']) === '2');
    const index = (event: string, version: string) => server!.events.findIndex((e) => e.event === event && e['model'] === 'm' && String(e['version']) === version);
    assert.ok(index('reload_unloads_first', '2') >= 0, 'logged the switch to resource-preserving order');
    assert.ok(index('version_unloaded', '1') < index('version_loading', '2'), 'version 1 unloaded before version 2 started loading');
    const metrics = await httpCall(rest, 'GET', '/metrics');
    assert.match(metrics.body, /tfmodel_model_memory_decisions_total\{model_name="m",decision="wait"\} 1/);
    assert.match(metrics.body, /tfmodel_model_memory_decisions_total\{model_name="m",decision="unload_first"\} 1/);
  });
});
