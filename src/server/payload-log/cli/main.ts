#!/usr/bin/env node
/**
 * tfmodel-payload-log: what to do with captured payload logs (logging_config's TFRecord files).
 *
 *   tfmodel-payload-log to-warmup --log=/logs/m --dir=/models/m/2 [--max_records=1000] [--model=m]
 *       writes /models/m/2/assets.extra/tf_serving_warmup_requests: the distinct logged requests
 *   tfmodel-payload-log replay --log=/logs/m --address=host:8500 [--model=m] [--version=2|--label=test]
 *       [--rtol=1e-5] [--atol=1e-6]
 *       re-sends each logged request, compares the answers with the logged ones; exit 1 on a mismatch
 *
 * --log takes files or directories (their *.tfrecord files, oldest first), comma-separated.
 * Prints a JSON report on stdout. Exit codes: 0 ok, 1 mismatches or failure, 2 usage errors.
 */
import { logFilesOf, readPredictionLogs, writeWarmupFile } from '../log-files.js';
import { replayLogs } from '../replay.js';

const USAGE = 'usage: tfmodel-payload-log to-warmup --log=PATHS --dir=VERSION_DIR [--max_records=N] [--model=NAME]\n' +
  '       tfmodel-payload-log replay --log=PATHS --address=HOST:PORT [--model=NAME] [--version=N | --label=L] [--rtol=R] [--atol=A]';

function parse(args: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const arg of args) {
    const match = /^--([a-z_]+)=(.*)$/s.exec(arg);
    if (!match) throw new Error(`unexpected argument "${arg}"`);
    flags.set(match[1]!, match[2]!);
  }
  return flags;
}

function required(flags: Map<string, string>, name: string): string {
  const value = flags.get(name);
  if (!value) throw new Error(`--${name} is required`);
  return value;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  let flags: Map<string, string>;
  try {
    flags = parse(rest);
    if (command !== 'to-warmup' && command !== 'replay') throw new Error(command ? `unknown command "${command}"` : 'no command');
    required(flags, 'log');
  } catch (error) {
    process.stderr.write(`tfmodel-payload-log: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const files = logFilesOf(flags.get('log')!.split(',').filter(Boolean));
  if (command === 'to-warmup') {
    const max = flags.has('max_records') ? Number(flags.get('max_records')) : undefined;
    const model = flags.get('model');
    const report = await writeWarmupFile(files, required(flags, 'dir'), { ...(max !== undefined ? { maxRecords: max } : {}), ...(model ? { model } : {}) });
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  const version = flags.get('version');
  const label = flags.get('label');
  const model = flags.get('model');
  const report = await replayLogs(readPredictionLogs(files), {
    address: required(flags, 'address'),
    ...(model ? { model } : {}),
    ...(version ? { version: BigInt(version) } : {}),
    ...(label ? { label } : {}),
    rtol: Number(flags.get('rtol') ?? 1e-5),
    atol: Number(flags.get('atol') ?? 1e-6),
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return report.mismatches.length === 0 && report.replayed > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`tfmodel-payload-log: ${(error as Error).message}\n`);
  process.exit(1);
});
