/** bench/protocols/unary-load.ts: an offered rate caps the calls started; without one it is a closed loop. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { runUnaryLoad } from '../../bench/protocols/unary-load.js';

const PATH = '/test.Echo/Call';
const identity = (b: Buffer): Buffer => b;

describe('bench unary-load', function () {
  this.timeout(20_000);
  let server: Server;
  let address: string;
  let dir: string;
  let requestFile: string;
  let calls = 0;

  before(async () => {
    server = new Server();
    server.register(PATH, (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      calls++;
      callback(null, call.request);
    }, identity, identity, 'unary');
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    address = `127.0.0.1:${port}`;
    dir = mkdtempSync(join(tmpdir(), 'unary-load-test-'));
    requestFile = join(dir, 'request.bin');
    writeFileSync(requestFile, Buffer.from('ping'));
  });

  after(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts no more calls than rate x seconds at a fixed offered rate', async () => {
    calls = 0;
    const report = await runUnaryLoad({ address, path: PATH, requestFile, concurrency: 4, channels: 2, seconds: 1, rate: 20 });
    assert.equal(report.errors, 0);
    assert.ok(report.requests > 0, 'some calls completed');
    assert.ok(calls <= 21, `the server saw ${calls} calls for 20/s over 1 s`);
    assert.ok(report.requests <= calls);
  });

  it('keeps `concurrency` calls in flight without a rate (closed loop)', async () => {
    calls = 0;
    const report = await runUnaryLoad({ address, path: PATH, requestFile, concurrency: 4, channels: 2, seconds: 1 });
    assert.equal(report.errors, 0);
    assert.ok(report.requests > 21, `a closed loop against an echo server completed ${report.requests} calls in 1 s`);
  });
});
