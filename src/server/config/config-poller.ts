/**
 * --model_config_file_poll_wait_seconds: re-reads the model config file and reloads it when its
 * content changed. A file that does not parse or validate, or a reload the manager refuses, is
 * logged once (per content) and the running config stays.
 */
import { readFile } from 'node:fs/promises';
import type { ModelConfigList } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import { modelConfigListOf, parseModelServerConfig } from './model-config.js';
import { describeConfigError } from './text-proto.js';

export interface ConfigPollerOptions {
  readonly path: string;
  readonly intervalMs: number;
  /** The text the server started with (so an unchanged file is not reloaded). */
  readonly initialText: string;
  readonly reload: (list: ModelConfigList) => Promise<void>;
  readonly log: Logger;
}

export interface ConfigPoller {
  /** Checks the file now (what each tick does). */
  pollOnce(): Promise<void>;
  stop(): void;
}

export function startConfigPoller(options: ConfigPollerOptions): ConfigPoller {
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
        options.log.warn('config_file_unreadable', { path: options.path, error: (error as Error).message });
        return;
      }
      if (text === lastSeen) return;
      lastSeen = text;
      try {
        await options.reload(modelConfigListOf(parseModelServerConfig(text, options.path)));
        options.log.info('config_file_reloaded', { path: options.path });
      } catch (error) {
        // TF Serving: "Failed to read ModelServerConfig file: ..." and the config is kept.
        options.log.error('config_reload_rejected', { path: options.path, ...describeConfigError(toServingError(error)), kept: 'previous config' });
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void pollOnce(), options.intervalMs);
  timer.unref();
  return { pollOnce, stop: () => clearInterval(timer) };
}
