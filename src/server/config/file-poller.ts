/**
 * Re-reads a config file every `intervalMs` and hands its text on when it changed (the model
 * config and routing config pollers). A file that cannot be read is logged and retried; a text the
 * caller rejects is logged once (per content) and the running config stays.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../logging.js';

export interface FilePollerOptions {
  readonly path: string;
  readonly intervalMs: number;
  /** The text the server started with (so an unchanged file is not applied again). */
  readonly initialText: string;
  /** Parses, validates and applies a changed text; throws to reject it (the old config stays). */
  readonly apply: (text: string) => void | Promise<void>;
  readonly log: Logger;
  /** The log event names: `<prefix>_unreadable`, `<prefix>_reloaded`, `<prefix>_rejected`. */
  readonly events: { readonly unreadable: string; readonly reloaded: string; readonly rejected: string };
  /** The fields logged with a rejection (the error, what was kept). */
  readonly describeRejection: (error: unknown) => Record<string, unknown>;
}

export interface FilePoller {
  /** Checks the file now (what each tick does). */
  pollOnce(): Promise<void>;
  stop(): void;
}

export function startFilePoller(options: FilePollerOptions): FilePoller {
  let lastSeen = options.initialText;
  let running = false;
  const pollOnce = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      let text: string;
      try {
        text = await readFile(options.path, 'utf8');
      } catch (error) {
        options.log.warn(options.events.unreadable, { path: options.path, error: (error as Error).message });
        return;
      }
      if (text === lastSeen) return;
      lastSeen = text;
      try {
        await options.apply(text);
        options.log.info(options.events.reloaded, { path: options.path });
      } catch (error) {
        options.log.error(options.events.rejected, { path: options.path, ...options.describeRejection(error) });
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void pollOnce(), options.intervalMs);
  timer.unref();
  return { pollOnce, stop: () => clearInterval(timer) };
}
