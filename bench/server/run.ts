/**
 * `npm run bench:server`: tfmodel-server against the ceilings a Node server can reach on this
 * machine (bare node:http, bare grpc-js) and against what a TensorFlow user would run without
 * Docker (Python TensorFlow + Flask; grpcio as an extra), plus batching on a CNN and hot-load
 * time, all in one run. Prints a markdown report on stdout (progress on stderr) and writes the
 * raw figures to dist/bench-results/server.json. Knobs: config.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from './config.js';
import { measureHotLoad } from './hot-load.js';
import { AUTOCANNON_VERSION, autocannonBin } from './load.js';
import { RESULTS_DIR, progress } from './paths.js';
import { ensureBaselineVenv, pythonVersions } from './python-baselines.js';
import { type BenchResults, evaluateTargets, renderReport } from './report.js';
import { runApiSections, runCnnSection, runProfiles } from './sections.js';
import { renderNativeResnet, runNativeResnetSection } from './native-resnet.js';

async function main(): Promise<void> {
  const started = Date.now();
  const loadAverageBefore = loadavg();
  const config = readConfig();
  const workDir = mkdtempSync(join(tmpdir(), 'tfmodel-bench-server-'));
  try {
    progress(`autocannon ${AUTOCANNON_VERSION}: ${autocannonBin()}`);
    const wantsPython = config.python && (config.sections.has('rest') || config.sections.has('grpc'));
    const venv = wantsPython ? ensureBaselineVenv() : undefined;
    const python = venv ? pythonVersions(venv) : undefined;

    const api = config.sections.has('rest') || config.sections.has('grpc') ? await runApiSections(config, venv, workDir) : undefined;
    const cnn = config.sections.has('cnn') ? await runCnnSection(config, workDir) : undefined;
    const hotLoad = config.sections.has('hotload')
      ? [
        await measureHotLoad(config.hotLoadTrials, 'default flags', []),
        await measureHotLoad(config.hotLoadTrials, '--inference_threads=0', ['--inference_threads=0']),
      ]
      : undefined;
    const profiles = config.profile ? await runProfiles(config, workDir) : undefined;
    const resnet = config.sections.has('resnet') ? await runNativeResnetSection(config, workDir) : undefined;

    const results: BenchResults = {
      startedAt: new Date(started).toISOString(),
      wallSeconds: (Date.now() - started) / 1000,
      machine: {
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.versions.node,
        loadAverageBefore,
        loadAverageAfter: loadavg(),
      },
      settings: { ...config, sections: [...config.sections] },
      tools: { autocannon: AUTOCANNON_VERSION, ...(python ? { python } : {}) },
      ...(api ? { api } : {}),
      ...(cnn ? { cnn } : {}),
      ...(hotLoad ? { hotLoad } : {}),
      ...(profiles ? { profiles } : {}),
      ...(resnet ? { resnet } : {}),
      targets: evaluateTargets(api, cnn, hotLoad),
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const jsonPath = join(RESULTS_DIR, 'server.json');
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    console.log(renderReport(results));
    if (resnet) console.log(renderNativeResnet(resnet));
    progress(`raw results: ${jsonPath}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
