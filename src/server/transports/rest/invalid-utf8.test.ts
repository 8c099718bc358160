/**
 * Invalid UTF-8 inside JSON strings (issue 7 item 9). TF Serving parses request JSON with
 * rapidjson's ParseStream<kParseNanAndInfFlag> (util/json_tensor.cc ParseJson), without
 * kParseValidateEncodingFlag: such bytes are accepted and copied into DT_STRING tensors (and bytes
 * features) as they are. So do we: no 400, and no U+FFFD replacement either.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ServableHandle, ServingCore } from '../../core/types.js';
import { VersionState } from '../../core/types.js';
import { notFound } from '../../errors.js';
import type { SignatureInfo } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { exampleInputFromJson } from './json-example.js';
import { ByteString, parseBody } from './json-parse.js';
import { type RestServer, createRestServer } from './index.js';

const signature: SignatureInfo = {
  key: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: [{ alias: 'text', tensorName: 'text:0', dtype: DataType.DT_STRING, shape: undefined }],
  outputs: [{ alias: 'echo_bytes', tensorName: 'echo:0', dtype: DataType.DT_STRING, shape: undefined }],
};

/** Model "echo": echo_bytes = text (so the answer's b64 shows the exact bytes the tensor held). */
const core: ServingCore = {
  acquire(spec): ServableHandle {
    if (spec.name !== 'echo') throw notFound(`Servable not found for request: Latest(${spec.name})`);
    return {
      name: 'echo',
      version: 1n,
      engine: {
        backend: 'cpu',
        signatures: [signature],
        stateful: false,
        run: async ({ inputs }) => new Map<string, HostTensor>([['echo_bytes', inputs.get('text')!]]),
        dispose: async () => undefined,
      },
      signatureDefs: {},
      signatures: [signature],
      release: () => undefined,
    };
  },
  modelStatus: (name) => ({ name, basePath: '/m', versions: [{ version: 1n, state: VersionState.AVAILABLE }], labels: new Map() }),
  listModels: () => [],
  isReady: () => true,
};

function post(port: number, path: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `{"instances": [<s1>, <s2>, ...]}` with each string's raw bytes between quotes. */
function instancesBody(...strings: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('{"instances": [')];
  strings.forEach((s, i) => parts.push(Buffer.from(i ? ', "' : '"'), s, Buffer.from('"')));
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}

const b64 = (bytes: Buffer): { b64: string } => ({ b64: bytes.toString('base64') });

describe('REST: invalid UTF-8 in JSON strings is kept byte for byte, as TF Serving does (issue 7 item 9)', () => {
  let server: RestServer;
  let port: number;

  before(async () => {
    server = createRestServer({ core });
    port = await server.listen(0, '127.0.0.1');
  });
  after(() => server.close());

  it('copies invalid bytes into the string tensor unchanged, beside valid UTF-8 and escapes', async () => {
    const invalid = Buffer.from([0x61, 0xff, 0xfe, 0x80, 0x62]); // "a", three stray bytes, "b"
    const overlong = Buffer.from([0xc0, 0xaf]); // an overlong "/"
    const truncated = Buffer.from([0xe2, 0x82]); // the start of "€"
    const valid = Buffer.from('héllo €', 'utf8');
    const escaped = Buffer.from('\\u00e9\\ud83d\\ude00\\n', 'latin1'); // é, 😀, newline as escapes
    const reply = await post(port, '/v1/models/echo:predict', instancesBody(invalid, overlong, truncated, valid, escaped));
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(JSON.parse(reply.body), {
      predictions: [b64(invalid), b64(overlong), b64(truncated), b64(valid), b64(Buffer.from('é😀\n', 'utf8'))],
    });
  });

  it('encodes a lone low-surrogate escape as its three bytes (rapidjson), in a body with invalid UTF-8', async () => {
    const body = instancesBody(Buffer.from('\\udc00', 'latin1'), Buffer.from([0xff]));
    const reply = await post(port, '/v1/models/echo:predict', body);
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(JSON.parse(reply.body), { predictions: [b64(Buffer.from([0xed, 0xb0, 0x80])), b64(Buffer.from([0xff]))] });
  });

  it('matches keys written in UTF-8 in a body that holds invalid bytes elsewhere', async () => {
    const body = Buffer.concat([Buffer.from('{"signature_name": "serving_default", "instances": [{"text": "'), Buffer.from([0xfa]), Buffer.from('"}]}')]);
    const reply = await post(port, '/v1/models/echo:predict', body);
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(JSON.parse(reply.body), { predictions: [b64(Buffer.from([0xfa]))] });
  });

  it('still refuses control characters and broken syntax with the rapidjson texts', async () => {
    const control = await post(port, '/v1/models/echo:predict', Buffer.concat([Buffer.from('{"instances": ["'), Buffer.from([0xff, 0x01]), Buffer.from('"]}')]));
    assert.equal(control.status, 400);
    assert.equal(JSON.parse(control.body).error, 'JSON Parse error: Invalid encoding in string. at offset: 17');
    const broken = await post(port, '/v1/models/echo:predict', Buffer.from([0x7b, 0xff]));
    assert.equal(broken.status, 400);
    assert.equal(JSON.parse(broken.body).error, 'JSON Parse error: Missing a name for object member. at offset: 1');
  });

  it('parses an invalid-UTF-8 string to a ByteString holding its bytes', () => {
    const doc = parseBody(Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('latin1'), false, true).doc;
    assert.ok(doc.x instanceof ByteString);
    assert.deepEqual([...(doc.x as ByteString).bytes], [0xff]);
  });

  it('keeps the bytes in tf.Example bytes features (classify/regress)', () => {
    const text = Buffer.concat([Buffer.from('{"examples": [{"f": "'), Buffer.from([0x80, 0x81]), Buffer.from('"}]}')]).toString('latin1');
    const input = exampleInputFromJson(parseBody(text, true, true).doc);
    const feature = input.examples[0]!.features!.feature.f!;
    assert.equal(feature.kind.case, 'bytesList');
    assert.deepEqual([...feature.kind.value.value[0]!], [0x80, 0x81]);
  });
});
