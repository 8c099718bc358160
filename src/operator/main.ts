#!/usr/bin/env node
/**
 * tfmodel-operator. Exit codes: 0 after a graceful shutdown (SIGTERM/SIGINT), 1 when it cannot
 * start or lost the leader Lease (the kubelet restarts it, client-go's convention), 2 for usage errors.
 */
import { errorMessage } from './controller/errors.js';
import { type OperatorCommand, OperatorUsageError, operatorVersion, parseOperatorFlags, usage } from './flags.js';
import { PooledKubeConfig } from './kube/pooled-kube-config.js';
import { startOperator } from './operator.js';
import { jsonLogger } from '../server/logging.js';

/** Below the chart's terminationGracePeriodSeconds (30 s). */
const SHUTDOWN_DEADLINE_MS = 20_000;

function parseOrExit(): OperatorCommand {
  try {
    return parseOperatorFlags(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OperatorUsageError)) throw error;
    process.stderr.write(`tfmodel-operator: ${error.message}\nRun tfmodel-operator --help for the flags.\n`);
    process.exit(2);
  }
}

/** --kubeconfig, else in-cluster (the pod's ServiceAccount), else $KUBECONFIG or ~/.kube/config. */
function loadKubeConfig(path: string | undefined): PooledKubeConfig {
  const kc = new PooledKubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a pod');
  return kc;
}

async function main(): Promise<void> {
  const command = parseOrExit();
  if (command.kind !== 'run') {
    process.stdout.write(command.kind === 'help' ? usage() : `tfmodel-operator ${operatorVersion()}\n`);
    return;
  }

  const logger = jsonLogger();
  let operator;
  try {
    operator = await startOperator({
      flags: command.flags,
      kubeConfig: loadKubeConfig(command.flags.kubeconfig),
      logger,
      ...(process.env['POD_NAME'] ? { identity: process.env['POD_NAME'] } : {}),
    });
  } catch (error) {
    logger.error('start_failed', { error: errorMessage(error) });
    process.exit(1);
  }

  const shutdown = (signal: string): void => {
    logger.info('shutting_down', { signal });
    setTimeout(() => {
      logger.error('shutdown_deadline_exceeded', { deadline_ms: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown_failed', { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  void operator.stopped.then((reason) => {
    if (reason === 'lost') {
      logger.error('leader_lease_lost', {});
      process.exit(1);
    }
  });
}

void main();
