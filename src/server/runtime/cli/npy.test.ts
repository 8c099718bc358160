import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { halfToNumber, numberToHalf } from './dragon4.js';
import { type NdArray, type NpData, allocate, parseDtypeName } from './ndarray.js';
import { NpyFormatError, decodeNpy, encodeNpy, loadNumpy } from './npy.js';
import { callOracle, venvPython } from './test-oracle.js';

type Value = number | bigint | boolean | string | Uint8Array;

/** An array spec for oracle.py plus the array we expect to read back. */
interface Fixture {
  readonly spec: { dtype: string; shape: number[]; values: unknown[] };
  readonly expected: NdArray;
}

function fixture(descr: string, shape: number[], values: Value[]): Fixture {
  const dtype = parseDtypeName(descr)!;
  const data = allocate(dtype, values.length) as unknown as Value[];
  values.forEach((v, i) => {
    if (dtype.kind === 'f' && dtype.itemsize === 2) data[i] = numberToHalf(v as number);
    else if (dtype.kind === 'b') data[i] = v ? 1 : 0;
    else data[i] = v;
  });
  const json = values.map((v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (typeof v === 'boolean' || typeof v === 'string') return v;
    return Object.is(v, -0) ? '-0.0' : String(v);
  });
  return { spec: { dtype: descr, shape, values: json }, expected: { dtype, shape, data: data as unknown as NpData } };
}

const ints = (n: number, scale: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7919) % (2 * scale + 1)) - scale);

function numericFixtures(): Array<[string, Fixture]> {
  const list: Array<[string, Fixture]> = [];
  const shape = [2, 3];
  for (const order of ['<', '>']) {
    list.push([`f4 ${order}`, fixture(`${order}f4`, shape, [0.5, -1.25, 3.1415927, 1e-20, 65504, -0].map(Math.fround))]);
    list.push([`f8 ${order}`, fixture(`${order}f8`, shape, [0.1, -1e300, Math.PI, 5e-324, 2 ** 53, -0])]);
    list.push([`f2 ${order}`, fixture(`${order}f2`, shape, [0.5, -2, 1000, 0.1, 65504, -0].map((v) => halfToNumber(numberToHalf(v))))]);
    list.push([`i2 ${order}`, fixture(`${order}i2`, shape, [-32768, 32767, 0, 1, -1, 12345])]);
    list.push([`i4 ${order}`, fixture(`${order}i4`, shape, [-2147483648, 2147483647, 0, 1, -1, 123456789])]);
    list.push([`i8 ${order}`, fixture(`${order}i8`, shape, [-(2n ** 63n), 2n ** 63n - 1n, 0n, 1n, -1n, 9007199254740993n])]);
    list.push([`u2 ${order}`, fixture(`${order}u2`, shape, [0, 65535, 1, 2, 3, 4])]);
    list.push([`u4 ${order}`, fixture(`${order}u4`, shape, [0, 4294967295, 1, 2, 3, 4])]);
    list.push([`u8 ${order}`, fixture(`${order}u8`, shape, [0n, 2n ** 64n - 1n, 1n, 2n, 3n, 4n])]);
    list.push([`U3 ${order}`, fixture(`${order}U3`, shape, ['a', 'bc', 'déf', '', '😀x', 'z'])]);
  }
  list.push(['i1', fixture('|i1', shape, [-128, 127, 0, 1, -1, 5])]);
  list.push(['u1', fixture('|u1', shape, [0, 255, 1, 2, 3, 4])]);
  list.push(['b1', fixture('|b1', shape, [true, false, true, true, false, false])]);
  list.push(['S5', fixture('|S5', shape, ['abc', '', 'hello', 'x\x00y', '\xff', 'q'].map((s) => Uint8Array.from(Buffer.from(s, 'latin1'))))]);
  return list;
}

describe('cli/npy', function () {
  this.timeout(60_000);
  let dir = '';
  let saved: string[] = [];
  const files: Array<{ name: string; check: (bytes: Uint8Array) => void; request: object }> = [];
  const toSave: Fixture[] = [
    fixture('<f4', [2, 1], [2.5, 3]),
    fixture('<i8', [3], [1n, -2n, 3n]),
    fixture('|b1', [2], [true, false]),
    fixture('|S5', [2], [Uint8Array.of(97, 98), Uint8Array.of(104, 101, 108, 108, 111)]),
    fixture('<f4', [], [1.5]),
    fixture('|u1', [0], []),
    fixture('<f8', [100000], Array.from({ length: 100000 }, (_, i) => i / 8)),
    fixture('<i4', [3, 4, 5], ints(60, 1000)),
    fixture('<U3', [2], ['ab', 'é']),
  ];

  const npyFile = (name: string, f: Fixture, options: { order?: string; version?: number[] } = {}): void => {
    files.push({
      name,
      request: { kind: 'npy', name, array: f.spec, order: options.order ?? 'C', version: options.version ?? null },
      check: (bytes) => {
        const fortran = Buffer.from(bytes.subarray(0, 128)).toString('latin1').includes("'fortran_order': True");
        assert.equal(fortran, options.order === 'F', `${name} fortran_order`);
        assert.deepEqual(decodeNpy(bytes), f.expected, name);
      },
    });
  };

  for (const [label, f] of numericFixtures()) npyFile(`${label.replace('<', 'little').replace('>', 'big').replace(/\W+/g, '_')}.npy`, f);
  const cube = fixture('<f4', [2, 3, 4], ints(24, 50).map((v) => v / 4));
  npyFile('fortran_2d.npy', fixture('<i4', [3, 4], ints(12, 100)), { order: 'F' });
  npyFile('fortran_3d.npy', cube, { order: 'F' });
  npyFile('fortran_big_endian.npy', fixture('>f8', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]), { order: 'F' });
  npyFile('v2.npy', cube, { version: [2, 0] });
  npyFile('v3.npy', fixture('<U3', [2], ['é', 'ü']), { version: [3, 0] });
  npyFile('scalar.npy', fixture('<f8', [], [42.5]));
  npyFile('empty.npy', fixture('<f4', [0], []));
  npyFile('empty_2d.npy', fixture('<i8', [2, 0], []));
  for (const compressed of [false, true]) {
    const a = fixture('<f4', [2, 2], [1, 2, 3, 4]);
    const b = fixture('<i8', [3], [7n, 8n, 9n]);
    const name = compressed ? 'compressed.npz' : 'stored.npz';
    files.push({
      name,
      request: { kind: 'npz', name, compressed, arrays: { a: a.spec, b: b.spec } },
      check: (bytes) => {
        const loaded = loadNumpy(bytes);
        assert.equal(loaded.kind, 'npz');
        if (loaded.kind !== 'npz') return;
        assert.deepEqual(loaded.files, ['a', 'b']);
        assert.deepEqual(loaded.get('a'), a.expected);
        assert.deepEqual(loaded.get('b.npy'), b.expected);
        assert.equal(loaded.get('c'), undefined);
      },
    });
  }

  before(async function () {
    const venv = venvPython();
    if (!venv.python) {
      console.warn(`skipping: ${venv.skipReason}`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'npy-test-'));
    const answer = await callOracle<{ saved: string[] }>(venv.python!, {
      mode: 'npy',
      dir,
      files: files.map((f) => f.request),
      save: toSave.map((f) => f.spec),
    });
    saved = answer.saved;
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every dtype, byte order, memory order and format version numpy writes', () => {
    for (const f of files.filter((f) => f.name.endsWith('.npy'))) f.check(readFileSync(join(dir, f.name)));
  });

  it('reads .npz archives, stored and deflated', () => {
    for (const f of files.filter((f) => f.name.endsWith('.npz'))) f.check(readFileSync(join(dir, f.name)));
  });

  it('writes exactly the bytes np.save writes', () => {
    toSave.forEach((f, i) => {
      const ours = Buffer.from(encodeNpy(f.expected)).toString('base64');
      assert.equal(ours, saved[i], `np.save of ${f.spec.dtype} ${JSON.stringify(f.spec.shape)}`);
    });
  });
});

describe('cli/npy without Python', () => {
  it('round-trips what it writes', () => {
    const arrays = [
      fixture('<f4', [2, 1], [2.5, 3]),
      fixture('<i8', [3], [1n, -2n, 3n]),
      fixture('|b1', [2], [true, false]),
      fixture('|S5', [2], [Uint8Array.of(97, 98), Uint8Array.of(104, 101, 108, 108, 111)]),
      fixture('<U3', [2], ['ab', 'é']),
      fixture('<f2', [], [0.5]),
      fixture('>u2', [2, 2], [1, 2, 3, 65535]),
    ];
    for (const f of arrays) assert.deepEqual(decodeNpy(encodeNpy(f.expected)), f.expected);
  });

  it('refuses pickles, object arrays and truncated files', () => {
    assert.throws(() => loadNumpy(Uint8Array.from([0x80, 0x04, 0x95])), NpyFormatError);
    const objectHeader = encodeNpy(fixture('<f4', [1], [1]).expected);
    const text = Buffer.from(objectHeader).toString('latin1').replace("'<f4'", "'|O' ");
    assert.throws(() => decodeNpy(Uint8Array.from(Buffer.from(text, 'latin1'))), /pickle/);
    const whole = encodeNpy(fixture('<f8', [4], [1, 2, 3, 4]).expected);
    assert.throws(() => decodeNpy(whole.subarray(0, whole.length - 3)), /truncated/);
    assert.throws(() => loadNumpy(Uint8Array.from(Buffer.from('not numpy'))), NpyFormatError);
    assert.throws(() => loadNumpy(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0])), /zip/);
  });
});
