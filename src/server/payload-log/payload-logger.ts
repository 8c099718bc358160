/**
 * TF Serving's logging_config, per model: a sampled fraction of the model's predict, classify
 * and regress calls becomes PredictionLog records, written by the collector the config names:
 *
 *   logging_config { sampling_config { sampling_rate: 0.1 }
 *                    log_collector_config { type: "tfrecord" filename_prefix: "/logs/m/requests" } }
 *
 * - type "tfrecord" (or empty): TFRecord files of serialized PredictionLogs, the format of
 *   assets.extra/tf_serving_warmup_requests, so a captured file is warmup data as it is.
 * - type "jsonl": one JSON object per line ({"time", "model_name", "version", ...the
 *   PredictionLog as protobuf JSON}), with the server's redaction rules applied.
 * Sampling is decided first (an unsampled call costs one random number); a sampled record is
 * built after the response is sent, and written in the background (record-file-writer.ts).
 */
import { toBinary, toJson } from '@bufbuild/protobuf';
import { type PredictionLog, PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import type { LoggingConfig } from '../../gen/tensorflow_serving/config/logging_config_pb.js';
import type { ModelConfig, ModelConfigList } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import type { PayloadLogSink } from '../core/types.js';
import { invalidArgument } from '../errors.js';
import type { Logger } from '../logging.js';
import { encodeTfRecords } from '../warmup/tfrecord.js';
import { type RedactionRule, redact, rulesFor } from './redaction.js';
import { RecordFileWriter } from './record-file-writer.js';

export const COLLECTOR_TYPES = ['', 'tfrecord', 'jsonl'] as const;

export interface PayloadLogLimits {
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  readonly maxQueueBytes: number;
}

export const DEFAULT_PAYLOAD_LOG_LIMITS: PayloadLogLimits = { maxFileBytes: 64 << 20, maxFiles: 10, maxQueueBytes: 16 << 20 };

/** What a counting observer (metrics) hears. */
export interface PayloadLogObserver {
  payloadLogRecord(model: string, outcome: 'written' | 'dropped', bytes: number): void;
}

/** One model's sampled log. The API functions call `sample()`, then `write()` if it said yes. */
export class PayloadLog implements PayloadLogSink {
  private readonly writer: RecordFileWriter;
  private readonly rate: number;
  private readonly jsonl: boolean;

  constructor(
    readonly model: string,
    readonly config: LoggingConfig,
    limits: PayloadLogLimits,
    private readonly rules: readonly RedactionRule[],
    observer: PayloadLogObserver | undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.rate = config.samplingConfig?.samplingRate ?? 0;
    this.jsonl = config.logCollectorConfig?.type === 'jsonl';
    this.writer = new RecordFileWriter({
      prefix: config.logCollectorConfig!.filenamePrefix,
      extension: this.jsonl ? '.jsonl' : '.tfrecord',
      ...limits,
      onDrop: () => observer?.payloadLogRecord(model, 'dropped', 0),
      onWritten: (bytes) => observer?.payloadLogRecord(model, 'written', bytes),
    });
  }

  sample(): boolean {
    return this.rate >= 1 || (this.rate > 0 && this.random() < this.rate);
  }

  /** Builds and queues the record off the request's path (after the current turn of the loop). */
  write(build: (config: LoggingConfig) => PredictionLog): void {
    setImmediate(() => this.writer.append(this.encode(build(this.config))));
  }

  get stats() {
    return this.writer.stats;
  }

  files(): string[] {
    return this.writer.files();
  }

  async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  private encode(log: PredictionLog): Uint8Array {
    if (!this.jsonl) return encodeTfRecords([toBinary(PredictionLogSchema, log)]);
    const record = {
      time: new Date().toISOString(),
      model_name: this.model,
      ...(toJson(PredictionLogSchema, log, { useProtoFieldName: true }) as Record<string, unknown>),
    };
    redact(record, this.rules);
    return Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
  }
}

/** Checks a model's logging_config the way the server needs it (at config load and reload). */
export function validateLoggingConfig(config: ModelConfig): void {
  const logging = config.loggingConfig;
  if (!logging) return;
  const rate = logging.samplingConfig?.samplingRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw invalidArgument(`Model ${config.name}: logging_config sampling_rate ${rate} is not in [0, 1]`);
  const collector = logging.logCollectorConfig;
  if (rate > 0 && !collector?.filenamePrefix) throw invalidArgument(`Model ${config.name}: logging_config needs log_collector_config { filename_prefix }`);
  if (collector && !(COLLECTOR_TYPES as readonly string[]).includes(collector.type)) {
    throw invalidArgument(`Model ${config.name}: unknown log_collector_config type "${collector.type}" (expected "tfrecord" or "jsonl")`);
  }
}

/**
 * Every model's PayloadLog, kept in step with the served config: a model whose logging_config
 * changed gets a new log (the old one is flushed and closed), one without logging none.
 */
export class PayloadLogs {
  private readonly logs = new Map<string, PayloadLog>();

  constructor(
    private readonly options: {
      readonly limits?: PayloadLogLimits;
      readonly rules?: readonly RedactionRule[];
      readonly observer?: PayloadLogObserver;
      readonly log?: Logger;
    } = {},
  ) {}

  forModel(name: string): PayloadLog | undefined {
    return this.logs.get(name);
  }

  configure(list: ModelConfigList): void {
    for (const config of list.config) validateLoggingConfig(config);
    const wanted = new Map(list.config.filter((c) => (c.loggingConfig?.samplingConfig?.samplingRate ?? 0) > 0).map((c) => [c.name, c]));
    for (const [name, log] of this.logs) {
      const next = wanted.get(name);
      if (next && sameLogging(next.loggingConfig!, log.config)) continue;
      this.logs.delete(name);
      void log.close();
    }
    for (const [name, config] of wanted) {
      if (this.logs.has(name)) continue;
      this.logs.set(name, new PayloadLog(name, config.loggingConfig!, this.options.limits ?? DEFAULT_PAYLOAD_LOG_LIMITS, rulesFor(this.options.rules ?? [], name), this.options.observer));
      this.options.log?.info('payload_log_started', {
        model: name,
        sampling_rate: config.loggingConfig!.samplingConfig!.samplingRate,
        collector: config.loggingConfig!.logCollectorConfig!.type || 'tfrecord',
        filename_prefix: config.loggingConfig!.logCollectorConfig!.filenamePrefix,
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.close()));
    this.logs.clear();
  }
}

function sameLogging(a: LoggingConfig, b: LoggingConfig): boolean {
  return a.samplingConfig?.samplingRate === b.samplingConfig?.samplingRate &&
    a.logCollectorConfig?.type === b.logCollectorConfig?.type &&
    a.logCollectorConfig?.filenamePrefix === b.logCollectorConfig?.filenamePrefix;
}
