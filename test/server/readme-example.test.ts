/**
 * The README's first set-up command (`npm run example`) serves the bundled model, and the two
 * calls the README shows next answer as TensorFlow did (examples/.../expected.json). The script is
 * read from package.json and run by sh from the repository root, as npm runs it (after its
 * `npm run build`, which the test suite has done), with free ports on 127.0.0.1 appended (the
 * last value of a flag wins, as in tensorflow_model_server).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/corpus.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';

const BUILD_STEP = 'npm run build && ';

function exampleCommand(): string {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const script = scripts['example']!;
  assert.ok(script.startsWith(BUILD_STEP), `the example script builds first: ${script}`);
  return script.slice(BUILD_STEP.length);
}

describe('README: npm run example', function () {
  this.timeout(120_000);
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
  });

  it('serves the bundled iris model from the repository root, answering the README\'s two calls as TensorFlow does', async () => {
    const rest = freePortSync();
    const overrides = `--port=${freePortSync()} --rest_api_port=${rest} --bind_address=127.0.0.1`;
    server = ServerProcess.startCommand('sh', ['-c', `cd "${REPO_ROOT}" && exec ${exampleCommand()} ${overrides}`]);
    await server.waitFor((e) => e.event === 'rest_listening');

    const status = await fetch(`http://127.0.0.1:${rest}/v1/models/iris/versions/1`);
    assert.equal(status.status, 200);
    assert.deepEqual(await status.json(), { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });

    const expected = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'models', 'iris_classifier', 'expected.json'), 'utf8')) as {
      cases: Array<{ inputs: { features: { values: number[] } }; outputs: Record<string, { values: unknown[] }> }>;
    };
    const [first] = expected.cases;
    const predict = await fetch(`http://127.0.0.1:${rest}/v1/models/iris:predict`, { method: 'POST', body: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }) });
    assert.equal(predict.status, 200);
    const { predictions } = (await predict.json()) as { predictions: Array<Record<string, unknown>> };
    assert.equal(predictions.length, 1);
    // The README's instance is the first recorded case; its class agrees with TensorFlow's.
    assert.deepEqual(first!.inputs.features.values.map((v) => Math.fround(v)), [5.1, 3.5, 1.4, 0.2].map((v) => Math.fround(v)));
    const want = first!.outputs;
    assert.equal(String(predictions[0]!['class_id']), want['class_id']!.values[0]);
    assert.equal(predictions[0]!['class_name'], Buffer.from(want['class_name']!.values[0] as string, 'base64').toString());
    const probabilities = predictions[0]!['probabilities'] as number[];
    (want['probabilities']!.values as number[]).forEach((p, i) => assert.ok(Math.abs(probabilities[i]! - p) <= 1e-6 + 1e-4 * Math.abs(p), `probabilities[${i}]: ${probabilities[i]} vs TensorFlow's ${p}`));
  });
});
