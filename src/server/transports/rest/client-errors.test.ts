/**
 * What the REST server answers on raw sockets when the HTTP framing itself is wrong (issue 7 item
 * 5): impossible chunk sizes are refused at once, parser-level errors carry TF Serving's
 * `{"error": ...}` body, and well-formed chunked bodies still work however they are split.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { ServableHandle, ServingCore } from '../../core/types.js';
import { VersionState } from '../../core/types.js';
import { notFound } from '../../errors.js';
import type { SignatureInfo } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import { ChunkSizeScanner } from './chunk-sizes.js';
import { type RestServer, createRestServer } from './index.js';

const signature: SignatureInfo = {
  key: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: [{ alias: 'x', tensorName: 'x:0', dtype: DataType.DT_FLOAT, shape: undefined }],
  outputs: [{ alias: 'y', tensorName: 'y:0', dtype: DataType.DT_FLOAT, shape: undefined }],
};

/** One model, "m", computing y = x / 2 + 2. */
const core: ServingCore = {
  acquire(spec): ServableHandle {
    if (spec.name !== 'm') throw notFound(`Servable not found for request: Latest(${spec.name})`);
    return {
      name: 'm',
      version: 1n,
      engine: {
        backend: 'cpu',
        signatures: [signature],
        stateful: false,
        run: async ({ inputs }) => {
          const x = inputs.get('x')!;
          return new Map([['y', { dtype: DataType.DT_FLOAT, shape: x.shape, data: (x.data as Float32Array).map((v) => v / 2 + 2) }]]);
        },
        dispose: async () => undefined,
      },
      signatureDefs: {},
      signatures: [signature],
      release: () => undefined,
    };
  },
  modelStatus: (name) => {
    if (name !== 'm') throw notFound(`Could not find any versions of model ${name}`);
    return { name, basePath: '/models/m', versions: [{ version: 1n, state: VersionState.AVAILABLE }], labels: new Map() };
  },
  listModels: () => [],
  isReady: () => true,
};

interface RawReply {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  /** The server closed the connection. */
  readonly closed: boolean;
}

/**
 * Writes `parts` (a pause between them), keeps the connection open, and resolves with the first
 * complete answer (or what there is after `waitMs`).
 */
function rawExchange(port: number, parts: readonly (string | Buffer)[], waitMs = 10_000): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closed = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const headers = split < 0 ? text : text.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), headers, body: split < 0 ? '' : text.slice(split + 4), closed });
      socket.destroy();
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && received.length >= split + 4 + Number(length)) {
        // Give the server a moment to close, so that `closed` says whether it did.
        setTimeout(finish, 200);
      }
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => undefined);
    let delay = 0;
    for (const part of parts) {
      setTimeout(() => socket.write(part), delay);
      delay += 50;
    }
  });
}

const chunkedHead = 'POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

describe('REST client errors: HTTP framing the parser refuses (issue 7 item 5)', function () {
  this.timeout(30_000);
  let server: RestServer;
  let port: number;

  before(async () => {
    // The request timeout is long: an answer within the test proves it did not wait for it.
    server = createRestServer({ core, timeoutMs: 60_000, maxBodyBytes: 1 << 20 });
    port = await server.listen(0, '127.0.0.1');
  });
  after(() => server.close());

  it('refuses a chunk size of ffffffffffffffff at once with 400 and a JSON error, and closes', async () => {
    const reply = await rawExchange(port, [`${chunkedHead}ffffffffffffffff\r\nabc\r\n`]);
    assert.equal(reply.status, 400);
    assert.match(reply.headers, /content-type: application\/json/i);
    assert.deepEqual(JSON.parse(reply.body), { error: 'Malformed chunked request body: chunk size 0xffffffffffffffff does not fit an int64' });
    assert.ok(reply.closed, 'the connection closes after the refusal');
  });

  it('refuses the impossible chunk size when it arrives in a later packet, after a good chunk', async () => {
    const reply = await rawExchange(port, [chunkedHead, '5\r\n{"ins\r\n', '8000000000000000\r\n', 'x']);
    assert.equal(reply.status, 400);
    assert.match(JSON.parse(reply.body).error, /chunk size 0x8000000000000000 does not fit an int64/);
  });

  it('refuses a chunk larger than the body limit with 413 before its bytes arrive', async () => {
    const reply = await rawExchange(port, [`${chunkedHead}7fffffff\r\n{"instances"`]);
    assert.equal(reply.status, 413);
    assert.deepEqual(JSON.parse(reply.body), { error: `Request body exceeds the limit of ${1 << 20} bytes` });
  });

  it('still serves a well-formed chunked predict split across packets, with extensions and trailers', async () => {
    const body = '{"instances": [1.0, 2.0, 5.0]}';
    const reply = await rawExchange(port, [
      chunkedHead,
      `${(10).toString(16)};ext=1\r\n${body.slice(0, 10)}\r\n`,
      `000${(body.length - 10).toString(16).toUpperCase()}\r\n${body.slice(10)}`,
      '\r\n0\r\nX-Trailer: t\r\n\r\n',
    ]);
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(JSON.parse(reply.body), { predictions: [2.5, 3.0, 4.5] });
  });

  it('answers broken chunk framing (a non-hex size) with a JSON 400', async () => {
    const reply = await rawExchange(port, [`${chunkedHead}zz\r\n`]);
    assert.equal(reply.status, 400);
    assert.match(JSON.parse(reply.body).error, /^Malformed HTTP request: .*\(HPE_/);
  });

  it('answers a NUL byte in the URL with a JSON 400', async () => {
    const reply = await rawExchange(port, ['GET /v1/mo\0dels/m HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(reply.status, 400);
    assert.deepEqual(JSON.parse(reply.body), { error: 'Malformed HTTP request: Invalid char in url path (HPE_INVALID_URL)' });
    assert.ok(reply.closed);
  });

  it('answers a URL over 16 KiB with 414 and a JSON error', async () => {
    const reply = await rawExchange(port, [`GET /v1/models/${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    assert.equal(reply.status, 414);
    assert.deepEqual(JSON.parse(reply.body), { error: 'Request URL exceeds the limit of 16384 bytes' });
  });

  it('answers a header block over 16 KiB with 431 and a JSON error', async () => {
    const headers = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'v'.repeat(500)}\r\n`).join('');
    const reply = await rawExchange(port, [`GET /v1/models/m HTTP/1.1\r\nHost: x\r\n${headers}\r\n`]);
    assert.equal(reply.status, 431);
    assert.deepEqual(JSON.parse(reply.body), { error: 'Request header fields exceed the limit of 16384 bytes' });
  });

  it('answers a garbage request line with a JSON 400, and the server keeps serving', async () => {
    const reply = await rawExchange(port, [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])]);
    assert.equal(reply.status, 400);
    assert.match(JSON.parse(reply.body).error, /^Malformed HTTP request: /);
    const ok = await rawExchange(port, ['GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(ok.status, 200);
  });
});

describe('ChunkSizeScanner', () => {
  it('follows sizes, data, extensions and trailers across any split', () => {
    const framing = Buffer.from('4;a=b\r\nabcd\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n', 'latin1');
    for (let split = 0; split <= framing.length; split++) {
      const scanner = new ChunkSizeScanner(100);
      assert.equal(scanner.feed(framing.subarray(0, split)), undefined);
      assert.equal(scanner.feed(framing.subarray(split)), undefined);
      assert.ok(scanner.done, `split at ${split}`);
    }
  });

  it('counts the declared sizes of all chunks against the limit', () => {
    const scanner = new ChunkSizeScanner(20);
    assert.equal(scanner.feed(Buffer.from('10\r\n0123456789abcdef\r\n')), undefined);
    assert.deepEqual(scanner.feed(Buffer.from('5\r\n')), { status: 413, message: 'Request body exceeds the limit of 20 bytes' });
  });

  it('takes leading zeros as zeros, and 17 significant digits as malformed', () => {
    assert.equal(new ChunkSizeScanner(100).feed(Buffer.from('00000000000000000000a\r\n')), undefined);
    assert.equal(new ChunkSizeScanner(100).feed(Buffer.from('10000000000000000'))?.status, 400);
  });
});
