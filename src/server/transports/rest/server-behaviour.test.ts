/**
 * The REST server over real HTTP in front of a fake core: shapes the shared SavedModels cannot
 * produce (several inputs and outputs, int64, _bytes outputs), timeouts, body limits and
 * compression, CORS, metrics, readiness, shutdown, and a burst of malformed requests.
 */
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { ModelStatus, ServableHandle, ServingCore } from '../../core/types.js';
import { VersionState } from '../../core/types.js';
import { Code, notFound } from '../../errors.js';
import { NO_OBSERVER, type RequestEvent } from '../../observability.js';
import type { RunRequest } from '../../runtime/engine.js';
import type { SignatureInfo, TensorSpec } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { type RestServer, type RestServerOptions, createRestServer } from './index.js';

type Run = (request: RunRequest) => Promise<Map<string, HostTensor>>;

const tensorSpec = (alias: string, dtype: DataType): TensorSpec => ({ alias, tensorName: `${alias}:0`, dtype, shape: undefined });

function predictSignature(inputs: TensorSpec[], outputs: TensorSpec[]): SignatureInfo {
  return { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs, outputs };
}

/** A ServingCore holding one version (1) of each model; `ready` is what isReady answers. */
function fakeCore(models: Record<string, { signature: SignatureInfo; run: Run }>, state = { ready: true }): ServingCore {
  const status = (name: string): ModelStatus => ({
    name,
    basePath: `/models/${name}`,
    versions: [{ version: 1n, state: state.ready ? VersionState.AVAILABLE : VersionState.LOADING }],
    labels: new Map(),
  });
  return {
    acquire(spec): ServableHandle {
      const model = models[spec.name];
      if (!model) throw notFound(`Servable not found for request: Latest(${spec.name})`);
      const signatures = [model.signature];
      return {
        name: spec.name,
        version: 1n,
        engine: { backend: 'cpu', signatures, stateful: false, run: model.run, dispose: async () => undefined },
        signatureDefs: {},
        signatures,
        release: () => undefined,
      };
    },
    modelStatus: (name) => {
      if (!models[name]) throw notFound(`Could not find any versions of model ${name}`);
      return status(name);
    },
    listModels: () => Object.keys(models).map(status),
    isReady: () => state.ready,
  };
}

const halfPlusTwo: Run = async ({ inputs }) => {
  const x = inputs.get('x')!;
  return new Map([['y', { dtype: DataType.DT_FLOAT, shape: x.shape, data: (x.data as Float32Array).map((v) => 0.5 * v + 2) }]]);
};

/** a: int32, b: string -> echo_bytes (b), half (a / 2 as float), twice (2a as int32). */
const multi: Run = async ({ inputs }) => {
  const a = inputs.get('a')!;
  const b = inputs.get('b')!;
  const values = a.data as Int32Array;
  return new Map<string, HostTensor>([
    ['echo_bytes', b],
    ['half', { dtype: DataType.DT_FLOAT, shape: a.shape, data: Float32Array.from(values, (v) => v / 2) }],
    ['twice', { dtype: DataType.DT_INT32, shape: a.shape, data: values.map((v) => 2 * v) }],
  ]);
};

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function send(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const PREDICT = '/v1/models/half_plus_two:predict';

describe('REST server behaviour', () => {
  const servers: RestServer[] = [];
  const gates: Array<() => void> = [];
  let slowStarted: () => void = () => undefined;
  const events: RequestEvent[] = [];

  const core = fakeCore({
    half_plus_two: { signature: predictSignature([tensorSpec('x', DataType.DT_FLOAT)], [tensorSpec('y', DataType.DT_FLOAT)]), run: halfPlusTwo },
    multi: {
      signature: predictSignature(
        [tensorSpec('a', DataType.DT_INT32), tensorSpec('b', DataType.DT_STRING)],
        [tensorSpec('echo_bytes', DataType.DT_STRING), tensorSpec('half', DataType.DT_FLOAT), tensorSpec('twice', DataType.DT_INT32)],
      ),
      run: multi,
    },
    int64: {
      signature: predictSignature([tensorSpec('n', DataType.DT_INT64)], [tensorSpec('n', DataType.DT_INT64)]),
      run: async ({ inputs }) => new Map([['n', inputs.get('n')!]]),
    },
    slow: {
      signature: predictSignature([tensorSpec('x', DataType.DT_FLOAT)], [tensorSpec('y', DataType.DT_FLOAT)]),
      run: async (request) => {
        slowStarted();
        await new Promise<void>((resolve) => gates.push(resolve));
        return halfPlusTwo(request);
      },
    },
  });

  async function start(options: Partial<RestServerOptions> = {}): Promise<number> {
    const server = createRestServer({ core, observer: { ...NO_OBSERVER, request: (e) => events.push(e) }, ...options });
    servers.push(server);
    return server.listen(0, '127.0.0.1');
  }

  afterEach(() => {
    for (const open of gates.splice(0)) open();
  });

  after(async () => {
    for (const server of servers) await server.close();
  });

  it('converts several named inputs and outputs, in rows and columns, with _bytes outputs as b64', async () => {
    const port = await start();
    const rows = await send(port, 'POST', '/v1/models/multi:predict', '{"instances": [{"a": 1, "b": {"b64": "AP8="}}, {"b": "hi", "a": 3}]}');
    assert.equal(rows.body, '{"predictions":[{"echo_bytes":{"b64":"AP8="},"half":0.5,"twice":2},{"echo_bytes":{"b64":"aGk="},"half":1.5,"twice":6}]}');
    const columns = await send(port, 'POST', '/v1/models/multi:predict', '{"inputs": {"a": [[1], [3]], "b": [["x"], ["y"]]}}');
    assert.equal(columns.body, '{"outputs":{"echo_bytes":[[{"b64":"eA=="}],[{"b64":"eQ=="}]],"half":[[0.5],[1.5]],"twice":[[2],[6]]}}');
    const big = await send(port, 'POST', '/v1/models/int64:predict', '{"inputs": [9223372036854775807, -9223372036854775808, 1]}');
    assert.equal(big.body, '{"outputs":[9223372036854775807,-9223372036854775808,1]}');
  });

  it('refuses floats for integer inputs and strings for float inputs', async () => {
    const port = await start();
    const float = await send(port, 'POST', '/v1/models/multi:predict', '{"instances": [{"a": 1.5, "b": "x"}]}');
    assert.deepEqual([float.status, JSON.parse(float.body)], [400, {
      error: "Failed to process element: 0 key: a of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1.5 Type: Number is not of expected type: int32",
    }]);
    const whole = await send(port, 'POST', '/v1/models/multi:predict', '{"inputs": {"a": [2.0], "b": ["x"]}}');
    assert.deepEqual([whole.status, JSON.parse(whole.body)], [400, { error: 'JSON Value: 2.0 Type: Number is not of expected type: int32' }]);
    const text = await send(port, 'POST', PREDICT, '{"inputs": [1, "2"]}');
    assert.deepEqual([text.status, JSON.parse(text.body)], [400, { error: 'JSON Value: "2" Type: String is not of expected type: float' }]);
  });

  it('answers 504 when a call overruns the timeout, and drops the late result', async () => {
    const port = await start({ timeoutMs: 100 });
    events.length = 0;
    const started = Date.now();
    const reply = await send(port, 'POST', '/v1/models/slow:predict', '{"instances": [1]}');
    assert.deepEqual([reply.status, JSON.parse(reply.body)], [504, { error: 'Request timed out after 100 ms (--rest_api_timeout_in_ms)' }]);
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(events.map((e) => [e.model, e.api, e.status]), [['slow', 'predict', Code.DEADLINE_EXCEEDED]]);
    for (const open of gates.splice(0)) open();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(events.length, 1);
    assert.equal((await send(port, 'POST', PREDICT, '{"instances": [2]}')).body, '{"predictions":[3.0]}');
  });

  it('refuses bodies over the limit with 413, by Content-Length or while streaming', async () => {
    const port = await start({ maxBodyBytes: 1024 });
    const declared = await send(port, 'POST', PREDICT, `{"instances": [${'1,'.repeat(1000)}1]}`);
    assert.deepEqual([declared.status, declared.headers.connection, JSON.parse(declared.body)],
      [413, 'close', { error: 'Request body of 2018 bytes exceeds the limit of 1024 bytes' }]);
    // Chunked, without Content-Length: the answer comes once 1 KiB has arrived, not at the end.
    const streamed = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: PREDICT }, (res) => {
        clearInterval(writer);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() });
          req.destroy();
        });
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      let sent = 0;
      const writer = setInterval(() => {
        if (sent > 1 << 20) return reject(new Error('no answer after 1 MiB'));
        req.write(' '.repeat(512));
        sent += 512;
      }, 1);
    });
    assert.deepEqual([streamed.status, JSON.parse(streamed.body)], [413, { error: 'Request body exceeds the limit of 1024 bytes' }]);
    assert.equal((await send(port, 'POST', PREDICT, '{"instances": [1]}')).body, '{"predictions":[2.5]}');
  });

  it('accepts gzip, deflate and br bodies, limiting the decompressed size', async () => {
    const port = await start({ maxBodyBytes: 64 * 1024 });
    const json = '{"instances": [1, 2, 5]}';
    for (const [encoding, body] of [
      ['gzip', gzipSync(json)], ['x-gzip', gzipSync(json)], ['deflate', deflateSync(json)], ['deflate', deflateRawSync(json)],
      ['br', brotliCompressSync(json)], ['identity', Buffer.from(json)],
    ] as const) {
      const reply = await send(port, 'POST', PREDICT, body, { 'content-encoding': encoding });
      assert.deepEqual([reply.status, reply.body], [200, '{"predictions":[2.5,3.0,4.5]}'], encoding);
    }
    const bomb = gzipSync(Buffer.alloc(16 << 20, 0x20));
    assert.ok(bomb.length < 64 * 1024);
    const exploded = await send(port, 'POST', PREDICT, bomb, { 'content-encoding': 'gzip' });
    assert.deepEqual([exploded.status, JSON.parse(exploded.body)], [413, { error: 'Decompressed request body exceeds the limit of 65536 bytes' }]);
    const broken = await send(port, 'POST', PREDICT, json, { 'content-encoding': 'gzip' });
    assert.deepEqual([broken.status, JSON.parse(broken.body)], [400, { error: 'Failed to decompress the gzip request body: incorrect header check' }]);
    const unknown = await send(port, 'POST', PREDICT, json, { 'content-encoding': 'compress' });
    assert.deepEqual([unknown.status, JSON.parse(unknown.body)], [415, { error: 'Unsupported Content-Encoding: compress' }]);
  });

  it('adds CORS headers when enabled and answers preflights as TF Serving does', async () => {
    const cors = await start({ corsEnabled: true });
    const reply = await send(cors, 'POST', PREDICT, '{"instances": [1]}');
    assert.equal(reply.headers['access-control-allow-origin'], '*');
    assert.equal(reply.headers['access-control-allow-methods'], 'POST, GET');
    const preflight = await send(cors, 'OPTIONS', PREDICT, undefined, { origin: 'https://example.com', 'access-control-request-method': 'POST' });
    assert.deepEqual([preflight.status, preflight.body, preflight.headers['access-control-allow-origin']], [200, '', '*']);
    const noOrigin = await send(cors, 'OPTIONS', PREDICT);
    assert.deepEqual([noOrigin.status, JSON.parse(noOrigin.body)], [400, { error: 'Origin header is missing in CORS preflight' }]);
    const plain = await start();
    assert.equal((await send(plain, 'POST', PREDICT, '{"instances": [1]}')).headers['access-control-allow-origin'], undefined);
  });

  it('serves the metrics page on its path, before the /v1 grammar', async () => {
    let rendered = 0;
    const metrics = (path: string) => ({
      path,
      render: async () => ({ contentType: 'text/plain; version=0.0.4', body: `# HELP x\nx ${++rendered}\n` }),
    });
    const port = await start({ metrics: metrics('/monitoring/prometheus/metrics') });
    const page = await send(port, 'GET', '/monitoring/prometheus/metrics');
    assert.deepEqual([page.status, page.headers['content-type'], page.body], [200, 'text/plain; version=0.0.4', '# HELP x\nx 1\n']);
    assert.equal((await send(port, 'GET', '/monitoring/prometheus/other')).status, 404);
    const v1 = await start({ metrics: metrics('/v1/metrics') });
    assert.equal((await send(v1, 'GET', '/v1/metrics')).body, '# HELP x\nx 2\n');
  });

  it('answers /readyz 503 while the core is not ready, naming the models', async () => {
    const state = { ready: false };
    const server = createRestServer({ core: fakeCore({ a: { signature: predictSignature([], []), run: halfPlusTwo } }, state) });
    servers.push(server);
    const port = await server.listen(0, '127.0.0.1');
    const notReady = await send(port, 'GET', '/readyz');
    assert.deepEqual([notReady.status, JSON.parse(notReady.body)], [503, { ready: false, error: 'No AVAILABLE version of: a', unavailable_models: ['a'] }]);
    state.ready = true;
    assert.equal((await send(port, 'GET', '/readyz')).status, 200);
    assert.equal((await send(port, 'GET', '/healthz')).status, 200);
  });

  it('close() stops accepting and waits for the requests in flight', async () => {
    const server = createRestServer({ core });
    const port = await server.listen(0, '127.0.0.1');
    const running = new Promise<void>((resolve) => (slowStarted = resolve));
    const inFlight = send(port, 'POST', '/v1/models/slow:predict', '{"instances": [1]}');
    await running;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(closed, false);
    await assert.rejects(send(port, 'GET', '/healthz'), /ECONNREFUSED/);
    for (const open of gates.splice(0)) open();
    const reply = await inFlight;
    assert.deepEqual([reply.status, reply.body, reply.headers.connection], [200, '{"predictions":[2.5]}', 'close']);
    await closing;
    assert.equal(closed, true);
  });

  it('survives 200 malformed requests in a row with bounded memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const port = await start({ maxBodyBytes: 64 * 1024 });
    const abuse: Array<[string, string, string | Buffer | undefined, Record<string, string>?]> = [
      ['POST', PREDICT, '{"instances": [1, 2'],
      ['POST', PREDICT, `{"instances": ${'['.repeat(5000)}`],
      ['POST', PREDICT, `{"instances": [${'"x",'.repeat(5000)}"x"]}`],
      ['POST', PREDICT, Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
      ['POST', PREDICT, 'x'.repeat(100 * 1024)],
      ['POST', PREDICT, gzipSync(Buffer.alloc(8 << 20)), { 'content-encoding': 'gzip' }],
      ['POST', PREDICT, 'not gzip', { 'content-encoding': 'gzip' }],
      ['POST', '/v1/models/nope:predict', '{"instances": [1]}'],
      ['POST', '/v1/models/half_plus_two/versions/99999999999999999999:predict', '{}'],
      ['GET', '/v1/models/%ZZ%00/metadata', undefined],
      ['DELETE', '/v1/models/half_plus_two', undefined],
      ['POST', '/v1/models/multi:predict', '{"instances": [{"a": 1}]}'],
      ['GET', '/../../etc/passwd', undefined],
    ];
    const round = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const [method, path, body, headers] = abuse[i % abuse.length]!;
        const reply = await send(port, method, path, body, headers);
        assert.ok(reply.status >= 400 && reply.status < 500, `${method} ${path}: ${reply.status} ${reply.body.slice(0, 200)}`);
      }
    };
    await round(abuse.length * 2);
    gc();
    const before = process.memoryUsage().heapUsed;
    await round(200);
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${growth} bytes`);
    assert.equal((await send(port, 'POST', PREDICT, '{"instances": [1, 2, 5]}')).body, '{"predictions":[2.5,3.0,4.5]}');
  });
});
