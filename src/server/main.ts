#!/usr/bin/env node
/**
 * tfmodel-server: a drop-in tensorflow_model_server. Exit codes: 0 after a graceful shutdown,
 * 1 when the server cannot start, 2 for usage errors (unknown flags, bad values).
 */
import { readFileSync } from 'node:fs';
import { type FlagsResult, UsageError, parseServerFlags, usage } from './config/flags.js';
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
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`tfmodel-server ${pkg.version}\n`);
    }
    return;
  }

  const log = jsonLogger();
  let server;
  try {
    server = await startModelServer(parsed.flags, log);
  } catch (error) {
    log.error('start_failed', { error: toServingError(error).toString() });
    process.exit(1);
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
