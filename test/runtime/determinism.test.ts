/**
 * Issue 7, item 4: a model's answer must not change between calls. Every stateless corpus model,
 * every recorded case: the same request twice in the calling thread and twice on a pool of two
 * workers (so the two calls reach different instances) gives bit-identical outputs, equal to
 * TensorFlow's within the model's tolerance. (Stateful models change by design: skipped.)
 * Found by it: wasm's Equal on strings answered from an unwritten buffer (TextVectorization).
 */
import assert from 'node:assert/strict';
import type { ModelEngine } from '../../src/server/runtime/engine.js';
import { loadSavedModel } from '../../src/server/runtime/index.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';
import { type CorpusCase, corpusDir, decodeTensors, readCorpusModel, readManifest } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';

const corpus = corpusDir();

/** Bytes of every output, for a bit-exact comparison (NaN payloads included). */
function fingerprint(outputs: ReadonlyMap<string, HostTensor>): string {
  return [...outputs].sort(([a], [b]) => a.localeCompare(b)).map(([alias, t]) => {
    const data = t.data;
    const bytes = Array.isArray(data) ? data.map((s) => Buffer.from(s).toString('hex')).join(',') : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
    return `${alias}[${t.shape}]=${bytes}`;
  }).join(';');
}

/** Cases our runtime refuses (int64/float64 beyond int32/float32; see corpus.test.ts) are left out. */
function withinTfjsRange(testCase: CorpusCase): boolean {
  const tensors = [...Object.values(testCase.inputs), ...Object.values(testCase.outputs ?? {})];
  return tensors.every((t) =>
    (t.dtype !== 'int64' && t.dtype !== 'uint64') || t.values.every((v) => BigInt(v as string) <= 2147483647n && BigInt(v as string) >= -2147483648n)) &&
    tensors.every((t) => t.dtype !== 'float64' || t.values.every((v) => typeof v !== 'number' || Math.abs(v) <= 3.4028234663852886e38));
}

/** A case TensorFlow fails: every call, in-thread and pooled, fails with the same code and text. */
async function assertFailsAlike(engines: ReadonlyArray<[string, ModelEngine]>, testCase: CorpusCase, index: number): Promise<void> {
  const failures: Array<[string, string]> = [];
  for (const [where, engine] of engines) {
    const calls = [0, 1].map(() => engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) }));
    for (const [call, outcome] of (await Promise.allSettled(calls)).entries()) {
      assert.equal(outcome.status, 'rejected', `${where} call ${call + 1} of case #${index} answered where TensorFlow fails`);
      const reason = (outcome as PromiseRejectedResult).reason as { code?: number; message?: string };
      failures.push([`${where} call ${call + 1}`, `${reason.code}: ${reason.message}`]);
    }
  }
  const [first] = failures;
  for (const [who, failure] of failures) assert.equal(failure, first![1], `case #${index} (${testCase.signature}): ${who} fails unlike ${first![0]}`);
}

describe('determinism: the same request twice, in-thread and pooled, answers the same (every corpus model)', function () {
  if (!corpus.dir) {
    it.skip(`skipped: ${corpus.skipReason}`);
    return;
  }
  this.timeout(120_000);
  const dir = corpus.dir;
  for (const { name } of readManifest(dir).models) {
    const model = readCorpusModel(dir, name);
    if (model.stateful) continue;
    it(name, async () => {
      const engines: Array<[string, ModelEngine]> = [];
      try {
        engines.push(['in-thread', await loadSavedModel(model.dir, { runtime: 'wasm', threads: 0, tags: model.tags })]);
        engines.push(['pooled', await loadSavedModel(model.dir, { runtime: 'wasm', threads: 2, tags: model.tags })]);
        for (const [index, testCase] of model.cases.entries()) {
          if (!withinTfjsRange(testCase)) continue;
          if (testCase.error) {
            await assertFailsAlike(engines, testCase, index);
            continue;
          }
          const expected = decodeTensors(testCase.outputs);
          const answers: Array<[string, string]> = [];
          for (const [where, engine] of engines) {
            // Sequential calls on the in-thread engine; concurrent ones on the pool (one per worker).
            const runs = where === 'pooled'
              ? await Promise.all([0, 1].map(() => engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) })))
              : [await engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) }),
                await engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) })];
            for (const [call, outputs] of runs.entries()) {
              for (const [alias, want] of expected) {
                const got = outputs.get(alias);
                assert.ok(got, `${where} call ${call + 1} of case #${index}: no output ${alias}`);
                const mismatch = describeMismatch(got, want, model.rtol, model.atol);
                assert.equal(mismatch, undefined, `${where} call ${call + 1} of case #${index} (${testCase.signature}), ${alias}: ${mismatch}`);
              }
              answers.push([`${where} call ${call + 1}`, fingerprint(outputs)]);
            }
          }
          const [first] = answers;
          for (const [who, answer] of answers) assert.equal(answer, first![1], `case #${index} (${testCase.signature}): ${who} differs from ${first![0]}`);
        }
      } finally {
        await Promise.all(engines.map(([, e]) => e.dispose()));
      }
    });
  }
});
