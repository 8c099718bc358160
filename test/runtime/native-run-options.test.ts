/**
 * RunOptions on the native engine (run-options.ts): the bytes we send are the RunOptions
 * TensorFlow reads (its own check rejects a pool index the session does not have), and a run asked
 * to stay in the calling thread is one DirectSession executes synchronously, by TensorFlow's own
 * log line, with the same answer as a run on the inter-op pool.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Code } from '../../src/server/errors.js';
import { encodeRunOptions } from '../../src/server/runtime/native/run-options.js';
import { SessionEngine } from '../../src/server/runtime/native/session-engine.js';
import { loadAddon } from '../../src/server/runtime/native/tf-addon.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { describeWithNativeEngine } from '../support/runtimes.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';

const PROBE = fileURLToPath(new URL('./native/caller-thread-probe.js', import.meta.url));
const SYNCHRONOUS = 'Executing Session::Run() synchronously!';

/** The probe's answer and TensorFlow's log lines written during its one run. */
function probe(mode: 'caller' | 'pool'): { answer: number[]; logDuringRun: string[] } {
  const run = spawnSync(process.execPath, [PROBE, mode], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '0', TF_CPP_VMODULE: 'direct_session=1' },
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stderr.split('\n');
  const start = lines.indexOf('probe: run starts');
  const end = lines.indexOf('probe: run ended');
  assert.ok(start >= 0 && end > start, run.stderr);
  return { answer: JSON.parse(run.stdout.trim()) as number[], logDuringRun: lines.slice(start + 1, end) };
}

describeWithNativeEngine('native engine RunOptions (TF_SessionRun run_options)', function () {
  this.timeout(120_000);

  it('runs a step asked to stay in the calling thread synchronously, as TensorFlow logs it, with the same answer', () => {
    const caller = probe('caller');
    const pool = probe('pool');
    assert.equal(caller.logDuringRun.filter((l) => l.includes(SYNCHRONOUS)).length, 1, caller.logDuringRun.join('\n'));
    assert.equal(pool.logDuringRun.filter((l) => l.includes(SYNCHRONOUS)).length, 0, pool.logDuringRun.join('\n'));
    assert.deepEqual(caller.answer, pool.answer);
    assert.deepEqual(caller.answer, [2.5, 3, 4.5]);
  });

  it("hands the RunOptions bytes to TensorFlow: its own check refuses an inter-op pool the session lacks", async () => {
    const engine = await SessionEngine.load(HALF_PLUS_TWO);
    const signature = engine.signatures.find((s) => s.key === 'serving_default')!;
    await engine.dispose();
    const addon = loadAddon();
    const session = await addon.loadSession(HALF_PLUS_TWO, ['serve'], null);
    try {
      const feeds = [{ name: signature.inputs[0]!.tensorName, dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.from([4]) }];
      const fetches = [signature.outputs[0]!.tensorName];
      await assert.rejects(addon.run(session, feeds, fetches, [], encodeRunOptions({ interOpThreadPool: 7 })), (e: unknown) =>
        (e as { code?: number }).code === Code.INVALID_ARGUMENT && /Invalid inter_op_thread_pool: 7/.test((e as Error).message));
      for (const options of [null, encodeRunOptions({ inCallerThread: true })!]) {
        const [y] = await addon.run(session, feeds, fetches, [], options);
        assert.deepEqual(Array.from(new Float32Array(y!.data as ArrayBuffer)), [4]);
      }
    } finally {
      await addon.closeSession(session);
    }
  });
});
