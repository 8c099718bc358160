/**
 * REST fuzz cases: a request (method, path, headers, body bytes) made from seeded mutations of
 * good requests to the models the fuzz server serves (fuzz-server.ts): mutated JSON, paths,
 * headers, encodings, bombs.
 */
import { gzipSync } from 'node:zlib';
import type { Rng } from './rng.js';

export interface RestCase {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
}

const MODELS = ['half', 'tf2', 'int64', 'missing', '', 'half%2F..', '..', 'half\u00e9'];
const VERBS = ['predict', 'classify', 'regress', 'infer', 'PREDICT', 'predict:predict', ''];
const GOOD_BODIES = [
  '{"instances": [1.0, 2.0, 5.0]}',
  '{"inputs": [[1.0], [2.0]]}',
  '{"signature_name": "serving_default", "instances": [[1.5]]}',
  '{"examples": [{"x": 20.0}]}',
  '{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}',
  '{"instances": [3, 4]}',
  '{"inputs": {"x": [1, 2, 3]}}',
];
const TOKENS = ['NaN', 'Infinity', '-Infinity', '1e400', '-0', '1.7976931348623157e309', '9223372036854775808', '-9223372036854775809',
  '"\\ud800"', '"\\u0000"', 'null', 'true', '{}', '[]', '[[]]', '{"b64": "!!"}', '{"b64": "AAAA"}', '"x"', '1.5', '123456789012345678901234567890',
  '[1, [2]]', '{"x": {"y": {}}}', '"\u00e9\u{1f600}"', '0x10', '01', '.5', '1.', '+1'];
const KEYS = ['instances', 'inputs', 'examples', 'context', 'signature_name', 'x', 'y', '', '__proto__', 'constructor', 'b64'];

function mutateText(rng: Rng, text: string): string {
  const rounds = 1 + rng.int(4);
  let out = text;
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(9)) {
      case 0: out = out.slice(0, at); break;
      case 1: out = out.slice(0, at) + rng.pick(TOKENS) + out.slice(at); break;
      case 2: out = out.slice(0, at) + out.slice(at + 1 + rng.int(4)); break;
      case 3: out = out.slice(0, at) + String.fromCharCode(rng.int(128)) + out.slice(at); break;
      case 4: out = out.replace(/\d+(\.\d+)?/, rng.pick(TOKENS)); break;
      case 5: out = out.replace(/"\w+"/, `"${rng.pick(KEYS)}"`); break;
      case 6: out = `{"${rng.pick(KEYS)}": ${rng.pick(TOKENS)}, ${out.slice(1)}`; break;
      case 7: out = out.replace(/\[/, '['.repeat(1 + rng.int(40))); break;
      default: out = out.slice(0, at) + out.slice(at).replace(/[\]}]/, ''); break;
    }
  }
  return out;
}

let bombBytes: Buffer | undefined;
/** 80 MiB of spaces in about 80 KB of gzip (past the 64 MiB body limit once inflated). */
function gzipBomb(): Buffer {
  return (bombBytes ??= gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20)));
}

function bomb(rng: Rng): Buffer {
  switch (rng.int(6)) {
    case 0: return Buffer.from(`${'['.repeat(2000 + rng.int(100_000))}1${']'.repeat(10)}`);
    case 1: return Buffer.from(`{"instances": [${Array(20_000 + rng.int(50_000)).fill('1').join(',')}]}`);
    case 2: return Buffer.from(`{"instances": [${'"' + 'a'.repeat(100_000 + rng.int(500_000)) + '"'}]}`);
    case 3: return Buffer.from(`{"instances": [[${Array(300).fill(`[${Array(300).fill('0.5').join(',')}]`).join(',')}]]}`);
    case 4: return Buffer.from(`{"inputs": {${Array(5000).fill(0).map((_, i) => `"k${i}": 1`).join(',')}}}`);
    default: return Buffer.from(`{"examples": [${Array(5000).fill('{"x": [1, 2, 3], "y": "s"}').join(',')}]}`);
  }
}

function path(rng: Rng): string {
  const model = rng.pick(MODELS);
  const version = rng.chance(0.7) ? '' : rng.pick(['/versions/123', '/versions/1', '/versions/99999999999999999999', '/versions/-1', '/versions/abc', '/labels/stable', '/labels/', '/labels/%00']);
  const verb = rng.pick(VERBS);
  if (rng.chance(0.1)) return rng.pick(['/v1/models', '/v1/models/', '/v1/', '/v1', '/v2/models/half/infer', '/v2/repository/index', '/healthz', '/readyz', '/', '/v1/models/half/metadata', `/v1/${'a/'.repeat(rng.int(200))}`]);
  return `/v1/models/${model}${version}${verb === '' ? '' : `:${verb}`}`;
}

/** One case; the case number picks the family so every family appears at every seed. */
export function restCase(rng: Rng, index: number): RestCase {
  const json = { 'Content-Type': 'application/json' };
  switch (index % 8) {
    case 0:
    case 1:
    case 2: {
      // Mutated JSON to a real route.
      const base = rng.pick(GOOD_BODIES);
      const route = rng.pick(['/v1/models/half:predict', '/v1/models/tf2:predict', '/v1/models/int64:predict', '/v1/models/half:classify', '/v1/models/half:regress', '/v1/models/half/versions/123:predict']);
      return { kind: 'json', method: 'POST', path: route, headers: json, body: Buffer.from(mutateText(rng, base)) };
    }
    case 3:
      return { kind: 'path', method: rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']), path: path(rng), headers: json, body: rng.chance(0.5) ? Buffer.from(rng.pick(GOOD_BODIES)) : undefined };
    case 4: {
      // Headers and encodings.
      const body = Buffer.from(rng.pick(GOOD_BODIES));
      const variant = rng.int(6);
      if (variant === 0) return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { ...json, 'Content-Encoding': 'gzip' }, body: rng.bytes(1 + rng.int(200)) };
      if (variant === 1) return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { ...json, 'Content-Encoding': rng.pick(['br', 'deflate', 'zstd', 'gzip, gzip', 'identity', 'x-gzip']) }, body };
      if (variant === 2) return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { ...json, 'Content-Encoding': 'gzip' }, body: gzipSync(Buffer.from(mutateText(rng, body.toString()))) };
      if (variant === 3) return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { 'Content-Type': rng.pick(['text/plain', 'application/octet-stream', '', 'application/json; charset=latin1']) }, body };
      if (variant === 4) return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { ...json, 'Content-Encoding': 'gzip' }, body: gzipBomb() };
      return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { ...json, 'X-Long': 'v'.repeat(rng.int(8000)) }, body };
    }
    case 5: {
      // Random bytes, invalid UTF-8 inside strings.
      const prefix = Buffer.from('{"instances": ["');
      return rng.chance(0.5)
        ? { kind: 'bytes', method: 'POST', path: '/v1/models/half:predict', headers: json, body: rng.bytes(rng.int(300)) }
        : { kind: 'bytes', method: 'POST', path: '/v1/models/half:predict', headers: json, body: Buffer.concat([prefix, rng.bytes(rng.int(20)).map((b) => (b === 0x22 || b === 0x5c ? 0x41 : b)), Buffer.from('"]}')]) };
    }
    case 6:
      return { kind: 'bomb', method: 'POST', path: rng.pick(['/v1/models/half:predict', '/v1/models/half:classify', '/v1/models/int64:predict']), headers: json, body: bomb(rng) };
    default: {
      // OIP (v2) infer with mutated bodies.
      const base = '{"inputs": [{"name": "x", "shape": [3, 1], "datatype": "FP32", "data": [1.0, 2.0, 5.0]}]}';
      return { kind: 'oip', method: 'POST', path: rng.pick(['/v2/models/half/infer', '/v2/models/half/versions/123/infer', '/v2/models/int64/infer']), headers: json, body: Buffer.from(mutateText(rng, base)) };
    }
  }
}
