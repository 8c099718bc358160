/**
 * --model_config_file_poll_wait_seconds: re-reads the model config file and reloads it when its
 * content changed. A file that does not parse or validate, or a reload the manager refuses, is
 * logged once (per content) and the running config stays.
 */
import type { ModelConfigList } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import { type FilePoller, startFilePoller } from './file-poller.js';
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

export type ConfigPoller = FilePoller;

export function startConfigPoller(options: ConfigPollerOptions): ConfigPoller {
  return startFilePoller({
    path: options.path,
    intervalMs: options.intervalMs,
    initialText: options.initialText,
    log: options.log,
    apply: (text) => options.reload(modelConfigListOf(parseModelServerConfig(text, options.path))),
    events: { unreadable: 'config_file_unreadable', reloaded: 'config_file_reloaded', rejected: 'config_reload_rejected' },
    // TF Serving: "Failed to read ModelServerConfig file: ..." and the config is kept.
    describeRejection: (error) => ({ ...describeConfigError(toServingError(error)), kept: 'previous config' }),
  });
}
