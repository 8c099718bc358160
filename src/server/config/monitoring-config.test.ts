import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TF_SERVING_TESTDATA, itWithSharedModels } from '../../../test/support/shared-savedmodels.js';
import { Code, type ServingError } from '../errors.js';
import { DEFAULT_PROMETHEUS_PATH, loadPrometheusSettings, parseMonitoringConfig, prometheusSettings } from './monitoring-config.js';


describe('monitoring config', () => {
  itWithSharedModels("reads TF Serving's own monitoring_config.txt", async () => {
    assert.deepEqual(await loadPrometheusSettings(join(TF_SERVING_TESTDATA, 'monitoring_config.txt')), {
      enabled: true,
      path: '/monitoring/prometheus/metrics',
    });
  });

  it('is off without a file or without enable', async () => {
    assert.equal((await loadPrometheusSettings(undefined)).enabled, false);
    assert.equal(prometheusSettings(parseMonitoringConfig('prometheus_config { path: "/m" }')).enabled, false);
  });

  it('defaults the path and keeps a custom one', () => {
    assert.equal(prometheusSettings(parseMonitoringConfig('prometheus_config { enable: true }')).path, DEFAULT_PROMETHEUS_PATH);
    assert.equal(prometheusSettings(parseMonitoringConfig('prometheus_config { enable: true path: "/metrics" }')).path, '/metrics');
  });

  it('refuses malformed files and paths that could never match', async () => {
    assert.throws(() => parseMonitoringConfig('prometheus_config { enabled: true }', 'm.txt'), (error: ServingError) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /^Invalid protobuf file: 'm\.txt'/);
      return true;
    });
    assert.throws(() => prometheusSettings(parseMonitoringConfig('prometheus_config { enable: true path: "metrics" }')), /must start with '\/'/);
    await assert.rejects(loadPrometheusSettings('/nonexistent/monitoring.txt'), /Could not read monitoring config file/);
  });
});
