/**
 * REST fuzz cases for the string and image models (media-models.ts): string tensors with {"b64"}
 * objects right and wrong, invalid UTF-8, huge and many strings, the issue's shape reproducers
 * ({"instances":[["a","b"]]}, {"inputs":[]}, an emoji as inputs, {"instances":[1]}); images of
 * wrong rank, channels and sizes down to 1x1 (item 1's reproducer) and 0x0; PNG bytes corrupted,
 * truncated or claiming huge dimensions; uint8 pixels out of range.
 */
import { crc32 } from 'node:zlib';
import { mutateText } from './mutate-text.js';
import type { RestCase } from './rest-cases.js';
import type { Rng } from './rng.js';

/** A PNG TensorFlow encoded (png_bytes' 4x5 RGB case), the seed of the PNG mutations. */
export interface MediaSeeds {
  readonly png: Buffer;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

const STRING_TOKENS = ['{"b64": "!!"}', '{"b64": ""}', '{"b64": "YQ"}', '{"b64": "YQ=="}', '{"b64": 5}', '{"b64": "YQ==", "x": 1}', '{"b64": null}', '{"b64": ["YQ=="]}',
  '"\\ud83d\\ude00"', '"\\udc00"', '"\u{1f600}"', '""', '"a b c d e f g h"', '"THE CAT!!!"', '1', 'true', 'null', '[]', '{}', '[""]', '"\\u0000"'];

function strings(rng: Rng): string[] {
  return Array.from({ length: rng.int(4) }, () => rng.pick(['The cat!', '', 'zzz unknown words', 'a dog ate my homework', '\u00e9\u{1f600}', ' ', 'the the the']));
}

/** Bodies for `text` ([-1,1] strings; signatures serving_default and serve). */
function textBody(rng: Rng): Buffer {
  const rows = (): string => JSON.stringify(strings(rng).map((s) => [s]));
  switch (rng.int(12)) {
    case 0: return Buffer.from('{"instances":[["a","b"]]}');
    case 1: return Buffer.from(rng.pick(['{"inputs":[]}', '{"instances":[]}', '{"inputs":{}}', '{"inputs":{"text":[]}}', '{"inputs":[[]]}']));
    case 2: return Buffer.from(rng.pick(['{"inputs":"\u{1f600}"}', '{"inputs":"\\ud83d\\ude00"}', '{"instances":["\u{1f600}"]}', '{"instances":[""]}', '{"instances":[[""]]}']));
    case 3: {
      // Invalid UTF-8 bytes inside a string (accepted byte for byte, as TF Serving does).
      const junk = Buffer.from(rng.bytes(1 + rng.int(30)).map((b) => (b < 0x20 || b === 0x22 || b === 0x5c ? 0xff : b)));
      return Buffer.concat([Buffer.from(`{"signature_name":"${rng.pick(['serving_default', 'serve'])}","instances":[["`), junk, Buffer.from('"]]}')]);
    }
    case 4: return Buffer.from(`{"instances":[["${'word '.repeat(1 + rng.int(rng.chance(0.1) ? 200_000 : 2000))}"]]}`);
    case 5: return Buffer.from(`{"inputs":{"text":[${Array(1 + rng.int(rng.chance(0.1) ? 100_000 : 2000)).fill('["a dog"]').join(',')}]}}`);
    case 6: return Buffer.from(`{"instances":[[{"b64":"${Buffer.from(rng.bytes(rng.int(64))).toString('base64')}"}]]}`);
    case 7: return Buffer.from(`{"inputs":{"text":${rng.pick(['[["a"],["b","c"]]', '[[["a"]]]', '"a"', '[1,2]', '[[1.5]]', '[[true]]', '[[null]]', '[["a"],[1]]'])}}}`);
    case 8: return Buffer.from(`{"instances":[${rng.pick(['{"text":["a"]}', '{"text":"a"}', '{"text":["a"],"x":[1]}', '{"nope":["a"]}', '{}'])}]}`);
    default: return Buffer.from(mutateText(rng, `{"signature_name":"${rng.pick(['serving_default', 'serve', 'nope'])}","inputs":{"text":${rows()}}}`, STRING_TOKENS));
  }
}

/** A nested JSON image [n, h, w, c] of small numbers. */
function image(rng: Rng, n: number, h: number, w: number, c: number): string {
  const pixel = `[${Array.from({ length: c }, () => (rng.int(2560) / 10).toString()).join(',')}]`;
  const row = `[${Array(w).fill(pixel).join(',')}]`;
  const plane = `[${Array(h).fill(row).join(',')}]`;
  return `[${Array(n).fill(plane).join(',')}]`;
}

const IMAGE_TOKENS = ['NaN', 'Infinity', '-Infinity', '1e39', '-0', '"a"', '{"b64": "AAAA"}', 'null', 'true', '[]', '[[]]', '[0.1, 0.2]', '[0.1, 0.2, 0.3, 0.4]', '256', '-1', '1.5'];

/** Bodies for `img` (float [-1,-1,-1,3], MobileNetV3) and `u8img` (uint8 [-1,16,16,3]). */
function imageBody(rng: Rng, uint8: boolean): Buffer {
  const alias = uint8 ? 'pixels' : 'image';
  switch (rng.int(10)) {
    case 0: return Buffer.from('{"instances":[[[[0.1,0.2,0.3]]]]}');
    case 1: return Buffer.from(rng.pick(['{"instances":[1]}', '{"instances":[[1,2,3]]}', '{"instances":[[[1,2,3]]]}', '{"instances":[[[[[1,2,3]]]]]}', '{"inputs":[1,2,3]}']));
    case 2: {
      // Sizes down to 1x1 and 0x0, channels 0 to 4.
      const h = rng.pick([0, 1, 2, 3, 5, 7, 16]);
      const w = rng.pick([0, 1, 2, 4, 16, 31]);
      return Buffer.from(`{"inputs":{"${alias}":${image(rng, 1 + rng.int(2), h, w, rng.pick([0, 1, 3, 3, 4]))}}}`);
    }
    case 3: return Buffer.from(`{"inputs":{"${alias}":${image(rng, 1, rng.pick([1, 2]), rng.pick([300, 1000]), 3)}}}`);
    case 4: return Buffer.from(`{"instances":${rng.pick(['[[[[1,2,3]],[[1,2]]]]', '[[[[1,2,3],[4,5,6]]],[[[1,2,3]]]]', '[[[["a","b","c"]]]]', '[[[[{"b64":"AAAA"},1,2]]]]', '[[[[]]]]', '[[[]]]', '[{"image":[[[1,2,3]]]}]', '[{"pixels":[[[1,2,3]]],"x":1}]'])}}`);
    case 5: return Buffer.from(`{"inputs":{"${alias}":${image(rng, 1, 16, 16, 3).replace(/\d+(\.\d+)?/, rng.pick(['256', '-1', '1.5', '1e10', 'NaN', '"7"', '-0', '65535']))}}}`);
    case 6: return Buffer.from(`{"signature_name":"${rng.pick(['serve', 'serving_default', 'x'])}","inputs":{"${rng.pick([alias, 'image', 'pixels', 'x'])}":${image(rng, 1, 2, 2, 3)}}}`);
    default: return Buffer.from(mutateText(rng, `{"inputs":{"${alias}":${image(rng, 1, 1 + rng.int(4), 1 + rng.int(4), 3)}}}`, IMAGE_TOKENS));
  }
}

/** `png` with `data` as its scalar image_bytes, in one of the request forms. */
function pngRequest(rng: Rng, data: Buffer): string {
  const b64 = data.toString('base64');
  const signature = rng.pick(['serving_default', 'own', 'rgba']);
  switch (rng.int(4)) {
    case 0: return `{"signature_name":"${signature}","inputs":{"image_bytes":{"b64":"${b64}"}}}`;
    case 1: return `{"signature_name":"${signature}","instances":[{"b64":"${b64}"}]}`;
    case 2: return `{"signature_name":"${signature}","inputs":{"image_bytes":[{"b64":"${b64}"},{"b64":"${b64}"}]}}`;
    default: return `{"signature_name":"${signature}","inputs":{"image_bytes":${JSON.stringify(data.toString('latin1'))}}}`;
  }
}

/** The PNG with its IHDR width and height replaced (CRC recomputed, so decoders read it). */
function withDimensions(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width >>> 0, 16);
  out.writeUInt32BE(height >>> 0, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)) >>> 0, 29);
  return out;
}

function pngBytes(rng: Rng, seed: Buffer): Buffer {
  switch (rng.int(7)) {
    case 0: return seed.subarray(0, rng.int(seed.length));
    case 1: {
      const out = Buffer.from(seed);
      for (let i = 0; i < 1 + rng.int(6); i++) out[8 + rng.int(out.length - 8)] = rng.int(256);
      return out;
    }
    case 2: return withDimensions(seed, rng.pick([0, 1, 65535, 100_000, 0x7fffffff, 0xffffffff]), rng.pick([0, 1, 65535, 100_000, 0x7fffffff]));
    case 3: return rng.bytes(rng.int(200));
    case 4: return Buffer.concat([Buffer.from(rng.pick(['ffd8ffe000104a464946', '474946383961', '424d', '89504e470d0a1a0a']), 'hex'), rng.bytes(rng.int(100))]);
    case 5: return Buffer.alloc(0);
    default: return seed;
  }
}

export function mediaRestCase(rng: Rng, seeds: MediaSeeds): RestCase {
  switch (rng.int(4)) {
    case 0: return { kind: 'text', method: 'POST', path: '/v1/models/text:predict', headers: JSON_HEADERS, body: textBody(rng) };
    case 1: return { kind: 'image', method: 'POST', path: '/v1/models/img:predict', headers: JSON_HEADERS, body: imageBody(rng, false) };
    case 2: return { kind: 'uint8 image', method: 'POST', path: '/v1/models/u8img:predict', headers: JSON_HEADERS, body: imageBody(rng, true) };
    default: return { kind: 'png', method: 'POST', path: '/v1/models/png:predict', headers: JSON_HEADERS, body: Buffer.from(pngRequest(rng, pngBytes(rng, seeds.png))) };
  }
}
