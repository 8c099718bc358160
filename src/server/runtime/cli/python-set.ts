/**
 * The iteration order of a Python 3.11 set of str, as CPython produces it with hash
 * randomisation off (PYTHONHASHSEED=0): SipHash-1-3 with a zero key over the string's compact
 * storage, then CPython's open-addressing table (linear probes of 9, perturbed probing, growth
 * at 3/5 full). saved_model_cli prints sets of op names; with a random seed TensorFlow's own order
 * changes from run to run, and this is the order it prints with the seed fixed to 0.
 */
import { pyStrRepr } from './python-repr.js';

const MASK64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK64;
}

/** SipHash-1-3 with k0 = k1 = 0, as CPython's pyhash.c computes it. */
export function siphash13(data: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n;
  let v1 = 0x646f72616e646f6dn;
  let v2 = 0x6c7967656e657261n;
  let v3 = 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK64; v2 = (v2 + v3) & MASK64;
    v1 = rotl(v1, 13n) ^ v0; v3 = rotl(v3, 16n) ^ v2;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v1) & MASK64; v0 = (v0 + v3) & MASK64;
    v1 = rotl(v1, 17n) ^ v2; v3 = rotl(v3, 21n) ^ v0;
    v2 = rotl(v2, 32n);
  };
  const word = (offset: number, length: number): bigint => {
    let w = 0n;
    for (let i = length - 1; i >= 0; i--) w = (w << 8n) | BigInt(data[offset + i]!);
    return w;
  };
  let pos = 0;
  for (; pos + 8 <= data.length; pos += 8) {
    const m = word(pos, 8);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  const b = ((BigInt(data.length) << 56n) | word(pos, data.length - pos)) & MASK64;
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK64;
}

/** The bytes CPython hashes for a str: 1, 2 or 4 bytes per code point (latin-1, UCS-2, UCS-4). */
function compactStorage(text: string): Uint8Array {
  const codes = [...text].map((c) => c.codePointAt(0)!);
  const max = Math.max(0, ...codes);
  const width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  const out = new Uint8Array(codes.length * width);
  const dv = new DataView(out.buffer);
  codes.forEach((code, i) => {
    if (width === 1) out[i] = code;
    else if (width === 2) dv.setUint16(i * 2, code, true);
    else dv.setUint32(i * 4, code, true);
  });
  return out;
}

const hashCache = new Map<string, bigint>();

/** hash(text) with PYTHONHASHSEED=0, as an unsigned 64-bit value (size_t, as set probing uses it). */
export function pyStrHash(text: string): bigint {
  if (text.length === 0) return 0n;
  let h = hashCache.get(text);
  if (h === undefined) {
    h = siphash13(compactStorage(text));
    if (h === MASK64) h = MASK64 - 1n; // -1 is reserved: CPython returns -2
    hashCache.set(text, h);
  }
  return h;
}

const LINEAR_PROBES = 9;
const PERTURB_SHIFT = 5n;

interface Slot {
  readonly key: string;
  readonly hash: bigint;
}

/** A CPython set of str, tracking its hash table so iteration order matches. */
export class PySet {
  private table: Array<Slot | undefined> = new Array<Slot | undefined>(8);
  private used = 0;
  private readonly members = new Set<string>();

  constructor(items: Iterable<string> = []) {
    for (const item of items) this.add(item);
  }

  has(key: string): boolean {
    return this.members.has(key);
  }

  add(key: string): void {
    if (this.members.has(key)) return;
    this.members.add(key);
    const hash = pyStrHash(key);
    const mask = BigInt(this.table.length - 1);
    let i = hash & mask;
    let perturb = hash;
    for (;;) {
      const probes = i + BigInt(LINEAR_PROBES) <= mask ? LINEAR_PROBES : 0;
      for (let j = 0; j <= probes; j++) {
        const slot = this.table[Number(i) + j];
        if (!slot) {
          this.table[Number(i) + j] = { key, hash };
          this.used++;
          if (this.used * 5 >= Number(mask) * 3) this.resize(this.used > 50000 ? this.used * 2 : this.used * 4);
          return;
        }
        if (slot.hash === hash && slot.key === key) return;
      }
      perturb >>= PERTURB_SHIFT;
      i = (i * 5n + 1n + perturb) & mask;
    }
  }

  private resize(minUsed: number): void {
    let size = 8;
    while (size <= minUsed) size <<= 1;
    const old = this.table;
    this.table = new Array<Slot | undefined>(size);
    const mask = BigInt(size - 1);
    for (const slot of old) {
      if (!slot) continue;
      let i = slot.hash & mask;
      let perturb = slot.hash;
      for (;;) {
        if (!this.table[Number(i)]) {
          this.table[Number(i)] = slot;
          break;
        }
        let placed = false;
        if (i + BigInt(LINEAR_PROBES) <= mask) {
          for (let j = 1; j <= LINEAR_PROBES; j++) {
            if (!this.table[Number(i) + j]) {
              this.table[Number(i) + j] = slot;
              placed = true;
              break;
            }
          }
        }
        if (placed) break;
        perturb >>= PERTURB_SHIFT;
        i = (i * 5n + 1n + perturb) & mask;
      }
    }
  }

  /** Iteration order. */
  values(): string[] {
    return this.table.filter((s): s is Slot => s !== undefined).map((s) => s.key);
  }

  /** repr(set): {'a', 'b'}, or set() when empty. */
  repr(): string {
    const values = this.values();
    return values.length === 0 ? 'set()' : `{${values.map(pyStrRepr).join(', ')}}`;
  }
}
