/**
 * Model management protection (issue 7 item 8), against the real server binary: with
 * --admin_token_file, HandleReloadConfigRequest and the repository load/unload calls (gRPC and
 * REST) need `authorization: Bearer <token>`; without it, anyone may reload, as with TF Serving
 * (an empty model list unloads every model).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { type Client, Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { ReloadConfigRequestSchema } from '../../src/gen/tensorflow_serving/apis/model_management_pb.js';
import { modelServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { grpcChannel, httpCall } from '../support/flood.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { servingTestModels } from '../support/test-models.js';

const TOKEN = 's3cr3t-token-for-tests';

function reload(client: Client, names: string[], base: string, authorization?: string): Promise<{ code: number; details: string }> {
  const method = modelServiceDefinition.handleReloadConfigRequest;
  const request = create(ReloadConfigRequestSchema, {
    config: { config: { case: 'modelConfigList', value: { config: names.map((name) => ({ name, basePath: base, modelPlatform: 'tensorflow' })) } } },
  });
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return new Promise((resolve) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, {}, (error: ServiceError | null) =>
      resolve({ code: error ? error.code : 0, details: error ? error.details : '' }));
  });
}

function repositoryCall(port: number, action: 'load' | 'unload', model: string, authorization?: string): Promise<{ status: number; body: string }> {
  return httpCallWithHeaders(port, `/v2/repository/models/${model}/${action}`, authorization);
}

async function httpCallWithHeaders(port: number, path: string, authorization?: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: authorization ? { authorization } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

async function state(rest: number, model: string): Promise<string> {
  const reply = await httpCall(rest, 'GET', `/v1/models/${model}`);
  return reply.status === 200 ? JSON.parse(reply.body).model_version_status[0].state : `HTTP ${reply.status}`;
}

describe('model management protection: --admin_token_file (issue 7 item 8)', function () {
  this.timeout(120_000);
  const base = servingTestModels().halfPlusTwo;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfmodel-admin-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'models.config'), `model_config_list { config { name: 'half' base_path: '${base}' model_platform: 'tensorflow' } }\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('with a token', () => {
    let server: ServerProcess;
    let rest: number;
    let client: Client;
    before(async () => {
      server = ServerProcess.start([`--model_config_file=${join(dir, 'models.config')}`, `--rest_api_port=${freePortSync()}`, `--admin_token_file=${join(dir, 'token')}`]);
      const ports = await server.ports();
      rest = ports.rest!;
      client = grpcChannel(ports.grpc);
    });
    after(async () => {
      client?.close();
      await server?.stop();
    });

    it('refuses HandleReloadConfigRequest without a token (UNAUTHENTICATED) or with another (PERMISSION_DENIED), and keeps serving', async () => {
      const none = await reload(client, [], base);
      assert.equal(GrpcStatus[none.code], 'UNAUTHENTICATED', none.details);
      assert.match(none.details, /HandleReloadConfigRequest requires the admin token/);
      const wrong = await reload(client, [], base, `Bearer ${TOKEN}x`);
      assert.equal(GrpcStatus[wrong.code], 'PERMISSION_DENIED', wrong.details);
      const basic = await reload(client, [], base, `Basic ${TOKEN}`);
      assert.equal(GrpcStatus[basic.code], 'UNAUTHENTICATED');
      assert.equal(await state(rest, 'half'), 'AVAILABLE');
      const predict = await httpCall(rest, 'POST', '/v1/models/half:predict', '{"instances":[1.0]}');
      assert.deepEqual(JSON.parse(predict.body), { predictions: [2.5] });
    });

    it('refuses repository unload over REST without the token (401) or with another (403)', async () => {
      const none = await repositoryCall(rest, 'unload', 'half');
      assert.equal(none.status, 401, none.body);
      assert.match(JSON.parse(none.body).error, /Repository unload requires the admin token/);
      const wrong = await repositoryCall(rest, 'unload', 'half', 'Bearer nope');
      assert.equal(wrong.status, 403, wrong.body);
      assert.equal(await state(rest, 'half'), 'AVAILABLE');
    });

    it('refuses PUT /tfmodel/routing without the token (401)', async () => {
      const { request } = await import('node:http');
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: rest, path: '/tfmodel/routing', method: 'PUT', agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end('{}');
      });
      assert.equal(reply.status, 401, reply.body);
      assert.match(JSON.parse(reply.body).error, /Setting the routing requires the admin token/);
    });

    it('accepts the token: a reload to a second model name takes effect', async () => {
      const reply = await reload(client, ['half', 'half2'], base, `Bearer ${TOKEN}`);
      assert.equal(reply.code, 0, reply.details);
      assert.equal(await state(rest, 'half2'), 'AVAILABLE');
      const unload = await repositoryCall(rest, 'unload', 'half2', `bearer ${TOKEN}`);
      assert.equal(unload.status, 200, unload.body);
      assert.equal(await state(rest, 'half'), 'AVAILABLE');
    });
  });

  describe('without a token (TF Serving behaviour)', () => {
    it('lets any client reload: an empty list unloads every model, and says so at start', async () => {
      const server = ServerProcess.start([`--model_config_file=${join(dir, 'models.config')}`, `--rest_api_port=${freePortSync()}`]);
      const ports = await server.ports();
      const client = grpcChannel(ports.grpc);
      try {
        assert.ok(server.events.some((e) => e.event === 'model_management_open'));
        const reply = await reload(client, [], base);
        assert.equal(reply.code, 0, reply.details);
        assert.equal(await state(ports.rest!, 'half'), 'HTTP 404');
      } finally {
        client.close();
        await server.stop();
      }
    });
  });
});
