/** Seeded edits of a JSON text: the mutations the REST campaigns make of good request bodies. */
import type { Rng } from './rng.js';

const TOKENS = ['NaN', 'Infinity', '-Infinity', '1e400', '-0', '1.7976931348623157e309', '9223372036854775808', '-9223372036854775809',
  '"\\ud800"', '"\\u0000"', 'null', 'true', '{}', '[]', '[[]]', '{"b64": "!!"}', '{"b64": "AAAA"}', '"x"', '1.5', '123456789012345678901234567890',
  '[1, [2]]', '{"x": {"y": {}}}', '"\u00e9\u{1f600}"', '0x10', '01', '.5', '1.', '+1'];
const KEYS = ['instances', 'inputs', 'examples', 'context', 'signature_name', 'x', 'y', '', '__proto__', 'constructor', 'b64'];

/** `text` with 1 to 4 seeded edits: cuts, inserted `tokens` or characters, renamed keys, nesting. */
export function mutateText(rng: Rng, text: string, tokens: readonly string[] = TOKENS): string {
  const rounds = 1 + rng.int(4);
  let out = text;
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(9)) {
      case 0: out = out.slice(0, at); break;
      case 1: out = out.slice(0, at) + rng.pick(tokens) + out.slice(at); break;
      case 2: out = out.slice(0, at) + out.slice(at + 1 + rng.int(4)); break;
      case 3: out = out.slice(0, at) + String.fromCharCode(rng.int(128)) + out.slice(at); break;
      case 4: out = out.replace(/\d+(\.\d+)?/, rng.pick(tokens)); break;
      case 5: out = out.replace(/"\w+"/, `"${rng.pick(KEYS)}"`); break;
      case 6: out = `{"${rng.pick(KEYS)}": ${rng.pick(tokens)}, ${out.slice(1)}`; break;
      case 7: out = out.replace(/\[/, '['.repeat(1 + rng.int(40))); break;
      default: out = out.slice(0, at) + out.slice(at).replace(/[\]}]/, ''); break;
    }
  }
  return out;
}
