/**
 * OpenTelemetry tracing against a real OTLP receiver: the OpenTelemetry Collector built from the
 * Go module proxy (scripts/otel-collector/build.sh) receives tfmodel-server's OTLP (HTTP/protobuf,
 * and gRPC) and re-exports what it decoded as OTLP/JSON to this test. Spans must carry the
 * caller's W3C traceparent (REST header, gRPC metadata), and the inference and batching queue wait
 * spans must be children of their request's span; a shadow copy's span a child of its request's,
 * started after the caller's answer.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Metadata, credentials } from '@grpc/grpc-js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { hostTensorToProto } from '../../src/server/api/tensor-proto.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { grpcClient } from '../../src/server/transports/grpc/client.js';
import { predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { cachedGoTool } from '../support/go-tools.js';
import { ServerProcess } from '../support/server-process.js';
import { HALF_PLUS_FOUR, HALF_PLUS_TWO, servingTestModels } from '../support/test-models.js';
import { mixedVersionsBase } from '../support/routing-fixtures.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}
interface ExportedSpan extends OtlpSpan {
  readonly service: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

describe('OpenTelemetry tracing through a real OpenTelemetry Collector', function () {
  this.timeout(180_000);
  const collectorBinary = cachedGoTool('the OpenTelemetry Collector', 'otel-collector');
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-tracing-'));
  const spans: ExportedSpan[] = [];
  const sink = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let collector: ChildProcess | undefined;
  const servers: ServerProcess[] = [];
  let otlpHttp = 0;
  let otlpGrpc = 0;

  before(async function () {
    if (collectorBinary.skipReason) {
      console.warn(`      skipped: ${collectorBinary.skipReason}`);
      this.skip();
    }
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkPort = (sink.address() as { port: number }).port;
    otlpHttp = await freePort();
    otlpGrpc = await freePort();
    const config = join(root, 'collector.yaml');
    writeFileSync(config, [
      'receivers:',
      '  otlp:',
      '    protocols:',
      `      http: { endpoint: "127.0.0.1:${otlpHttp}" }`,
      `      grpc: { endpoint: "127.0.0.1:${otlpGrpc}" }`,
      'exporters:',
      `  otlphttp: { endpoint: "http://127.0.0.1:${sinkPort}", encoding: json, compression: none, retry_on_failure: { enabled: false } }`,
      'service:',
      '  telemetry: { metrics: { level: none } }',
      '  pipelines:',
      '    traces: { receivers: [otlp], exporters: [otlphttp] }',
      '',
    ].join('\n'));
    collector = spawn(collectorBinary.value!, [`--config=${config}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let collectorLog = '';
    collector.stderr!.on('data', (c: Buffer) => (collectorLog += c.toString()));
    for (let i = 0; !/Everything is ready/.test(collectorLog); i++) {
      if (i > 300 || collector.exitCode !== null) throw new Error(`the collector did not start:\n${collectorLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    collector?.kill('SIGTERM');
    sink.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function startServer(args: string[]): Promise<{ grpc: number; rest: number }> {
    const batching = join(root, 'batching.config');
    writeFileSync(batching, 'max_batch_size { value: 8 } batch_timeout_micros { value: 1000 }');
    const server = ServerProcess.start([`--model_name=hp2`, `--model_base_path=${servingTestModels().halfPlusTwo}`, '--inference_threads=0',
      `--rest_api_port=${await freePort()}`, '--enable_batching', `--batching_parameters_file=${batching}`, ...args]);
    servers.push(server);
    await server.waitFor((e) => e.event === 'serving');
    const ports = await server.ports();
    return { grpc: ports.grpc, rest: ports.rest! };
  }

  async function spansOf(traceId: string, count: number): Promise<ExportedSpan[]> {
    for (let i = 0; i < 200; i++) {
      const found = spans.filter((s) => s.traceId === traceId);
      if (found.length >= count) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`trace ${traceId}: ${spans.filter((s) => s.traceId === traceId).map((s) => s.name)} (all: ${spans.map((s) => s.name)})`);
  }

  it('exports request, queue wait and inference spans over OTLP/HTTP, parented by the REST traceparent', async () => {
    const { rest } = await startServer([`--tracing_otlp_endpoint=http://127.0.0.1:${otlpHttp}`, '--tracing_service_name=tfmodel-test']);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const response = await fetch(`http://127.0.0.1:${rest}/v1/models/hp2:predict`, {
      method: 'POST', headers: { traceparent: `00-${traceId}-${parent}-01` }, body: '{"instances": [1, 2, 5]}',
    });
    assert.equal(response.status, 200);
    const trace = await spansOf(traceId, 3);
    const request = trace.find((s) => s.name === 'REST predict')!;
    assert.ok(request, `spans: ${trace.map((s) => s.name)}`);
    assert.equal(request.parentSpanId, parent, "the caller's span is the parent");
    assert.equal(request.kind, 2, 'SERVER');
    assert.equal(request.service, 'tfmodel-test');
    assert.equal(attribute(request, 'tfmodel.model'), 'hp2');
    assert.equal(attribute(request, 'tfmodel.signature'), 'serving_default');
    const inference = trace.find((s) => s.name === 'inference')!;
    assert.equal(inference.parentSpanId, request.spanId);
    assert.equal(attribute(inference, 'tfmodel.version'), '123');
    const wait = trace.find((s) => s.name === 'batching queue wait')!;
    assert.ok(wait, `spans: ${trace.map((s) => s.name)}`);
    assert.equal(wait.parentSpanId, inference.spanId, 'the queue is entered inside the inference');
    // An OIP call is traced as well.
    const oipTrace = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`http://127.0.0.1:${rest}/v2/models/hp2/infer`, {
      method: 'POST', headers: { traceparent: `00-${oipTrace}-b7ad6b7169203331-01` },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
    });
    assert.ok((await spansOf(oipTrace, 2)).some((s) => s.name === 'REST model_infer'));
  });

  it('exports over OTLP/gRPC and follows a traceparent in gRPC metadata', async () => {
    const { grpc } = await startServer([`--tracing_otlp_endpoint=127.0.0.1:${otlpGrpc}`, '--tracing_otlp_protocol=grpc']);
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const client = grpcClient(`127.0.0.1:${grpc}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-1122334455667788-01`);
    const request = create(PredictRequestSchema, {
      modelSpec: { name: 'hp2' },
      inputs: { x: hostTensorToProto({ dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.of(4) }) },
    });
    const method = predictionServiceDefinition.predict;
    await new Promise((resolve, reject) => client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata,
      (error, response) => (error ? reject(error) : resolve(response))));
    client.close();
    const trace = await spansOf(traceId, 2);
    const call = trace.find((s) => s.name === 'GRPC predict')!;
    assert.equal(call.parentSpanId, '1122334455667788');
    assert.equal(trace.find((s) => s.name === 'inference')!.parentSpanId, call.spanId);
    assert.equal(call.service, 'tfmodel-server');
  });

  it('exports a shadow copy\'s span as a child of its request\'s span, started after the caller\'s answer', async () => {
    // Version 1 half_plus_two answers the caller through label stable; every request is copied to
    // version 2 (half_plus_four: y = 0.5x + 4) after it.
    const base = mixedVersionsBase(root, 'shadowed', [[1, HALF_PLUS_TWO], [2, HALF_PLUS_FOUR]]);
    const modelConfig = join(root, 'shadowed.config');
    writeFileSync(modelConfig, `model_config_list { config { name: "m" base_path: "${base}" model_platform: "tensorflow" ` +
      'model_version_policy { all {} } version_labels { key: "stable" value: 1 } } }');
    const routing = join(root, 'shadowed-routing.json');
    writeFileSync(routing, JSON.stringify({ models: { m: { labels: { stable: { shadow: { version: 2, percent: 100 } } } } } }));
    const server = ServerProcess.start([`--model_config_file=${modelConfig}`, `--routing_config_file=${routing}`, `--rest_api_port=${await freePort()}`,
      `--tracing_otlp_endpoint=http://127.0.0.1:${otlpHttp}`, '--tracing_service_name=shadowed']);
    servers.push(server);
    const { rest } = await server.ports();
    const traceId = '5bf92f3577b34da6a3ce929d0e0e4737';
    const response = await fetch(`http://127.0.0.1:${rest}/v1/models/m/labels/stable:predict`, {
      method: 'POST', headers: { traceparent: `00-${traceId}-00f067aa0ba902b8-01` }, body: '{"instances": [[1]]}',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { predictions: [[2.5]] }, 'the caller gets the primary\'s answer');
    const trace = await spansOf(traceId, 3);
    const request = trace.find((s) => s.name === 'REST predict')!;
    const inference = trace.find((s) => s.name === 'inference')!;
    const shadow = trace.find((s) => s.name === 'shadow m/versions/2')!;
    assert.ok(request && inference && shadow, `spans: ${trace.map((s) => s.name)}`);
    assert.equal(shadow.parentSpanId, request.spanId, 'the copy is a child of its request');
    assert.equal(shadow.kind, 1, 'INTERNAL');
    assert.equal(attribute(shadow, 'tfmodel.version'), '2');
    assert.equal(attribute(shadow, 'tfmodel.shadow.primary_version'), '1');
    assert.equal(Number(attribute(shadow, 'tfmodel.shadow.max_abs_diff')), 2, 'half_plus_four - half_plus_two');
    assert.ok(BigInt(shadow.startTimeUnixNano) >= BigInt(inference.endTimeUnixNano), 'the copy starts after the caller\'s inference');
    assert.ok(BigInt(shadow.startTimeUnixNano) >= BigInt(request.endTimeUnixNano), 'and after the caller\'s request span ended: never on its path');
    assert.equal(trace.filter((s) => s.name === 'inference').length, 1, 'the copy runs outside the request: no second inference span in its trace');
  });

  it('samples no trace without a sampled parent at --tracing_sampling_rate=0', async () => {
    const { rest } = await startServer([`--tracing_otlp_endpoint=http://127.0.0.1:${otlpHttp}`, '--tracing_sampling_rate=0', '--tracing_service_name=unsampled']);
    for (let i = 0; i < 5; i++) await fetch(`http://127.0.0.1:${rest}/v1/models/hp2:predict`, { method: 'POST', body: '{"instances": [1]}' });
    const traceId = 'ffeeddccbbaa99887766554433221100';
    await fetch(`http://127.0.0.1:${rest}/v1/models/hp2:predict`, { method: 'POST', headers: { traceparent: `00-${traceId}-0102030405060708-01` }, body: '{"instances": [1]}' });
    await spansOf(traceId, 3);
    assert.deepEqual([...new Set(spans.filter((s) => s.service === 'unsampled').map((s) => s.traceId))], [traceId], 'only the sampled parent is followed');
  });
});
