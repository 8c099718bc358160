/**
 * --monitoring_config_file: a MonitoringConfig in protobuf text format. Only prometheus_config
 * exists; an empty path means TF Serving's PrometheusExporter::kPrometheusPath.
 */
import { readFile } from 'node:fs/promises';
import { parseProtoText } from './text-proto.js';
import { type MonitoringConfig, MonitoringConfigSchema } from '../../gen/tensorflow_serving/config/monitoring_config_pb.js';
import { invalidArgument } from '../errors.js';

export const DEFAULT_PROMETHEUS_PATH = '/monitoring/prometheus/metrics';

/** Whether (and where) the REST server exposes Prometheus metrics. */
export interface PrometheusSettings {
  readonly enabled: boolean;
  readonly path: string;
}

export const PROMETHEUS_DISABLED: PrometheusSettings = { enabled: false, path: DEFAULT_PROMETHEUS_PATH };

export function parseMonitoringConfig(text: string, source = 'monitoring config'): MonitoringConfig {
  return parseProtoText(MonitoringConfigSchema, text, source);
}

export async function readMonitoringConfig(path: string): Promise<MonitoringConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalidArgument(`Could not read monitoring config file ${path}: ${(error as Error).message}`);
  }
  return parseMonitoringConfig(text, path);
}

/**
 * The settings a config describes. TF Serving registers a path without a leading '/' and then
 * never matches it; we refuse it instead of serving nothing.
 */
export function prometheusSettings(config: MonitoringConfig | undefined): PrometheusSettings {
  const prometheus = config?.prometheusConfig;
  if (!prometheus?.enable) return PROMETHEUS_DISABLED;
  const path = prometheus.path || DEFAULT_PROMETHEUS_PATH;
  if (!path.startsWith('/')) {
    throw invalidArgument(`prometheus_config.path must start with '/'; was "${path}"`);
  }
  return { enabled: true, path };
}

/** Reads --monitoring_config_file (absent path: Prometheus off, as in TF Serving). */
export async function loadPrometheusSettings(path: string | undefined): Promise<PrometheusSettings> {
  return prometheusSettings(path ? await readMonitoringConfig(path) : undefined);
}
