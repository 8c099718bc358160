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
 * Sampling is decided first (an unsampled call costs one random number); a sampled call is only
 * queued on the request's path: its records are built after the response is sent, once per turn
 * of the event loop for all the calls queued in it (predict records encoded directly from the
 * tensors, predict-log-encoder.ts), and written in the background in batches, one write per
 * WRITE_BATCH_DELAY_MS or so (record-file-writer.ts).
 */
import { toBinary, toJson } from '@bufbuild/protobuf';
import { type PredictionLog, PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import type { LoggingConfig } from '../../gen/tensorflow_serving/config/logging_config_pb.js';
import type { ModelConfig, ModelConfigList } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import type { PayloadLogSink } from '../core/types.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { invalidArgument } from '../errors.js';
import type { Logger } from '../logging.js';
import { encodeTfRecords } from '../warmup/tfrecord.js';
import { type RedactionRule, redact, rulesFor } from './redaction.js';
import { RecordFileWriter } from './record-file-writer.js';
import { type CallPrefix, callPrefix, encodable, encodePredictLog } from './predict-log-encoder.js';
import { type LoggedCall, predictLog } from './prediction-logs.js';

export const COLLECTOR_TYPES = ['', 'tfrecord', 'jsonl'] as const;

export interface PayloadLogLimits {
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  readonly maxQueueBytes: number;
}

export const DEFAULT_PAYLOAD_LOG_LIMITS: PayloadLogLimits = { maxFileBytes: 64 << 20, maxFiles: 10, maxQueueBytes: 16 << 20 };

/**
 * How long records gather before they are written together: one write (one trip through the
 * file system's thread pool) per batch instead of per record. A crash loses at most this much.
 */
export const WRITE_BATCH_DELAY_MS = 25;

/** A sampled call waiting for the next turn of the event loop to become a record. */
type PendingRecord =
  | { readonly kind: 'built'; readonly build: (config: LoggingConfig) => PredictionLog }
  | {
    readonly kind: 'predict';
    readonly call: LoggedCall;
    readonly inputs: ReadonlyMap<string, HostTensor>;
    readonly outputFilter: readonly string[] | undefined;
    readonly outputs: ReadonlyMap<string, HostTensor>;
  };

/** What a counting observer (metrics) hears. */
export interface PayloadLogObserver {
  payloadLogRecord(model: string, outcome: 'written' | 'dropped', bytes: number): void;
}

/** One model's sampled log. The API functions call `sample()`, then `write()` if it said yes. */
export class PayloadLog implements PayloadLogSink {
  private readonly writer: RecordFileWriter;
  private readonly rate: number;
  private readonly jsonl: boolean;
  private pending: PendingRecord[] = [];
  /** The LogMetadata and ModelSpec bytes per version and signature. */
  private readonly prefixes = new Map<string, CallPrefix>();
  private readonly onEncodeFailed: () => void;

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
      batchDelayMs: WRITE_BATCH_DELAY_MS,
      onDrop: () => observer?.payloadLogRecord(model, 'dropped', 0),
      onWritten: (bytes) => observer?.payloadLogRecord(model, 'written', bytes),
    });
    this.onEncodeFailed = () => {
      this.writer.stats.dropped++;
      observer?.payloadLogRecord(model, 'dropped', 0);
    };
  }

  sample(): boolean {
    return this.rate >= 1 || (this.rate > 0 && this.random() < this.rate);
  }

  /** Builds and queues the record off the request's path (after the current turn of the loop). */
  write(build: (config: LoggingConfig) => PredictionLog): void {
    this.enqueue({ kind: 'built', build });
  }

  /** A predict call's record (predictLog()'s message), encoded off the request's path. */
  writePredict(call: LoggedCall, inputs: ReadonlyMap<string, HostTensor>, outputFilter: readonly string[] | undefined, outputs: ReadonlyMap<string, HostTensor>): void {
    this.enqueue({ kind: 'predict', call, inputs, outputFilter, outputs });
  }

  get stats() {
    return this.writer.stats;
  }

  files(): string[] {
    return this.writer.files();
  }

  async flush(): Promise<void> {
    this.encodePending();
    await this.writer.flush();
  }

  close(): Promise<void> {
    this.encodePending();
    return this.writer.close();
  }

  private enqueue(record: PendingRecord): void {
    if (this.pending.push(record) === 1) setImmediate(encodePending, this);
  }

  /** Every record queued since the last turn of the loop, encoded and handed to the writer. */
  encodePending(): void {
    const pending = this.pending;
    this.pending = [];
    for (const record of pending) {
      let bytes: Uint8Array;
      try {
        bytes = this.encodeRecord(record);
      } catch {
        // A tensor the log cannot hold: that record is dropped and counted, never a crash.
        this.onEncodeFailed();
        continue;
      }
      this.writer.append(bytes);
    }
  }

  private encodeRecord(record: PendingRecord): Uint8Array {
    if (record.kind === 'built') return this.encode(record.build(this.config));
    const { call, inputs, outputFilter, outputs } = record;
    if (this.jsonl || !encodable(inputs) || !encodable(outputs)) return this.encode(predictLog(call, this.config, inputs, outputFilter, outputs));
    const key = `${call.version}/${call.signatureName}`;
    let prefix = this.prefixes.get(key);
    if (prefix === undefined) {
      prefix = callPrefix(call, this.config);
      if (this.prefixes.size >= 64) this.prefixes.clear();
      this.prefixes.set(key, prefix);
    }
    return encodeTfRecords([encodePredictLog(prefix, inputs, outputFilter, outputs)]);
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

function encodePending(log: PayloadLog): void {
  log.encodePending();
}

function sameLogging(a: LoggingConfig, b: LoggingConfig): boolean {
  return a.samplingConfig?.samplingRate === b.samplingConfig?.samplingRate &&
    a.logCollectorConfig?.type === b.logCollectorConfig?.type &&
    a.logCollectorConfig?.filenamePrefix === b.logCollectorConfig?.filenamePrefix;
}
