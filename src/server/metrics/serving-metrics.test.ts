import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { requirePrerequisite } from '../../../test/support/prerequisites.js';
import { createBatching } from '../batching/index.js';
import { floats, recordingEngine } from '../batching/test-support.js';
import { batchingConfigFrom, parseBatchingParameters } from '../config/batching-config.js';
import { type ModelStatus, VersionState } from '../core/types.js';
import { Code } from '../errors.js';
import { ServingMetrics } from './serving-metrics.js';
import { exponentialBuckets, prometheusMetricName } from './tf-metrics.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (enough of the format for these tests). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(metrics: ServingMetrics): Promise<Sample[]> {
  return parseExposition((await metrics.render()).body);
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

describe('ServingMetrics', () => {
  it("turns TensorFlow metric names into TF Serving's Prometheus names", () => {
    assert.equal(prometheusMetricName('/tensorflow/serving/request_count'), ':tensorflow:serving:request_count');
    assert.equal(prometheusMetricName('/tensorflow/cc/saved_model/load_attempt_count'), ':tensorflow:cc:saved_model:load_attempt_count');
    assert.equal(prometheusMetricName('9lives-metric'), '_9lives:metric');
  });

  it("uses TensorFlow's exponential bucket limits, printed to 6 significant digits", () => {
    const latency = exponentialBuckets(10, 1.8, 33);
    assert.equal(latency.length, 33);
    assert.deepEqual(latency.slice(0, 6), [10, 18, 32.4, 58.32, 104.976, 188.957]);
    assert.equal(latency[32], 1.47476e9);
    assert.deepEqual(exponentialBuckets(1, 2, 14).slice(-2), [4096, 8192]);
  });

  it('counts every request and records the latency of successful ones, with TF Serving labels', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    metrics.request({ model: 'm', api: 'predict', entrypoint: 'GRPC', status: Code.OK, latencyMicros: 150 });
    metrics.request({ model: 'm', api: 'predict', entrypoint: 'REST', status: Code.OK, latencyMicros: 20 });
    metrics.request({ model: 'm', api: 'classify', entrypoint: 'REST', status: Code.NOT_FOUND, latencyMicros: 5 });
    metrics.runtime('m', 'regress', 42);
    const samples = await scrape(metrics);
    assert.equal(value(samples, ':tensorflow:serving:request_count', { model_name: 'm', status: 'OK' }), 2);
    assert.equal(value(samples, ':tensorflow:serving:request_count', { model_name: 'm', status: 'NOT_FOUND' }), 1);
    const grpc = { model_name: 'm', API: 'Predict', entrypoint: 'GRPC' };
    assert.equal(value(samples, ':tensorflow:serving:request_latency_count', grpc), 1);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_sum', grpc), 150);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_bucket', { ...grpc, le: '104.976' }), 0);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_bucket', { ...grpc, le: '188.957' }), 1);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_count', { model_name: 'm', API: 'predict', entrypoint: 'REST' }), 1);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_count', { API: 'classify' }), undefined);
    assert.equal(value(samples, ':tensorflow:serving:runtime_latency_sum', { model_name: 'm', API: 'Regress', runtime: 'TF1' }), 42);
    const buckets = samples.filter((s) => s.name === ':tensorflow:serving:request_latency_bucket' && s.labels['entrypoint'] === 'GRPC');
    assert.equal(buckets.length, 34, '33 limits and +Inf');
  });

  it('records loads and warmups by model path with TF status labels', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    metrics.loadAttempt('/models/m/1', true, 2500);
    metrics.loadAttempt('/models/m/2', false, 10);
    metrics.warmupFinished({ modelPath: '/models/m/1', status: 'OK', micros: 300, recordsRead: 4 });
    metrics.warmupFinished({ modelPath: '/models/m/2', status: 'DATA_LOSS: corrupted "record"', micros: 7, recordsRead: 0 });
    const samples = await scrape(metrics);
    assert.equal(value(samples, ':tensorflow:cc:saved_model:load_attempt_count', { model_path: '/models/m/1', status: 'success' }), 1);
    assert.equal(value(samples, ':tensorflow:cc:saved_model:load_attempt_count', { model_path: '/models/m/2', status: 'fail' }), 1);
    assert.equal(value(samples, ':tensorflow:cc:saved_model:load_latency', { model_path: '/models/m/1' }), 2500);
    assert.equal(value(samples, ':tensorflow:cc:saved_model:load_latency', { model_path: '/models/m/2' }), undefined);
    assert.equal(value(samples, ':tensorflow:serving:model_warmup_latency_count', { model_path: '/models/m/1', status: 'OK' }), 1);
    assert.equal(value(samples, ':tensorflow:serving:model_warmup_records_read', { model_path: '/models/m/1', status: 'OK' }), 4);
    assert.equal(
      value(samples, ':tensorflow:serving:model_warmup_latency_count', { model_path: '/models/m/2', status: 'DATA_LOSS: corrupted "record"' }),
      1,
    );
  });

  it('records batching through the batching engine', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    const config = batchingConfigFrom(parseBatchingParameters('max_batch_size { value: 4 } allowed_batch_sizes: [4] thread_pool_name { value: "pool" }'));
    const engine = createBatching(config, { observer: metrics }).wrap(recordingEngine());
    await Promise.all([1, 2].map((v) => engine.run({ signature: 's', inputs: new Map([['x', floats([1], [v])]]) })));
    const samples = await scrape(metrics);
    assert.equal(value(samples, ':tensorflow:serving:batching_session:queuing_latency_count', { thread_pool_name: 'pool' }), 2);
    assert.equal(value(samples, ':tensorflow:serving:batching_session:input_batch_size_count'), 2);
    assert.equal(value(samples, ':tensorflow:serving:batching_session:processed_batch_size_sum'), 4);
    assert.equal(value(samples, ':tensorflow:serving:batching_session:padding_size_sum', { execution_batch_size: '4' }), 2);
    assert.equal(value(samples, ':tensorflow:serving:batching_session:wrapped_run_count'), 1);
    const queuing = samples.filter((s) => s.name === ':tensorflow:serving:batching_session:queuing_latency_bucket');
    assert.equal(queuing.length, 53, '52 limits and +Inf');
  });

  it('exports model version states read at scrape time', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    let models: ModelStatus[] = [
      { name: 'm', basePath: '/models/m', labels: new Map(), versions: [{ version: 2n, state: VersionState.LOADING }, { version: 1n, state: VersionState.AVAILABLE }] },
    ];
    metrics.watchModels({ listModels: () => models });
    let samples = await scrape(metrics);
    assert.equal(value(samples, 'tfmodel_model_version_state', { model_name: 'm', version: '2', state: 'LOADING' }), 1);
    assert.equal(value(samples, 'tfmodel_model_version_state', { model_name: 'm', version: '1', state: 'AVAILABLE' }), 1);
    models = [{ ...models[0]!, versions: [{ version: 2n, state: VersionState.AVAILABLE }] }];
    samples = await scrape(metrics);
    assert.deepEqual(samples.filter((s) => s.name === 'tfmodel_model_version_state').map((s) => s.labels), [
      { model_name: 'm', version: '2', state: 'AVAILABLE' },
    ]);
  });

  it('adds signature and version label dimensions to request_count and request_latency', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    metrics.request({ model: 'm', api: 'predict', entrypoint: 'REST', status: Code.OK, latencyMicros: 10, signature: 'serving_default', label: 'stable' });
    metrics.request({ model: 'm', api: 'model_infer', entrypoint: 'GRPC', status: Code.OK, latencyMicros: 10, signature: 'classify_x_to_y' });
    metrics.request({ model: 'm', api: 'model_infer', entrypoint: 'REST', status: Code.NOT_FOUND, latencyMicros: 10, label: 'canary' });
    const samples = await scrape(metrics);
    assert.equal(value(samples, ':tensorflow:serving:request_count', { model_name: 'm', status: 'OK', signature_name: 'serving_default', version_label: 'stable' }), 1);
    assert.equal(value(samples, ':tensorflow:serving:request_count', { status: 'NOT_FOUND', signature_name: '', version_label: 'canary' }), 1);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_count', { API: 'ModelInfer', entrypoint: 'GRPC', signature_name: 'classify_x_to_y', version_label: '' }), 1);
    assert.equal(value(samples, ':tensorflow:serving:request_latency_count', { API: 'predict', version_label: 'stable' }), 1);
  });

  it('counts and times loads and unloads by model and engine, and estimates memory per version', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    metrics.loadAttempt('/models/m/1', true, 2_500_000, { model: 'm', version: 1n, engine: 'tensorflow' });
    metrics.loadAttempt('/models/m/2', false, 10, { model: 'm', version: 2n, engine: undefined });
    metrics.unloaded({ model: 'm', version: 1n, engine: 'wasm' }, 300_000);
    metrics.watchModels({
      listModels: () => [{ name: 'm', basePath: '/models/m', labels: new Map(), versions: [
        { version: 2n, state: VersionState.AVAILABLE, engine: 'wasm', memoryBytes: 4096 },
        { version: 1n, state: VersionState.LOADING },
      ] }],
    });
    const samples = await scrape(metrics);
    assert.equal(value(samples, 'tfmodel_model_loads_total', { model_name: 'm', engine: 'native', status: 'success' }), 1);
    assert.equal(value(samples, 'tfmodel_model_loads_total', { model_name: 'm', engine: '', status: 'fail' }), 1);
    assert.equal(value(samples, 'tfmodel_model_load_duration_seconds_sum', { engine: 'native' }), 2.5);
    assert.equal(value(samples, 'tfmodel_model_unloads_total', { model_name: 'm', engine: 'wasm' }), 1);
    assert.equal(value(samples, 'tfmodel_model_unload_duration_seconds_sum', { engine: 'wasm' }), 0.3);
    assert.deepEqual(samples.filter((s) => s.name === 'tfmodel_model_version_memory_bytes').map((s) => [s.labels, s.value]), [
      [{ model_name: 'm', version: '2', engine: 'wasm' }, 4096],
    ]);
  });

  it('records batch sizes and queue waits per model through the batching engine, beside TF Serving\'s', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    const config = batchingConfigFrom(parseBatchingParameters('max_batch_size { value: 4 } allowed_batch_sizes: [4]'));
    const batching = createBatching(config, { observer: metrics, observerFor: (model) => metrics.batchingObserverFor(model) });
    const engine = batching.wrap(recordingEngine(), { model: 'm' });
    await Promise.all([1, 2].map((v) => engine.run({ signature: 's', inputs: new Map([['x', floats([1], [v])]]) })));
    metrics.payloadLogRecord('m', 'written', 120);
    metrics.payloadLogRecord('m', 'dropped', 0);
    const samples = await scrape(metrics);
    assert.equal(value(samples, 'tfmodel_batch_size_sum', { model_name: 'm' }), 4);
    assert.equal(value(samples, 'tfmodel_batch_queue_wait_seconds_count', { model_name: 'm' }), 2);
    assert.equal(value(samples, ':tensorflow:serving:batching_session:queuing_latency_count'), 2);
    assert.equal(value(samples, 'tfmodel_payload_log_records_total', { model_name: 'm', outcome: 'written' }), 1);
    assert.equal(value(samples, 'tfmodel_payload_log_records_total', { model_name: 'm', outcome: 'dropped' }), 1);
    assert.equal(value(samples, 'tfmodel_payload_log_bytes_total', { model_name: 'm' }), 120);
  });

  it('adds Node process metrics by default', async () => {
    const samples = await scrape(new ServingMetrics());
    assert.ok(value(samples, 'process_cpu_user_seconds_total')! >= 0);
    assert.ok(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
  });

  describe('exposition format', () => {
    const promtool = requirePrerequisite('promtool', 'install the Debian package "prometheus" (apt-get install prometheus)', () =>
      execFileSync('promtool', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    it('passes promtool check metrics', async function () {
      if (promtool.skipReason) {
        console.warn(`      skipped: ${promtool.skipReason}`);
        this.skip();
      }
      const metrics = new ServingMetrics();
      metrics.request({ model: 'm', api: 'predict', entrypoint: 'GRPC', status: Code.OK, latencyMicros: 150 });
      metrics.loadAttempt('/models/m/1', true, 2500);
      metrics.warmupFinished({ modelPath: '/models/m/1', status: 'INVALID_ARGUMENT: bad\nrecord "x"', micros: 3, recordsRead: 0 });
      metrics.batchQueuing('batch_threads', 120);
      metrics.request({ model: 'm', api: 'model_infer', entrypoint: 'REST', status: Code.OK, latencyMicros: 15, signature: 's', label: 'stable' });
      metrics.loadAttempt('/models/m/2', true, 2500, { model: 'm', version: 2n, engine: 'wasm' });
      metrics.unloaded({ model: 'm', version: 2n, engine: 'wasm' }, 10);
      metrics.batchingObserverFor('m').batchQueuing('batch_threads', 5);
      metrics.payloadLogRecord('m', 'written', 10);
      metrics.watchModels({ listModels: () => [{ name: 'm', basePath: '/m', labels: new Map(), versions: [{ version: 2n, state: VersionState.AVAILABLE, engine: 'wasm', memoryBytes: 1 }] }] });
      const result = spawnSync('promtool', ['check', 'metrics'], { input: (await metrics.render()).body, encoding: 'utf8' });
      // promtool exits 3 for naming advice: TF Serving's names (':' and '_count' counters) and
      // prom-client's *_total gauges break Prometheus conventions, on purpose. Anything else fails.
      assert.ok(result.status === 0 || result.status === 3, `promtool failed (${result.status}): ${result.stderr}${result.stdout}`);
      const advice = (result.stderr + result.stdout).split('\n').filter((line) => line !== '');
      const expected = [
        /metric names should not contain ':'$/,
        /counter metrics should have "_total" suffix$/,
        /non-histogram and non-summary metrics should not have "_count" suffix$/,
        /non-counter metrics should not have "_total" suffix$/,
      ];
      const unexpected = advice.filter((line) => !expected.some((pattern) => pattern.test(line)));
      assert.deepEqual(unexpected, []);
    });
  });
});
