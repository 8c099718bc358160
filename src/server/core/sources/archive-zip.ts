/**
 * Extracts a .zip (yauzl, which refuses names that escape and checks each entry's sizes) into a
 * directory: regular files and directories only, each entry's CRC-32 checked, bytes and entries
 * counted against the limits (the declared sizes first, then what actually streams out).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ArchiveRefused, ExtractBudget, type ExtractLimits, entryPath } from './archive-entries.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function open(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

function readStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))));
}

/** The entries one at a time (yauzl's lazy reading), ending on 'end' or an error. */
async function* entries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  for (;;) {
    const next = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const cleanup = () => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
      };
      const onEntry = (entry: yauzl.Entry) => (cleanup(), resolve(entry));
      const onEnd = () => (cleanup(), resolve(undefined));
      const onError = (error: Error) => (cleanup(), reject(error));
      zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
      zip.readEntry();
    });
    if (!next) return;
    yield next;
  }
}

export async function extractZip(file: string, dest: string, limits: ExtractLimits): Promise<ExtractBudget> {
  const budget = new ExtractBudget(limits);
  const zip = await open(file);
  try {
    for await (const entry of entries(zip)) {
      const name = entry.fileName;
      budget.entry(name);
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      const isDir = name.endsWith('/') || mode === S_IFDIR;
      if (isDir) {
        await mkdir(entryPath(dest, name), { recursive: true });
        continue;
      }
      if (mode !== 0 && mode !== S_IFREG) throw new ArchiveRefused(`entry "${name}" is not a regular file (mode ${mode.toString(8)}); only files and directories are extracted`);
      budget.check(name, entry.uncompressedSize);
      const path = entryPath(dest, name);
      await mkdir(dirname(path), { recursive: true });
      let crc = 0;
      const count = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            budget.add(name, chunk.length);
            crc = crc32(chunk, crc);
            callback(null, chunk);
          } catch (error) {
            callback(error as Error);
          }
        },
      });
      await pipeline(await readStream(zip, entry), count, createWriteStream(path, { flags: 'wx' }));
      if (crc >>> 0 !== entry.crc32 >>> 0) throw new ArchiveRefused(`entry "${name}": CRC-32 ${(crc >>> 0).toString(16)} of the bytes, ${(entry.crc32 >>> 0).toString(16)} recorded (corrupt archive)`);
    }
  } finally {
    zip.close();
  }
  if (budget.entries === 0) throw new ArchiveRefused('no entries');
  return budget;
}
