/**
 * A reload whose base paths are all missing (a typo) keeps the versions served now (issue 7 item
 * 8): TF Serving's file-system source fails its poll with "Could not find base path" and calls
 * back nothing, so its versions stay; ours logs base_path_unreadable and keeps serving. Once the
 * path exists, its versions are served. An existing but empty base path still unloads.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { type Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ReloadConfigRequestSchema } from '../../src/gen/tensorflow_serving/apis/model_management_pb.js';
import { modelServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { grpcChannel, httpCall } from '../support/flood.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';

function reload(client: Client, models: Array<[string, string]>): Promise<number> {
  const method = modelServiceDefinition.handleReloadConfigRequest;
  const request = create(ReloadConfigRequestSchema, {
    config: { config: { case: 'modelConfigList', value: { config: models.map(([name, basePath]) => ({ name, basePath, modelPlatform: 'tensorflow' })) } } },
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new Metadata(), {}, (error: ServiceError | null) => resolve(error ? error.code : 0));
  });
}

const predict = async (rest: number, model: string): Promise<string> =>
  (await httpCall(rest, 'POST', `/v1/models/${model}:predict`, '{"instances":[1.0]}')).body;

const until = async (check: () => Promise<boolean>, what: string): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('reload with missing base paths keeps the versions served (issue 7 item 8)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: ServerProcess;
  let client: Client;
  let rest: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tfmodel-missing-base-'));
    for (const model of ['a', 'b']) cpSync(HALF_PLUS_TWO, join(dir, model, '123'), { recursive: true });
  });
  after(async () => {
    client?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a and b serving when a reload points both at paths that do not exist, and logs it', async () => {
    server = ServerProcess.start([`--model_name=a`, `--model_base_path=${join(dir, 'a')}`, `--rest_api_port=${freePortSync()}`, '--file_system_poll_wait_seconds=1']);
    const ports = await server.ports();
    rest = ports.rest!;
    client = grpcChannel(ports.grpc);
    assert.equal(await reload(client, [['a', join(dir, 'a')], ['b', join(dir, 'b')]]), 0);
    assert.equal(await predict(rest, 'b'), '{"predictions":[2.5]}');

    assert.equal(await reload(client, [['a', join(dir, 'typo-a')], ['b', join(dir, 'typo-b')]]), 0);
    await server.waitFor((e) => e.event === 'base_path_unreadable' && e['model'] === 'b');
    // Several polls later, both still answer from version 123.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(await predict(rest, 'a'), '{"predictions":[2.5]}');
    assert.equal(await predict(rest, 'b'), '{"predictions":[2.5]}');
  });

  it('serves the new path once it exists, and unloads when an existing base path is empty', async () => {
    cpSync(HALF_PLUS_TWO, join(dir, 'typo-b', '124'), { recursive: true });
    await until(async () => {
      const status = await httpCall(rest, 'GET', '/v1/models/b');
      return (JSON.parse(status.body).model_version_status as Array<{ version: string; state: string }>).some((v) => v.version === '124' && v.state === 'AVAILABLE');
    }, 'b version 124 from the corrected path');
    mkdirSync(join(dir, 'empty'));
    assert.equal(await reload(client, [['a', join(dir, 'empty')], ['b', join(dir, 'typo-b')]]), 0);
    await until(async () => (await httpCall(rest, 'POST', '/v1/models/a:predict', '{"instances":[1.0]}')).status === 404, 'a unloaded');
    assert.equal(await predict(rest, 'b'), '{"predictions":[2.5]}');
  });
});
