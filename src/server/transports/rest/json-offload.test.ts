/**
 * Big REST JSON work runs in worker threads (issue 7 item 7). The worker path must be the inline
 * path moved, nothing else: on a table of bodies (good ones of every dtype and both formats, every
 * conversion error, parse errors, invalid UTF-8, hostile shapes) and of responses, both give the
 * same tensors or the same error code and text; and a REST server whose JSON goes to workers
 * answers every request byte for byte as one that keeps it on the event loop.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ServableHandle, ServingCore } from '../../core/types.js';
import { VersionState } from '../../core/types.js';
import { Code, ServingError, notFound } from '../../errors.js';
import type { SignatureInfo } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import type { Worker } from 'node:worker_threads';
import { JsonOffload } from './json-offload.js';
import { JsonWorkers } from './json-workers.js';
import type { PredictFormat } from './json-tensor.js';
import { type DecodedPredict, type SignatureInputs, decodePredictBody } from './predict-body.js';
import { type RestServer, createRestServer } from './index.js';
import { predictResponseJson } from './tensor-json.js';

const one = (dtype: DataType, alias = 'x'): SignatureInputs => [['serving_default', [{ alias, dtype }]]];
const FLOAT = one(DataType.DT_FLOAT);
const INT32 = one(DataType.DT_INT32);
const INT64 = one(DataType.DT_INT64);
const STRING = one(DataType.DT_STRING, 's');
const TWO: SignatureInputs = [['serving_default', [{ alias: 'a', dtype: DataType.DT_FLOAT }, { alias: 'b', dtype: DataType.DT_STRING }]], ['other', [{ alias: 'x', dtype: DataType.DT_BOOL }]]];
const NONE: SignatureInputs = [['serving_default', []]];

const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const nested = (depth: number): string => `{"inputs": ${'['.repeat(depth)}1${']'.repeat(depth)}}`;

/** [what, body, signatures (undefined: parse only)] */
const CASES: Array<[string, Buffer, SignatureInputs | undefined]> = [
  ['row floats', bytes('{"instances": [1, 2, 5]}'), FLOAT],
  ['row nested floats, NaN and Infinity', bytes('{"instances": [[1.5, NaN], [-Infinity, 2e300]]}'), FLOAT],
  ['columnar double', bytes('{"inputs": [[1, 2], [3, 4]]}'), one(DataType.DT_DOUBLE)],
  ['int32 scalar', bytes('{"inputs": 7}'), INT32],
  ['int64 beyond 2^53', bytes('{"inputs": [9007199254740993, -9223372036854775808]}'), INT64],
  ['uint64 max', bytes('{"inputs": [18446744073709551615]}'), one(DataType.DT_UINT64)],
  ['bools', bytes('{"instances": [true, false]}'), one(DataType.DT_BOOL)],
  ['strings with emoji, escapes and b64', bytes('{"instances": ["héllo 😀", "a\\u0000b\\n", {"b64": "YQ=="}]}'), STRING],
  ['two inputs by row', bytes('{"instances": [{"a": [1], "b": "x"}, {"a": [2], "b": "y"}]}'), TWO],
  ['two inputs by column', bytes('{"inputs": {"a": [[1, 2]], "b": ["z"]}}'), TWO],
  ['another signature', bytes('{"signature_name": "other", "inputs": [true]}'), TWO],
  ['no inputs, "inputs": {}', bytes('{"inputs": {}}'), NONE],
  ['empty inner list', bytes('{"instances": [[]], "signature_name": ""}'), FLOAT],
  ['parse only', bytes('{"signature_name": "other", "instances": [1]}'), undefined],
  ['invalid UTF-8 kept as bytes', bytes('{"instances": ["a', [0xff, 0xfe, 0x80], 'b", "', [0xc0, 0xaf], '", "\\udc00"]}'), STRING],
  ['UTF-8 keys beside invalid bytes', bytes('{"signature_name": "serving_default", "instances": [{"s": "', [0xfa], '"}]}'), STRING],
  ['BOM and trailing garbage', bytes([0xef, 0xbb, 0xbf], '{"inputs": [1]} trailing'), FLOAT],
  // parse errors
  ['empty body', bytes(''), FLOAT],
  ['not JSON', bytes('hello'), FLOAT],
  ['not an object', bytes('[1, 2]'), FLOAT],
  ['unterminated', bytes('{"instances": [1, 2'), FLOAT],
  ['control character in invalid UTF-8', bytes('{"instances": ["', [0xff, 0x01], '"]}'), STRING],
  ['broken syntax in invalid UTF-8', bytes([0x7b, 0xff]), STRING],
  ['too deep', bytes(nested(1200)), FLOAT],
  ['bad escape', bytes('{"inputs": ["\\x"]}'), STRING],
  ['lone high surrogate', bytes('{"inputs": ["\\ud800x"]}'), STRING],
  ['signature_name not a string', bytes('{"signature_name": 1, "inputs": [1]}'), FLOAT],
  ['signature_name not a string, parse only', bytes('{"signature_name": [], "inputs": [1]}'), undefined],
  // conversion errors (after the signature name)
  ['unknown signature', bytes('{"signature_name": "nope", "inputs": [1]}'), FLOAT],
  ['both keys', bytes('{"instances": [1], "inputs": [1]}'), FLOAT],
  ['instances not a list', bytes('{"instances": 1}'), FLOAT],
  ['no instances', bytes('{"instances": []}'), FLOAT],
  ['neither key', bytes('{"signature_name": "serving_default"}'), FLOAT],
  ['ragged rows', bytes('{"instances": [[1,2],[3,4],[5,6,7]]}'), INT32],
  ['row of other rank', bytes('{"instances": [[1,2],[3,4],[[5,6]]]}'), INT32],
  ['strings for int32', bytes('{"instances": [[1,2],["a", "b"]]}'), INT32],
  ['strings for float', bytes('{"instances": ["x", "y"]}'), FLOAT],
  ['1.0 for int32', bytes('{"inputs": [1.0]}'), INT32],
  ['int32 overflow', bytes('{"inputs": [2147483648]}'), INT32],
  ['int64 overflow', bytes('{"inputs": [9223372036854775808]}'), INT64],
  ['number for bool', bytes('{"inputs": [1]}'), one(DataType.DT_BOOL)],
  ['scalar at the wrong level', bytes('{"inputs": [[1], 2]}'), FLOAT],
  ['bad base64', bytes('{"inputs": [{"b64": "!!"}]}'), STRING],
  ['b64 object with extra keys', bytes('{"inputs": [{"b64": "QQ==", "x": 1}]}'), STRING],
  ['half (unimplemented)', bytes('{"inputs": [1.5]}'), one(DataType.DT_HALF)],
  ['plain list for two inputs', bytes('{"instances": [[1]]}'), TWO],
  ['missing named input', bytes('{"inputs": {"a": 1}}'), TWO],
  ['unknown named input', bytes('{"instances": [{"a": 1, "c": 2}]}'), TWO],
  ['a list nested four deep', bytes(`{"inputs": [${'['.repeat(3)}${Array(100).fill(1).join(',')}${']'.repeat(3)}]}`), FLOAT],
  ['cube with an empty row', bytes(`{"inputs": [[${Array(1000).fill('[1]').join(',')}], [[]]]}`), FLOAT],
  ['signature without inputs given values', bytes('{"instances": [1]}'), NONE],
];

/** Tensors and errors as plain data, to compare answers from either side. */
function plainTensors(tensors: ReadonlyMap<string, HostTensor>): unknown {
  return [...tensors].map(([alias, t]) => ({
    alias,
    dtype: t.dtype,
    shape: [...t.shape],
    type: Array.isArray(t.data) ? 'strings' : t.data.constructor.name,
    data: Array.isArray(t.data) ? t.data.map((b) => Buffer.from(b).toString('hex')) : Array.from(t.data as ArrayLike<number | bigint>, String),
  }));
}

function plainError(error: unknown): unknown {
  assert.ok(error instanceof ServingError, `a ServingError, not ${String(error)}`);
  return { code: error.code, message: error.message };
}

function plainDecoded(decoded: DecodedPredict): unknown {
  return {
    signatureName: decoded.signatureName,
    format: decoded.tensors?.format,
    tensors: decoded.tensors ? plainTensors(decoded.tensors.inputs) : undefined,
    error: decoded.error ? plainError(decoded.error) : undefined,
  };
}

async function settle(work: () => DecodedPredict | Promise<DecodedPredict>): Promise<unknown> {
  try {
    return { decoded: plainDecoded(await work()) };
  } catch (error) {
    return { thrown: plainError(error) };
  }
}

describe('REST JSON in worker threads gives what the event loop gives (issue 7 item 7)', function () {
  this.timeout(60_000);
  const pooled = new JsonOffload({ threads: 2, minBytes: 0 });
  after(() => pooled.close());

  it('decodes every body of the table to the same tensors, or fails with the same code and text', async () => {
    const outcomes = { tensors: 0, late: 0, thrown: 0 };
    for (const [what, body, signatures] of CASES) {
      const inline = await settle(() => decodePredictBody(Buffer.from(body), signatures));
      const worker = await settle(() => pooled.decodePredict(Buffer.from(body), signatures));
      assert.deepEqual(worker, inline, what);
      const result = inline as { thrown?: unknown; decoded?: { error?: unknown; tensors?: unknown } };
      if (result.thrown) outcomes.thrown++;
      else if (result.decoded!.error) outcomes.late++;
      else outcomes.tensors++;
    }
    // The table covers each outcome amply (it would not test much otherwise).
    assert.ok(outcomes.tensors >= 15 && outcomes.late >= 20 && outcomes.thrown >= 8, JSON.stringify(outcomes));
  });

  it('keeps invalid UTF-8 bytes and exact int64s across the thread boundary', async () => {
    const utf8 = await pooled.decodePredict(bytes('{"instances": ["a', [0xff, 0xfe], '"]}'), STRING);
    assert.deepEqual([...(utf8.tensors!.inputs.get('s')!.data as Uint8Array[])[0]!], [0x61, 0xff, 0xfe]);
    const int64 = await pooled.decodePredict(bytes('{"inputs": [9007199254740993]}'), INT64);
    assert.deepEqual([...(int64.tensors!.inputs.get('x')!.data as BigInt64Array)], [9007199254740993n]);
    const parse = await settle(() => pooled.decodePredict(bytes('{"instances": [1,'), FLOAT));
    assert.deepEqual(parse, { thrown: { code: 3, message: 'JSON Parse error: Invalid value. at offset: 17' } });
  });

  it('decodes a 1 MB body (the flood of the issue) alike, and bodies given by many calls at once', async () => {
    const rows = 170_000;
    const body = bytes(`{"instances": [${Array(rows).fill('[1.5]').join(',')}]}`);
    const inline = await settle(() => decodePredictBody(Buffer.from(body), FLOAT));
    const all = await Promise.all(Array.from({ length: 4 }, () => settle(() => pooled.decodePredict(Buffer.from(body), FLOAT))));
    for (const worker of all) assert.deepEqual(worker, inline);
    const tensors = (inline as { decoded: { tensors: Array<{ shape: number[] }> } }).decoded.tensors;
    assert.deepEqual(tensors[0]!.shape, [rows, 1]);
  });

  it('fails the calls a stopped worker held with INTERNAL, and serves the next call from a new worker', async () => {
    const workers = new JsonWorkers(1);
    try {
      const threads = (): Worker[] => (workers as unknown as { workers: Array<{ thread: Worker }> }).workers.map((w) => w.thread);
      assert.equal((await workers.decodePredict(bytes('{"inputs": [1]}'), FLOAT)).signatureName, '');
      const [thread] = threads();
      // A 1 MB body takes the worker far longer than terminate() takes to stop it.
      const held = workers.decodePredict(bytes(`{"instances": [${Array(170_000).fill('[1.5]').join(',')}]}`), FLOAT);
      await thread!.terminate();
      await assert.rejects(held, (e: unknown) => e instanceof ServingError && e.code === Code.INTERNAL && /JSON worker thread stopped/.test(e.message));
      const next = await workers.decodePredict(bytes('{"inputs": [2.5]}'), FLOAT);
      assert.deepEqual([...(next.tensors!.inputs.get('x')!.data as Float32Array)], [2.5]);
      assert.equal(threads().length, 1);
      assert.notEqual(threads()[0], thread);
    } finally {
      await workers.close();
    }
  });

  it('writes waiting responses before waiting bodies, and drops the work of requests answered meanwhile', async () => {
    const workers = new JsonWorkers(1);
    try {
      const big = (): Buffer => bytes(`{"instances": [${Array(50_000).fill('[1.5]').join(',')}]}`);
      const order: string[] = [];
      const note = <T>(name: string, work: Promise<T>): Promise<T> => work.then((value) => (order.push(name), value));
      const first = note('body 1', workers.decodePredict(big(), FLOAT));
      const second = note('body 2', workers.decodePredict(big(), FLOAT));
      const dropped = workers.decodePredict(big(), FLOAT, () => true);
      const third = note('body 3', workers.decodePredict(big(), FLOAT));
      const response = note('response', workers.predictResponse(new Map([['y', { dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.of(0.5) }]]), 'columnar'));
      await assert.rejects(dropped, (e: unknown) => e instanceof ServingError && e.code === Code.CANCELLED);
      assert.equal(await response, '{"outputs":[0.5]}');
      await Promise.all([first, second, third]);
      assert.deepEqual(order, ['body 1', 'response', 'body 2', 'body 3']);
    } finally {
      await workers.close();
    }
  });

  it('writes every response of the table alike, errors included', async () => {
    const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(values) });
    const strings = (shape: number[], values: Buffer[]): HostTensor => ({ dtype: DataType.DT_STRING, shape, data: values.map((v) => new Uint8Array(v)) });
    const responses: Array<[string, Map<string, HostTensor>, PredictFormat]> = [
      ['floats by row', new Map([['y', f32([3, 1], [2.5, 0.1, 1e-8])]]), 'row'],
      ['floats by column', new Map([['y', f32([2, 2], [1, 2, 3, NaN])]]), 'columnar'],
      ['several outputs by row', new Map([['a', f32([2], [1, 2])], ['b_bytes', strings([2], [Buffer.from([0xff]), Buffer.from('x')])]]), 'row'],
      ['strings and bytes by column', new Map([['s', strings([2], [Buffer.from('héllo'), Buffer.from([0xff, 0x00])])], ['s_bytes', strings([1], [Buffer.from('z')])]]), 'columnar'],
      ['int64 and bool', new Map<string, HostTensor>([['i', { dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.from([1n, -(2n ** 63n)]) }], ['b', { dtype: DataType.DT_BOOL, shape: [2], data: Uint8Array.from([1, 0]) }]]), 'row'],
      ['inconsistent batch', new Map([['a', f32([2], [1, 2])], ['b', f32([3], [1, 2, 3])]]), 'row'],
      ['scalar by row', new Map([['a', f32([], [1])]]), 'row'],
      ['no outputs', new Map(), 'columnar'],
      ['half (no JSON writer)', new Map<string, HostTensor>([['h', { dtype: DataType.DT_HALF, shape: [1], data: Uint16Array.from([1]) }]]), 'row'],
    ];
    let errors = 0;
    for (const [what, outputs, format] of responses) {
      const run = async (write: () => string | Promise<string>): Promise<unknown> => {
        try {
          return { json: await write() };
        } catch (error) {
          return { thrown: plainError(error) };
        }
      };
      const inline = await run(() => predictResponseJson(outputs, format));
      assert.deepEqual(await run(() => pooled.predictResponse(outputs, format)), inline, what);
      if ('thrown' in (inline as object)) errors++;
    }
    assert.equal(errors, 4);
  });
});

const ECHO: SignatureInfo = {
  key: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: [{ alias: 'x', tensorName: 'x:0', dtype: DataType.DT_FLOAT, shape: undefined }, { alias: 's', tensorName: 's:0', dtype: DataType.DT_STRING, shape: undefined }],
  outputs: [{ alias: 'x', tensorName: 'y:0', dtype: DataType.DT_FLOAT, shape: undefined }, { alias: 's_bytes', tensorName: 'z:0', dtype: DataType.DT_STRING, shape: undefined }],
};

/** Model "echo" (a unit seam): returns its inputs, so the answer shows the tensors the body gave. */
const core: ServingCore = {
  acquire(spec): ServableHandle {
    if (spec.name !== 'echo') throw notFound(`Servable not found for request: Latest(${spec.name})`);
    return {
      name: 'echo',
      version: 7n,
      engine: {
        backend: 'cpu',
        signatures: [ECHO],
        stateful: false,
        run: async ({ inputs }) => new Map<string, HostTensor>([['x', inputs.get('x')!], ['s_bytes', inputs.get('s')!]]),
        dispose: async () => undefined,
      },
      signatureDefs: {},
      signatures: [ECHO],
      release: () => undefined,
    };
  },
  modelStatus: (name) => ({ name, basePath: '/m', versions: [{ version: 7n, state: VersionState.AVAILABLE }], labels: new Map() }),
  listModels: () => [],
  isReady: () => true,
};

interface Reply {
  readonly status: number;
  readonly version: string | undefined;
  readonly body: string;
}

function post(port: number, path: string, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.headers['x-tfmodel-version'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a REST server with JSON in workers answers as one without (issue 7 item 7)', function () {
  this.timeout(60_000);
  let inline: RestServer;
  let pooled: RestServer;
  let inlinePort: number;
  let pooledPort: number;

  before(async () => {
    inline = createRestServer({ core, json: { threads: 0 } });
    pooled = createRestServer({ core, json: { threads: 1, minBytes: 0 } });
    inlinePort = await inline.listen(0, '127.0.0.1');
    pooledPort = await pooled.listen(0, '127.0.0.1');
  });
  after(async () => {
    await inline.close();
    await pooled.close();
  });

  it('answers the same status, version header and body to every request', async () => {
    const requests: Array<[string, Buffer]> = [
      ['/v1/models/echo:predict', bytes('{"instances": [{"x": [1.5, 2], "s": "a"}, {"x": [3, NaN], "s": "', [0xff], '"}]}')],
      ['/v1/models/echo:predict', bytes('{"inputs": {"x": [[1]], "s": ["héllo 😀"]}}')],
      ['/v1/models/echo:predict', bytes('{"signature_name": "nope", "inputs": {"x": 1, "s": "a"}}')],
      ['/v1/models/echo:predict', bytes('{"inputs": {"x": ["a"], "s": ["b"]}}')],
      ['/v1/models/echo:predict', bytes('{"instances": [{"x": 1, "s": "a"}, {"x": [1], "s": "b"}]}')],
      ['/v1/models/echo:predict', bytes('{"inputs": ')],
      ['/v1/models/echo:predict', bytes('{"signature_name": 5}')],
      ['/v1/models/missing:predict', bytes('{"inputs": {"x": 1, "s": "a"}}')],
      ['/v1/models/missing:predict', bytes('not json')],
      ['/v1/models/echo:predict', bytes(`{"instances": [${Array(20_000).fill('{"x": [0.25], "s": "q"}').join(',')}]}`)],
    ];
    const answers: Reply[] = [];
    for (const [path, body] of requests) {
      const want = await post(inlinePort, path, body);
      assert.deepEqual(await post(pooledPort, path, body), want, `${path} ${body.subarray(0, 60).toString('latin1')}`);
      answers.push(want);
    }
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 400, 400, 400, 400, 400, 404, 400, 200]);
    // The version is reported once the body has named its signature (not for a body that does not parse).
    assert.deepEqual(answers.map((a) => a.version), ['7', '7', '7', '7', '7', undefined, undefined, undefined, undefined, '7']);
  });
});
