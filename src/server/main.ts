#!/usr/bin/env node
/**
 * tfmodel-server: a drop-in tensorflow_model_server. Exit codes: 0 after a graceful shutdown,
 * 1 when the server cannot start (stdout says "Failed to start server. Error: <status>", as
 * tensorflow_model_server prints it), 2 for usage errors (unknown flags, bad values).
 */
import { readFileSync } from 'node:fs';
import { type FlagsResult, UsageError, parseServerFlags, usage } from './config/flags.js';
import { ProtoTextFileError } from './config/text-proto.js';
import { toServingError } from './errors.js';
import { jsonLogger } from './logging.js';
import { startModelServer } from './model-server.js';

/** Kubernetes gives 30 s by default between SIGTERM and SIGKILL; finish well within it. */
const SHUTDOWN_DEADLINE_MS = Number(process.env['TFMODEL_SHUTDOWN_DEADLINE_MS'] ?? 25_000);

function parseOrExit(): FlagsResult {
  try {
    return parseServerFlags(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tfmodel-server: ${error.message}\nRun tfmodel-server --help for the flags.\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const parsed = parseOrExit();
  if (parsed.kind !== 'serve') {
    if (parsed.kind === 'help') process.stdout.write(`${usage()}\n`);
    else {
      // tensorflow_model_server --version prints these two lines.
      const version = (path: string): string => {
        try {
          return (JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string }).version;
        } catch {
          return 'unknown';
        }
      };
      process.stdout.write(
        `TensorFlow ModelServer: tfmodel-server ${version('../../../package.json')}\n` +
          `TensorFlow Library: TensorFlow.js ${version('../../../node_modules/@tensorflow/tfjs-core/package.json')}\n`,
      );
    }
    return;
  }

  const log = jsonLogger();
  let server;
  try {
    server = await startModelServer(parsed.flags, log);
  } catch (error) {
    const failure = toServingError(error);
    // What tensorflow_model_server prints: protobuf's parse error on stderr, the status on stdout.
    if (failure instanceof ProtoTextFileError) process.stderr.write(`${failure.protobufLog}\n`);
    log.error('start_failed', { error: failure.toString() });
    process.stdout.write(`Failed to start server. Error: ${failure.toString()}\n`, () => process.exit(1));
    return;
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting_down', { signal });
    const deadline = setTimeout(() => {
      log.error('shutdown_deadline_exceeded', { deadline_ms: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.stop().then(
      () => {
        log.info('stopped', {});
        process.exit(0);
      },
      (error: unknown) => {
        log.error('shutdown_failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
