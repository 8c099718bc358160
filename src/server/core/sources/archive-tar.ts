/**
 * Extracts a .tar or .tar.gz (tar-stream; node's gunzip, which checks the gzip CRC and length)
 * into a directory: regular files and directories only, every name checked by entryPath, bytes
 * and entries counted against the limits while they stream, so a bomb stops at the bound.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { ArchiveRefused, ExtractBudget, type ExtractLimits, entryPath } from './archive-entries.js';

export async function extractTar(file: string, gzipped: boolean, dest: string, limits: ExtractLimits): Promise<ExtractBudget> {
  const budget = new ExtractBudget(limits);
  const extract = tarStream.extract();
  const feeding = gzipped ? pipeline(createReadStream(file), createGunzip(), extract) : pipeline(createReadStream(file), extract);
  // Whichever fails first is the error; the other is then only a consequence.
  let feedError: unknown;
  const fed = feeding.catch((error: unknown) => {
    feedError = error;
  });
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      budget.entry(name);
      if (type === 'directory') {
        await mkdir(entryPath(dest, name), { recursive: true });
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') throw new ArchiveRefused(`entry "${name}" is a ${type ?? 'special entry'}; only files and directories are extracted`);
      const path = entryPath(dest, name);
      await mkdir(dirname(path), { recursive: true });
      const count = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            budget.add(name, chunk.length);
            callback(null, chunk);
          } catch (error) {
            callback(error as Error);
          }
        },
      });
      await pipeline(entry, count, createWriteStream(path, { flags: 'wx' }));
    }
  } catch (error) {
    extract.destroy();
    await fed;
    throw error;
  }
  await fed;
  if (feedError) throw feedError;
  if (budget.entries === 0) throw new ArchiveRefused('no entries (not a tar archive?)');
  return budget;
}
