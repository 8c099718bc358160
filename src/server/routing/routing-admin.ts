/**
 * Reading and replacing the routing config at run time (REST `GET|PUT /tfmodel/routing`, the
 * routing file poller): one place that parses, validates against what is loaded, and applies it.
 */
import { readFile } from 'node:fs/promises';
import { invalidArgument, toServingError } from '../errors.js';
import { type FilePoller, startFilePoller } from '../config/file-poller.js';
import type { Logger } from '../logging.js';
import { type RoutingConfig, parseRoutingConfig, routingConfigJson } from './routing-config.js';

/** The part of RoutedCore the admin needs. */
export interface RoutingTarget {
  routing(): RoutingConfig;
  /** Throws (FAILED_PRECONDITION) when a routed version is not AVAILABLE; nothing changes then. */
  setRouting(config: RoutingConfig): void;
}

export interface RoutingAdmin {
  /** The routing config as JSON text (the file format). */
  get(): string;
  /** Parses, validates and applies JSON text; returns the applied config as JSON text. */
  set(text: string): string;
}

export function routingAdmin(target: RoutingTarget): RoutingAdmin {
  return {
    get: () => JSON.stringify(routingConfigJson(target.routing())),
    set: (text) => {
      const config = parseRoutingConfig(text);
      target.setRouting(config);
      return JSON.stringify(routingConfigJson(config));
    },
  };
}

/** --routing_config_file at start: unreadable or invalid stops the server (as model.config does). */
export async function readRoutingFile(path: string): Promise<{ text: string; config: RoutingConfig }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalidArgument(`Could not read routing config file ${path}: ${(error as Error).message}`);
  }
  return { text, config: parseRoutingConfig(text, `routing config file ${path}`) };
}

export type RoutingPoller = FilePoller;

/**
 * Re-reads the routing file every `intervalMs` and applies it when its text changed. A file that
 * does not parse or validate is logged once (per content) and the running routing stays.
 */
export function startRoutingPoller(options: { path: string; intervalMs: number; initialText: string; target: RoutingTarget; log: Logger }): RoutingPoller {
  return startFilePoller({
    path: options.path,
    intervalMs: options.intervalMs,
    initialText: options.initialText,
    log: options.log,
    apply: (text) => options.target.setRouting(parseRoutingConfig(text, `routing config file ${options.path}`)),
    events: { unreadable: 'routing_file_unreadable', reloaded: 'routing_file_reloaded', rejected: 'routing_reload_rejected' },
    describeRejection: (error) => ({ error: toServingError(error).toString(), kept: 'previous routing' }),
  });
}
