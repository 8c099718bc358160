import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { type ClientReadableStream, Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../../gen/grpc/health/v1/health_pb.js';
import { unaryCall } from './client.js';
import { healthServiceDefinition } from './service-definitions.js';
import { type Running, startFakeServer } from './test-support.js';

const { check, watch } = healthServiceDefinition;
const request = (service: string) => create(HealthCheckRequestSchema, { service });

async function checkStatus(running: Running, service: string): Promise<ServingStatus> {
  return (await unaryCall(running.client, check, request(service))).status;
}

/** Collects a Watch stream's statuses; `next(n)` waits until n have arrived. */
function watchStatuses(running: Running, service: string) {
  const seen: ServingStatus[] = [];
  const stream: ClientReadableStream<HealthCheckResponse> = running.client.makeServerStreamRequest(
    watch.path, watch.requestSerialize, watch.responseDeserialize, request(service), new Metadata(), {},
  );
  stream.on('data', (response: HealthCheckResponse) => seen.push(response.status));
  const ended = new Promise<number>((resolve) => stream.on('status', (s: { code: number }) => resolve(s.code)));
  stream.on('error', () => undefined);
  const next = async (count: number): Promise<ServingStatus[]> => {
    const deadline = Date.now() + 3000;
    while (seen.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${seen.length} health updates: ${seen.join(',')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return [...seen];
  };
  return { stream, next, ended };
}

describe('gRPC health service', () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('Check: SERVING while every model is available, NOT_SERVING otherwise; unknown services NOT_FOUND', async () => {
    running = await startFakeServer({ healthCheck: true });
    for (const service of ['', 'tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService']) {
      assert.equal(await checkStatus(running, service), ServingStatus.SERVING, service);
    }
    running.core.ready = false;
    assert.equal(await checkStatus(running, ''), ServingStatus.NOT_SERVING);
    await assert.rejects(checkStatus(running, 'no.such.Service'), (e: ServiceError) => e.code === GrpcStatus.NOT_FOUND && e.details === 'unknown service');
  });

  it('Watch: sends the status at once and again when readiness changes; close() ends it with NOT_SERVING', async () => {
    running = await startFakeServer({ healthCheck: true, healthPollMs: 10 });
    running.core.ready = false;
    const watching = watchStatuses(running, '');
    assert.deepEqual(await watching.next(1), [ServingStatus.NOT_SERVING]);
    running.core.ready = true;
    assert.deepEqual(await watching.next(2), [ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
    const unknown = watchStatuses(running, 'no.such.Service');
    assert.deepEqual(await unknown.next(1), [ServingStatus.SERVICE_UNKNOWN]);

    const started = Date.now();
    await running.server.close();
    assert.ok(Date.now() - started < 2000, 'open watches do not hold up shutdown');
    assert.equal(await watching.ended, GrpcStatus.OK);
    assert.deepEqual(await watching.next(3), [ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    assert.equal(await unknown.ended, GrpcStatus.OK);
  });

  it('is not served unless enabled (UNIMPLEMENTED)', async () => {
    running = await startFakeServer();
    await assert.rejects(checkStatus(running, ''), (e: ServiceError) => e.code === GrpcStatus.UNIMPLEMENTED);
  });
});
