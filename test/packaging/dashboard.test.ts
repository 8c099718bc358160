/**
 * The Grafana dashboard the chart ships (files/dashboards/tfmodel.json): valid dashboard JSON,
 * every query valid PromQL (promtool), and every metric it queries one that tfmodel-server or the
 * operator really exports, read from their own metric registries, so renaming a metric fails here.
 * Metric names starting with ':' (TF Serving's) are legal PromQL identifiers and are queried
 * directly; the promtool check proves it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { OperatorMetrics } from '../../src/operator/controller/operator-metrics.js';
import { ServingMetrics } from '../../src/server/metrics/index.js';
import { requirePrerequisite } from '../support/prerequisites.js';
import { CHART_DIR } from './helm.js';

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
}

const DASHBOARD_PATH = join(CHART_DIR, 'files', 'dashboards', 'tfmodel.json');

/** Metrics the dashboard must chart: TF Serving's, our version gauge, and the operator's. */
const REQUIRED_METRICS = [
  ':tensorflow:serving:request_count',
  ':tensorflow:serving:request_latency_bucket',
  ':tensorflow:serving:request_latency_sum',
  ':tensorflow:serving:request_latency_count',
  ':tensorflow:serving:runtime_latency_bucket',
  ':tensorflow:serving:batching_session:queuing_latency_bucket',
  ':tensorflow:serving:batching_session:processed_batch_size_sum',
  ':tensorflow:cc:saved_model:load_attempt_count',
  ':tensorflow:cc:saved_model:load_latency',
  'tfmodel_model_version_state',
  'tfmodel_model_version_memory_bytes',
  'tfmodel_model_loads_total',
  'tfmodel_model_load_duration_seconds_bucket',
  'tfmodel_model_unloads_total',
  'tfmodel_batch_queue_wait_seconds_bucket',
  'tfmodel_batch_size_sum',
  'tfmodel_payload_log_records_total',
  'tfmodel_operator_reconcile_total',
  'tfmodel_operator_reconcile_duration_seconds_bucket',
  'tfmodel_operator_workqueue_depth',
];

/** Grafana's variables replaced by values PromQL accepts. */
function substituteVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('$model', '.*');
}

/** Every series name the server and the operator export (histograms as _bucket/_sum/_count). */
async function exportedSeriesNames(): Promise<Map<string, string>> {
  const serving = new ServingMetrics({ processMetrics: false });
  serving.watchModels({ listModels: () => [] });
  const operator = new OperatorMetrics({ processMetrics: false });
  const names = new Map<string, string>();
  for (const [source, registry] of [['tfmodel-server', serving.registry], ['operator', operator.registry]] as const) {
    for (const metric of await registry.getMetricsAsJSON()) {
      const series = String(metric.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => metric.name + s) : [metric.name];
      for (const name of series) names.set(name, source);
    }
  }
  return names;
}

/** Our metric names in a PromQL expression (TF Serving's ':tensorflow:...' and our 'tfmodel_...'). */
function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/(?<![A-Za-z0-9_:])(:tensorflow:[A-Za-z0-9_:]+|tfmodel_[A-Za-z0-9_:]+)/g)].map((m) => m[1]!);
}

function onPath(name: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not on PATH`);
}

describe('Grafana dashboard (charts/tfmodel-operator/files/dashboards/tfmodel.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
  const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

  it('is a dashboard with unique panel ids, on the selectable Prometheus data source', () => {
    assert.equal(dashboard.uid, 'tfmodel-serving');
    assert.ok(dashboard.schemaVersion >= 36);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate panel ids');
    const variables = dashboard.templating.list.map((v) => `${v.name}:${v.type}`);
    assert.deepEqual(variables, ['datasource:datasource', 'model:query']);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, panel.title);
      assert.ok(panel.targets?.length, `${panel.title} has no query`);
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} is wider than the grid`);
      for (const target of panel.targets) assert.deepEqual(target.datasource, panel.datasource, `${panel.title} ${target.refId}`);
    }
  });

  it('queries only metrics that tfmodel-server and the operator export, and charts the essential ones', async () => {
    const exported = await exportedSeriesNames();
    const used = new Set<string>();
    for (const target of targets) {
      for (const name of metricNamesIn(target.expr)) {
        assert.ok(exported.has(name), `${target.panel}: ${name} is not exported (${target.expr})`);
        used.add(name);
      }
    }
    for (const name of REQUIRED_METRICS) assert.ok(used.has(name), `the dashboard does not chart ${name}`);
    // The model variable's query reads a real metric too.
    const model = dashboard.templating.list.find((v) => v.name === 'model')!;
    for (const name of metricNamesIn(JSON.stringify(model.query))) assert.ok(exported.has(name), name);
  });

  describe('with promtool', function () {
    const promtool = requirePrerequisite('promtool', 'install the Debian package prometheus (apt-get install prometheus)', () => onPath('promtool'));
    if (!promtool.value) {
      it.skip(`skipped: ${promtool.skipReason}`);
      return;
    }
    const tool = promtool.value;
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'tfmodel-dashboard-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('every query is valid PromQL', () => {
      const rules = targets.map((t, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(substituteVariables(t.expr))}`);
      const file = join(dir, 'dashboard-rules.yaml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const result = spawnSync(tool, ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${targets.length} rules found`));
    });

    it('answers the request-rate and mean-latency queries from series named like TF Serving\'s (leading colon)', () => {
      // A pod scraped every minute: 60 OK requests a minute, and 64 predicts a minute of 1024 us each
      // (powers of two keep the ratio of the two rates exact).
      const find = (title: string) => substituteVariables(targets.find((t) => t.panel === title)!.expr);
      const test = {
        rule_files: [],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: ':tensorflow:serving:request_count{model_name="m",status="OK"}', values: '0+60x10' },
              { series: ':tensorflow:serving:request_latency_sum{model_name="m",API="predict",entrypoint="REST"}', values: '0+65536x10' },
              { series: ':tensorflow:serving:request_latency_count{model_name="m",API="predict",entrypoint="REST"}', values: '0+64x10' },
            ],
            promql_expr_test: [
              { expr: find('Requests per second'), eval_time: '10m', exp_samples: [{ labels: '{model_name="m",status="OK"}', value: 1 }] },
              { expr: find('Mean request latency by entrypoint'), eval_time: '10m', exp_samples: [{ labels: '{model_name="m",API="predict",entrypoint="REST"}', value: 1024 }] },
            ],
          },
        ],
      };
      const file = join(dir, 'dashboard-test.yaml');
      writeFileSync(file, JSON.stringify(test));
      const output = execFileSync(tool, ['test', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(output, /SUCCESS/);
    });
  });
});
