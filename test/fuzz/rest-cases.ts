/**
 * REST fuzz cases: a request (method, path, headers, body bytes) made from seeded mutations of
 * good requests to the models the fuzz server serves (fuzz-server.ts): mutated JSON, paths,
 * headers, encodings, bombs.
 */
import { gzipSync } from 'node:zlib';
import { type MediaSeeds, mediaRestCase } from './media-rest-cases.js';
import { mutateText } from './mutate-text.js';
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

/**
 * One case; the case number picks the family so every family appears at every seed. With `media`
 * (the string and image models are served) one case in five is for them.
 */
export function restCase(rng: Rng, index: number, media?: MediaSeeds): RestCase {
  const json = { 'Content-Type': 'application/json' };
  switch (index % (media ? 10 : 8)) {
    case 8:
    case 9:
      return mediaRestCase(rng, media!);
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
      // The bomb costs the server a second of inflating on a loaded machine: one in ten of these.
      if (variant === 4) return { kind: 'encoding', method: 'POST', path: '/v1/models/half:predict', headers: { ...json, 'Content-Encoding': 'gzip' }, body: rng.chance(0.1) ? gzipBomb() : gzipSync(Buffer.from(rng.pick(GOOD_BODIES))) };
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
