/**
 * A SavedModel's inspection computed in the worker thread (savedmodel/off-loop-inspection.ts, which
 * the server's loads use so that decoding saved_model.pb never holds the event loop) is exactly the
 * one computed in the calling thread, on TF-made SavedModels; its errors keep their code and text.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ServingError } from '../../src/server/errors.js';
import { inspectForSession } from '../../src/server/runtime/native/session-inspection.js';
import { selectMetaGraph } from '../../src/server/runtime/savedmodel/meta-graph.js';
import { inspectOffLoop, signatureDefsOffLoop } from '../../src/server/runtime/savedmodel/off-loop-inspection.js';
import { readSavedModelProto } from '../../src/server/runtime/savedmodel/read-saved-model.js';
import { HALF_PLUS_THREE_BASE, HALF_PLUS_TWO, HALF_PLUS_TWO_TF2_BASE } from '../support/test-models.js';

const MODELS = [HALF_PLUS_TWO, join(HALF_PLUS_THREE_BASE, '00000123'), join(HALF_PLUS_TWO_TF2_BASE, '00000123')];

describe('SavedModel inspection off the event loop', function () {
  this.timeout(60_000);

  for (const dir of MODELS) {
    it(`equals the in-thread inspection: ${dir.split('/').slice(-2).join('/')}`, async () => {
      const inThread = await inspectForSession(dir, ['serve']);
      assert.deepEqual(await inspectOffLoop(dir, ['serve']), inThread);
      assert.deepEqual(await signatureDefsOffLoop(dir, ['serve']), selectMetaGraph(await readSavedModelProto(dir), ['serve']).signatureDef);
      assert.ok(inThread.signatures.length > 0);
    });
  }

  it('answers many inspections at once, each with its own model', async () => {
    const results = await Promise.all(MODELS.flatMap((dir) => [dir, dir]).map((dir) => inspectOffLoop(dir, ['serve']).then((r) => [dir, r] as const)));
    for (const [dir, inspection] of results) assert.deepEqual(inspection, await inspectForSession(dir, ['serve']));
  });

  it('fails as the in-thread read does: missing files, an unknown tag set, a corrupt saved_model.pb', async () => {
    const sameError = async (dir: string, tags: string[]): Promise<ServingError> => {
      const want = await inspectForSession(dir, tags).then(() => assert.fail('expected a failure'), (e: unknown) => e as ServingError);
      const got = await inspectOffLoop(dir, tags).then(() => assert.fail('expected a failure'), (e: unknown) => e as ServingError);
      assert.ok(got instanceof ServingError);
      assert.equal(got.code, want.code);
      assert.equal(got.message, want.message);
      return got;
    };
    const work = mkdtempSync(join(tmpdir(), 'off-loop-inspection-'));
    try {
      assert.equal((await sameError(join(work, 'absent'), ['serve'])).code, Code.NOT_FOUND);
      assert.equal((await sameError(HALF_PLUS_TWO, ['serve', 'gpu'])).code, Code.NOT_FOUND);
      const corrupt = join(work, 'corrupt');
      cpSync(HALF_PLUS_TWO, corrupt, { recursive: true });
      writeFileSync(join(corrupt, 'saved_model.pb'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
      assert.equal((await sameError(corrupt, ['serve'])).code, Code.DATA_LOSS);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
