import assert from 'node:assert/strict';
import { context } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Code } from '../errors.js';
import { type Tracing, startTracing } from './start-tracing.js';
import { endRequestSpan, startRequestSpan, tracingEnabled, withChildSpan } from './tracing.js';

const GETTER = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

describe('tracing: sampling', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing | undefined;

  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  async function requests(rate: number, count: number, carrier: Record<string, string> = {}): Promise<number> {
    exporter = new InMemorySpanExporter();
    tracing = startTracing({ endpoint: 'http://127.0.0.1:1', protocol: 'http/protobuf', samplingRate: rate, serviceName: 'test', exportDelayMs: 1, exporter });
    let started = 0;
    for (let i = 0; i < count; i++) {
      const traced = startRequestSpan('REST predict', carrier, GETTER, () => ({ 'tfmodel.model': 'm' }));
      if (!traced) continue;
      started++;
      endRequestSpan(traced, Code.OK, {});
    }
    await tracing.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, started, 'every started request span is exported');
    return started;
  }

  it('samples --tracing_sampling_rate of the root requests (once, not the square of it)', async () => {
    // 2000 draws at 0.3: mean 600, standard deviation about 20.
    const sampled = await requests(0.3, 2000);
    assert.ok(sampled > 480 && sampled < 720, `${sampled} of 2000 sampled at 0.3`);
  });

  it('follows the caller: a sampled traceparent is always traced, an unsampled one never', async () => {
    assert.equal(await requests(0, 50, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }), 50);
    await tracing!.shutdown();
    tracing = undefined;
    assert.equal(await requests(1, 50, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' }), 0);
  });

  it('starts child spans only inside a traced request, parented by it', async () => {
    exporter = new InMemorySpanExporter();
    tracing = startTracing({ endpoint: 'http://127.0.0.1:1', protocol: 'http/protobuf', samplingRate: 1, serviceName: 'test', exportDelayMs: 1, exporter });
    assert.equal(await withChildSpan('inference', () => assert.fail('attributes built outside a traced request'), () => Promise.resolve(1)), 1);
    const traced = startRequestSpan('REST predict', {}, GETTER, () => ({}))!;
    const child = context.with(traced.context, () => withChildSpan('inference', () => ({ 'tfmodel.model': 'm' }), () => Promise.resolve(2)));
    assert.equal(await child, 2);
    endRequestSpan(traced, Code.OK, {});
    await tracing.forceFlush();
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(spans.map((s) => s.name).sort(), ['REST predict', 'inference']);
    const inference = spans.find((s) => s.name === 'inference')!;
    assert.equal(inference.parentSpanContext?.spanId, traced.span.spanContext().spanId);
  });

  it('costs nothing when off: no span, the work just runs', async () => {
    assert.equal(tracingEnabled(), false);
    assert.equal(startRequestSpan('REST predict', {}, GETTER, () => assert.fail('attributes built while off')), undefined);
    assert.equal(await withChildSpan('inference', () => assert.fail('attributes built while off'), () => Promise.resolve(42)), 42);
  });
});
