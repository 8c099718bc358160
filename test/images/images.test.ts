/**
 * The images built from docker/*.Dockerfile by scripts/images/build.sh, run by podman the way a
 * hardened pod runs them: read-only root (no tmpfs slipped onto /tmp), a non-root uid other than
 * the image's, no capabilities, no-new-privileges, the model mounted read-only. Answers are
 * checked against real TensorFlow on the same SavedModel.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePortSync, ServerProcess } from '../support/server-process.js';
import { servingTestModels } from '../support/test-models.js';
import { askTensorFlow, jsonTensor, oraclePython } from '../support/tf-oracle.js';
import { type BuiltImages, builtImages, OPERATOR_IMAGE, PAUSE_IMAGE, podman, podmanOk, SERVER_IMAGE } from './images.js';

/** Run inside a container by its node: what the process may do and where it may write. */
const PROBE = `
const fs = require('node:fs');
const tryWrite = (path) => { try { fs.writeFileSync(path, 'x'); fs.rmSync(path); return 'ok'; } catch (e) { return e.code; } };
const status = fs.readFileSync('/proc/self/status', 'utf8');
const field = (name) => (status.match(new RegExp('^' + name + ':\\\\s*(.*)$', 'm')) || [])[1];
process.stdout.write(JSON.stringify({
  uid: process.getuid(), gid: process.getgid(), capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs'),
  root: tryWrite('/probe'), tmp: tryWrite('/tmp/probe'), app: tryWrite('/app/probe'), model: tryWrite('/models/half_plus_two/probe'),
}));
`;

describe('container images (podman builds of docker/*.Dockerfile)', function () {
  this.timeout(180_000);
  let images: BuiltImages;

  before(function () {
    this.timeout(40 * 60_000);
    const built = builtImages();
    if (!built.images) {
      console.warn(`skipping: ${built.skipReason}`);
      this.skip();
    }
    images = built.images;
    for (const [tag, size] of images.sizes) console.warn(`      image ${tag}: ${(size / 1e6).toFixed(1)} MB`);
  });

  it('the server image serves half_plus_two with a read-only root as uid 1000, the model mounted read-only, answering what TensorFlow answers', async function () {
    const oracle = oraclePython();
    if (!oracle.python) {
      console.warn(`skipping: ${oracle.skipReason}`);
      this.skip();
    }
    const base = servingTestModels().halfPlusTwo;
    const version = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort().pop()!;
    const x = [1, 2, 5, -3.5];
    // x is float32 [None, 1]: one value per instance.
    const [expected] = askTensorFlow(oracle.python!, [{ dir: join(base, version), signature: 'serving_default', inputs: { x: jsonTensor('float32', [x.length, 1], x) } }]);
    assert.ok(expected?.outputs, `TensorFlow: ${expected?.error}`);

    const name = `tfmodel-image-test-${process.pid}`;
    const server = ServerProcess.startCommand('podman', [
      'run', '--rm', `--name=${name}`, '--pull=never',
      '--read-only', '--read-only-tmpfs=false', '--user=1000:1000', '--cap-drop=ALL', '--security-opt=no-new-privileges',
      // Host network (the server binds 127.0.0.1 only): podman's bridge would add iptables rules.
      '--network=host',
      `--volume=${base}:/models/half_plus_two:ro`, '--env=MODEL_NAME=half_plus_two',
      SERVER_IMAGE, '--bind_address=127.0.0.1', `--port=${freePortSync()}`, `--rest_api_port=${freePortSync()}`,
    ], images.podmanEnv);
    try {
      const { rest } = await server.ports();
      await server.waitFor((e) => e.event === 'serving' || (e.event === 'version_loaded' && e['model'] === 'half_plus_two'), 120_000);
      const url = `http://127.0.0.1:${rest}/v1/models/half_plus_two`;
      let status: { model_version_status: Array<{ state: string }> } | undefined;
      for (let i = 0; i < 120 && status?.model_version_status[0]?.state !== 'AVAILABLE'; i++) {
        const response = await fetch(url);
        if (response.ok) status = (await response.json()) as typeof status;
        else await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(status?.model_version_status[0]?.state, 'AVAILABLE');

      const response = await fetch(`${url}:predict`, { method: 'POST', body: JSON.stringify({ instances: x.map((v) => [v]) }) });
      assert.equal(response.status, 200, await response.clone().text());
      const { predictions } = (await response.json()) as { predictions: number[][] };
      assert.deepEqual(predictions, expected.outputs['y']!.values.map((v) => [Number(v)]));

      const probe = JSON.parse(podmanOk(images, ['exec', name, '/nodejs/bin/node', '-e', PROBE])) as Record<string, unknown>;
      assert.deepEqual(probe, { uid: 1000, gid: 1000, capEff: '0000000000000000', noNewPrivs: '1', root: 'EROFS', tmp: 'EROFS', app: 'EROFS', model: 'EROFS' });
    } finally {
      podman(images, ['rm', '--force', '--time=5', name]);
      await server.stop();
    }
  });

  it('the server image holds node, the production dependencies less the Kubernetes client, and no shell', () => {
    const script = `
      const fs = require('node:fs');
      const at = (p) => fs.existsSync('/app/node_modules/' + p);
      process.stdout.write(JSON.stringify({
        shell: fs.existsSync('/bin/sh'), npm: fs.existsSync('/usr/local/bin/npm'), sources: fs.existsSync('/app/src'),
        k8s: at('@kubernetes/client-node'), wasm: at('@tensorflow/tfjs-backend-wasm/package.json'), grpc: at('@grpc/grpc-js/package.json'),
        main: fs.existsSync('/app/dist/src/server/main.js'), tests: fs.readdirSync('/app/dist/src', { recursive: true }).some((f) => String(f).endsWith('.test.js')),
      }));`;
    const found = JSON.parse(podmanOk(images, ['run', '--rm', '--pull=never', '--network=none', '--read-only', '--entrypoint=/nodejs/bin/node', SERVER_IMAGE, '-e', script])) as Record<string, boolean>;
    assert.deepEqual(found, { shell: false, npm: false, sources: false, k8s: false, wasm: true, grpc: true, main: true, tests: false });
  });

  it('the operator image starts its binary (every module loads) as the image user 65532 with a read-only root', () => {
    const version = podmanOk(images, ['run', '--rm', '--pull=never', '--network=none', '--read-only', '--cap-drop=ALL', OPERATOR_IMAGE, '--version']);
    assert.match(version, /0\.1\.0/);
    const user = podmanOk(images, ['image', 'inspect', '--format', '{{.Config.User}}', OPERATOR_IMAGE]).trim();
    assert.equal(user, '65532:65532');
  });

  it('the pause image is a static binary that exits 0 on SIGTERM', async () => {
    const name = `tfmodel-pause-test-${process.pid}`;
    podmanOk(images, ['run', '--detach', `--name=${name}`, '--pull=never', '--network=none', '--read-only', PAUSE_IMAGE]);
    try {
      assert.equal(podmanOk(images, ['inspect', '--format', '{{.State.Running}}', name]).trim(), 'true');
      podmanOk(images, ['kill', '--signal=TERM', name]);
      podmanOk(images, ['wait', name]);
      assert.equal(podmanOk(images, ['inspect', '--format', '{{.State.ExitCode}}', name]).trim(), '0');
    } finally {
      podman(images, ['rm', '--force', name]);
    }
  });
});
