/**
 * Health and status keep answering under a flood of big predicts, and the request bytes in flight
 * stay capped (issue 7 item 7): 200 concurrent 1 MB predicts on REST, then on gRPC, against the
 * real server binary with half_plus_two and --max_inflight_request_bytes=16 MiB, while /healthz,
 * /readyz, model status and gRPC GetModelStatus are probed. No timing is asserted: that every probe
 * is answered, that each predict is answered 200/OK with TensorFlow's value or refused 429 /
 * RESOURCE_EXHAUSTED, and that the refusals report holdings within the cap.
 */
import assert from 'node:assert/strict';
import { toBinary } from '@bufbuild/protobuf';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { bigPredictBody, bigPredictRequest, grpcChannel, grpcPredictRaw, grpcStatusCall, httpCall, probeWhile } from '../support/flood.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { servingTestModels } from '../support/test-models.js';

const CAP = 16 * 1024 * 1024;
const CONCURRENT = 200;
const MB = 1024 * 1024;

/** "Too many request bytes in flight: H held, B more would exceed the limit of L ..." */
function checkRefusal(message: string): void {
  const match = /^Too many request bytes in flight: (\d+) held, (\d+) more would exceed the limit of (\d+) \(--max_inflight_request_bytes\)/.exec(message);
  assert.ok(match, message);
  const [held, more, limit] = [Number(match[1]), Number(match[2]), Number(match[3])];
  assert.equal(limit, CAP);
  assert.ok(held <= CAP, `held ${held} within the cap`);
  assert.ok(held + more > CAP);
}

describe('load shedding: health answers and in-flight bytes stay capped under 200 concurrent 1 MB predicts (issue 7 item 7)', function () {
  this.timeout(300_000);
  let server: ServerProcess;
  let rest: number;
  let grpc: number;

  before(async () => {
    const restPort = freePortSync();
    server = ServerProcess.start([
      '--model_name=half',
      `--model_base_path=${servingTestModels().halfPlusTwo}`,
      `--rest_api_port=${restPort}`,
      `--max_inflight_request_bytes=${CAP}`,
    ]);
    const ports = await server.ports();
    rest = ports.rest!;
    grpc = ports.grpc;
  });
  after(async () => {
    await server?.stop();
  });

  it('REST: every probe answers, every predict is 200 with 0.5x+2 or 429 within the cap', async () => {
    const { body, rows } = bigPredictBody(MB);
    const predicts = Promise.all(Array.from({ length: CONCURRENT }, () => httpCall(rest, 'POST', '/v1/models/half:predict', body)));
    const probes = await probeWhile(predicts, async () => {
      const [health, ready, status] = await Promise.all([
        httpCall(rest, 'GET', '/healthz'),
        httpCall(rest, 'GET', '/readyz'),
        httpCall(rest, 'GET', '/v1/models/half'),
      ]);
      const state = status.status === 200 ? JSON.parse(status.body).model_version_status[0].state : status.body;
      return (health.status === 200 && ready.status === 200 && state === 'AVAILABLE') || `healthz ${health.status}, readyz ${ready.status}, status ${state}`;
    });
    const replies = await predicts;
    assert.equal(probes.failed, 0, `no probe failed: ${probes.failures.join('; ')}`);
    assert.ok(probes.answered >= 1);
    let ok = 0;
    let refused = 0;
    for (const reply of replies) {
      if (reply.status === 200) {
        const predictions = JSON.parse(reply.body).predictions as number[][];
        assert.equal(predictions.length, rows);
        assert.deepEqual([predictions[0], predictions[rows - 1]], [[2.75], [2.75]]);
        ok++;
      } else {
        assert.equal(reply.status, 429, reply.body);
        checkRefusal(JSON.parse(reply.body).error);
        refused++;
      }
    }
    assert.ok(ok >= 1 && refused >= 1, `${ok} answered, ${refused} refused`);
    // Once the flood is over, the whole budget is free again.
    const after = await httpCall(rest, 'POST', '/v1/models/half:predict', body);
    assert.equal(after.status, 200);
  });

  it('gRPC: unrelated calls and probes answer, every predict is OK or RESOURCE_EXHAUSTED within the cap', async () => {
    const bytes = Buffer.from(toBinary(PredictRequestSchema, bigPredictRequest('half', MB)));
    const channels = Array.from({ length: 4 }, () => grpcChannel(grpc));
    const probeChannel = grpcChannel(grpc);
    try {
      const predicts = Promise.all(Array.from({ length: CONCURRENT }, (_, i) => grpcPredictRaw(channels[i % channels.length]!, bytes)));
      const probes = await probeWhile(predicts, async () => {
        const [status, health] = await Promise.all([grpcStatusCall(probeChannel, 'half'), httpCall(rest, 'GET', '/healthz')]);
        return (status.code === GrpcStatus.OK && health.status === 200) || `GetModelStatus ${status.code} ${status.details}, healthz ${health.status}`;
      });
      const replies = await predicts;
      assert.equal(probes.failed, 0, `no probe failed: ${probes.failures.join('; ')}`);
      const ok = replies.filter((r) => r.code === GrpcStatus.OK).length;
      const refused = replies.filter((r) => r.code === GrpcStatus.RESOURCE_EXHAUSTED);
      assert.equal(ok + refused.length, CONCURRENT, JSON.stringify(replies.find((r) => r.code !== GrpcStatus.OK && r.code !== GrpcStatus.RESOURCE_EXHAUSTED)));
      assert.ok(ok >= 1 && refused.length >= 1, `${ok} answered, ${refused.length} refused`);
      for (const reply of refused) checkRefusal(reply.details);
    } finally {
      for (const channel of [...channels, probeChannel]) channel.close();
    }
  });
});
