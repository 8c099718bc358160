import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelConfigList } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { failedPrecondition } from '../errors.js';
import { memoryLogger } from '../logging.js';
import { startConfigPoller } from './config-poller.js';

const config = (name: string): string => `model_config_list { config { name: "${name}" base_path: "/m/${name}" model_platform: "tensorflow" } }`;

describe('config file poller', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfmodel-poller-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reloads changed content, keeps the old config on bad files and refused reloads, logs each once', async () => {
    const path = join(dir, 'models.config');
    writeFileSync(path, config('a'));
    const applied: string[][] = [];
    const log = memoryLogger();
    let refuse = false;
    const poller = startConfigPoller({
      path, intervalMs: 60_000, initialText: config('a'), log,
      reload: async (list: ModelConfigList) => {
        if (refuse) throw failedPrecondition('label to unavailable version');
        applied.push(list.config.map((c) => c.name));
      },
    });
    try {
      await poller.pollOnce();
      assert.deepEqual(applied, [], 'unchanged file: no reload');
      writeFileSync(path, config('b'));
      await poller.pollOnce();
      assert.deepEqual(applied, [['b']]);
      writeFileSync(path, 'improperly formatted file');
      await poller.pollOnce();
      await poller.pollOnce();
      assert.deepEqual(applied, [['b']]);
      assert.equal(log.events.filter((e) => e.event === 'config_reload_rejected').length, 1);
      assert.match(String(log.events.at(-1)!['error']), /INVALID_ARGUMENT: Invalid protobuf file/);
      refuse = true;
      writeFileSync(path, config('c'));
      await poller.pollOnce();
      assert.match(String(log.events.at(-1)!['error']), /FAILED_PRECONDITION: label to unavailable version/);
      refuse = false;
      writeFileSync(path, config('d'));
      await poller.pollOnce();
      assert.deepEqual(applied, [['b'], ['d']]);
    } finally {
      poller.stop();
    }
  });
});
