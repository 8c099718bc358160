/**
 * Damaged SavedModels give clear typed errors (DATA_LOSS for corrupt files, NOT_FOUND for what is
 * missing, UNIMPLEMENTED naming an unsupported op), in-thread and through the worker pool, and the
 * process carries on.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { SavedModelSchema } from '../../src/gen/tensorflow/core/protobuf/saved_model_pb.js';
import { Code, ServingError } from '../../src/server/errors.js';
import { loadSavedModel } from '../../src/server/runtime/index.js';
import { servingTestModels } from '../support/test-models.js';

const MODELS = servingTestModels();
const TF1 = join(MODELS.halfPlusTwo, '00000123');
const TF2 = join(MODELS.halfPlusTwoTf2, '00000123');
const DATA = 'variables/variables.data-00000-of-00001';
const INDEX = 'variables/variables.index';

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0xff;
  writeFileSync(path, bytes);
}

function isServingError(code: Code, pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ServingError, `expected a ServingError, got ${String(error)}`);
    assert.equal(Code[error.code], Code[code], error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

interface Damage {
  name: string;
  source: string;
  damage(dir: string): void;
  code: Code;
  message: RegExp;
  tags?: string[];
}

const DAMAGES: Damage[] = [
  {
    name: 'truncated saved_model.pb', source: TF1, code: Code.DATA_LOSS, message: /Could not parse .*saved_model\.pb/,
    damage: (dir) => truncateSync(join(dir, 'saved_model.pb'), 100),
  },
  {
    name: 'missing saved_model.pb', source: TF1, code: Code.NOT_FOUND, message: /SavedModel file does not exist at: .*saved_model\.pbtxt\|saved_model\.pb/,
    damage: (dir) => unlinkSync(join(dir, 'saved_model.pb')),
  },
  {
    name: 'flipped bytes in variables.index (TF1)', source: TF1, code: Code.DATA_LOSS, message: /Corrupt checkpoint index .*variables\.index/,
    damage: (dir) => flipByte(join(dir, INDEX), 20),
  },
  {
    name: 'flipped bytes in variables.index (TF2)', source: TF2, code: Code.DATA_LOSS, message: /Corrupt checkpoint index/,
    damage: (dir) => flipByte(join(dir, INDEX), 40),
  },
  {
    name: 'flipped byte in the data shard', source: TF1, code: Code.DATA_LOSS, message: /Checksum does not match for tensor "\w+" in checkpoint shard/,
    damage: (dir) => flipByte(join(dir, DATA), 1),
  },
  {
    name: 'flipped byte in the TF2 object graph', source: TF2, code: Code.DATA_LOSS, message: /Checksum does not match for tensor "_CHECKPOINTABLE_OBJECT_GRAPH"/,
    damage: (dir) => flipByte(join(dir, DATA), 30),
  },
  {
    name: 'missing data shard', source: TF1, code: Code.DATA_LOSS, message: /Checkpoint file not found: .*variables\.data-00000-of-00001/,
    damage: (dir) => unlinkSync(join(dir, DATA)),
  },
  {
    name: 'truncated data shard', source: TF1, code: Code.DATA_LOSS, message: /is truncated/,
    damage: (dir) => truncateSync(join(dir, DATA), 8),
  },
  {
    name: 'wrong tag set', source: TF1, tags: ['serve', 'gpu'], code: Code.NOT_FOUND,
    message: /MetaGraphDef associated with tags 'serve', 'gpu' could not be found in SavedModel, with available tags '\[\{'serve'\}\]'/,
    damage: () => undefined,
  },
  {
    name: 'an op the runtime does not implement', source: TF1, code: Code.UNIMPLEMENTED,
    message: /Op types not supported by this runtime \(1\): NotARealTensorFlowOp \(node "Mul"\)/,
    damage: (dir) => {
      const path = join(dir, 'saved_model.pb');
      const model = fromBinary(SavedModelSchema, readFileSync(path));
      model.metaGraphs[0]!.graphDef!.node.find((n) => n.name === 'Mul')!.op = 'NotARealTensorFlowOp';
      writeFileSync(path, toBinary(SavedModelSchema, model));
    },
  },
  {
    name: 'several ops the runtime does not implement (every op and node named, not the first)', source: TF1, code: Code.UNIMPLEMENTED,
    message: /^Op types not supported by this runtime \(2\): FakeOpA \(node "Mul"\); FakeOpB \(nodes "y", "y2"\)\. TensorFlow's native engine runs every op: build it with `npm run native:install`, then serve with --runtime=tensorflow \(or auto\)$/,
    damage: (dir) => {
      const path = join(dir, 'saved_model.pb');
      const model = fromBinary(SavedModelSchema, readFileSync(path));
      const nodes = model.metaGraphs[0]!.graphDef!.node;
      const rename = (name: string, op: string): void => {
        nodes.find((n) => n.name === name)!.op = op;
      };
      rename('Mul', 'FakeOpA');
      rename('y2', 'FakeOpB');
      rename('y', 'FakeOpB');
      writeFileSync(path, toBinary(SavedModelSchema, model));
    },
  },
];

describe('damaged SavedModels', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-corrupt-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const threads of [0, 2]) {
    for (const [index, d] of DAMAGES.entries()) {
      it(`${d.name} -> ${Code[d.code]} (${threads === 0 ? 'in-thread' : 'worker pool'})`, async () => {
        const dir = join(root, `${threads}-${index}`);
        cpSync(d.source, dir, { recursive: true });
        d.damage(dir);
        await assert.rejects(loadSavedModel(dir, { runtime: 'wasm', threads, tags: d.tags }), isServingError(d.code, d.message));
      });
    }
  }

  it('still loads and serves the intact model afterwards', async () => {
    const model = await loadSavedModel(TF1, { runtime: 'wasm', threads: 0 });
    const out = await model.run({ signature: 'serving_default', inputs: new Map([['x', { dtype: 1, shape: [1], data: Float32Array.from([4]) }]]) });
    assert.deepEqual(Array.from(out.get('y')!.data as Float32Array), [4]);
    await model.dispose();
  });
});
