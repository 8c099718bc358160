/**
 * Hot-load time: a served base path gets a new version directory (copied next to it, then moved
 * in by rename, as a deployment tool would) while a light REST load runs; how long until the
 * answers come from the new version? Versions alternate between half_plus_three (0.5x + 3) and
 * half_plus_two (0.5x + 2), so the answer to x = 1 tells which version served it. With
 * --file_system_poll_wait_seconds=P the expectation is "within two poll intervals" (one to
 * notice, plus the load), i.e. 2P.
 */
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HALF_PLUS_THREE_VERSION_DIR, HALF_PLUS_TWO_VERSION_DIR, progress } from './paths.js';
import { type ServerUnderTest, startTfmodelServer } from './targets.js';

export interface HotLoadTrial {
  readonly version: number;
  readonly model: 'half_plus_two' | 'half_plus_three';
  /** From the rename to the server's version_loading log line (the poll that noticed it). */
  readonly loadingMs: number;
  /** From the rename to the server's version_available log line. */
  readonly availableMs: number;
  /** From the rename to the first answer computed by the new version. */
  readonly firstNewAnswerMs: number;
  /** Answers from the old version to requests sent after the first new answer arrived. */
  readonly staleAfterSwitch: number;
}

export interface HotLoadResult {
  /** Which server flags (e.g. the default, --inference_threads=0). */
  readonly variant: string;
  readonly pollSeconds: number;
  readonly expectationMs: number;
  readonly trials: readonly HotLoadTrial[];
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  /** Requests per second of the light load. */
  readonly loadRps: number;
}

const LOOPS = 4;
const PAUSE_MS = 5;
const SETTLE_MS = 500;
const GIVE_UP_MS = 20_000;
const BODY = '{"instances": [[1.0]]}';

interface Answer {
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly value: number | undefined;
}

/** A few keep-alive loops POSTing x = 1 with a short pause between answers. */
class LightLoad {
  readonly answers: Answer[] = [];
  errors = 0;
  firstError: string | undefined;
  private running = true;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: LOOPS });
  private readonly loops: Promise<void>[];
  private readonly startedAt = performance.now();

  constructor(private readonly url: string) {
    this.loops = Array.from({ length: LOOPS }, () => this.loop());
  }

  private post(): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(this.url, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.once('error', reject);
      req.end(BODY);
    });
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const sentAt = performance.now();
      try {
        const { status, text } = await this.post();
        if (status !== 200) throw new Error(`${status} ${text.slice(0, 200)}`);
        const parsed = JSON.parse(text) as { predictions: number[][] };
        this.answers.push({ sentAt, receivedAt: performance.now(), value: parsed.predictions[0]?.[0] });
      } catch (error) {
        this.errors++;
        this.firstError ??= (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }

  /** The first answer received after `since` whose value is `value`. */
  async waitForValue(value: number, since: number, timeoutMs: number): Promise<Answer | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const found = this.answers.find((a) => a.receivedAt >= since && a.value === value);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return undefined;
  }

  async stop(): Promise<{ requests: number; rps: number }> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
    const seconds = (performance.now() - this.startedAt) / 1000;
    return { requests: this.answers.length + this.errors, rps: (this.answers.length + this.errors) / seconds };
  }
}

const MODELS = {
  half_plus_two: { dir: HALF_PLUS_TWO_VERSION_DIR, answer: 2.5 },
  half_plus_three: { dir: HALF_PLUS_THREE_VERSION_DIR, answer: 3.5 },
} as const;

async function runTrial(server: ServerUnderTest, load: LightLoad, root: string, version: number): Promise<HotLoadTrial> {
  const model = version % 2 === 0 ? 'half_plus_three' : 'half_plus_two';
  const { dir, answer } = MODELS[model];
  const staged = join(root, 'staging', String(version));
  cpSync(dir, staged, { recursive: true });
  const renamedAt = performance.now();
  renameSync(staged, join(root, 'models', String(version)));
  const available = server.process.waitFor((e) => e.event === 'version_available' && e['version'] === String(version), GIVE_UP_MS);
  const first = await load.waitForValue(answer, renamedAt, GIVE_UP_MS);
  if (!first) throw new Error(`hot load: version ${version} (${model}) never answered within ${GIVE_UP_MS} ms`);
  await available;
  const eventAt = (name: string): number =>
    server.process.events.find((e) => e.event === name && e['version'] === String(version))?.receivedAt ?? Number.NaN;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const stale = load.answers.filter((a) => a.sentAt > first.receivedAt && a.value !== answer).length;
  return {
    version,
    model,
    loadingMs: eventAt('version_loading') - renamedAt,
    availableMs: eventAt('version_available') - renamedAt,
    firstNewAnswerMs: first.receivedAt - renamedAt,
    staleAfterSwitch: stale,
  };
}

export async function measureHotLoad(trials: number, variant: string, flags: readonly string[], pollSeconds = 1): Promise<HotLoadResult> {
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-bench-hotload-'));
  let server: ServerUnderTest | undefined;
  try {
    cpSync(HALF_PLUS_TWO_VERSION_DIR, join(root, 'models', '1'), { recursive: true });
    server = await startTfmodelServer({
      label: 'tfmodel-server (hot load)',
      modelName: 'hot',
      basePath: join(root, 'models'),
      flags: [`--file_system_poll_wait_seconds=${pollSeconds}`, ...flags],
    });
    const load = new LightLoad(`${server.restBase}/v1/models/hot:predict`);
    const results: HotLoadTrial[] = [];
    // A moment of load on version 1 first, and a random phase against the poll timer per trial.
    for (let i = 0; i < trials; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * pollSeconds * 1000));
      const trial = await runTrial(server, load, root, i + 2);
      progress(`hot load (${variant}): version ${trial.version} (${trial.model}) answered after ${trial.firstNewAnswerMs.toFixed(0)} ms (available after ${trial.availableMs.toFixed(0)} ms)`);
      results.push(trial);
    }
    const { requests, rps } = await load.stop();
    return {
      variant,
      pollSeconds,
      expectationMs: 2 * pollSeconds * 1000,
      trials: results,
      requests,
      errors: load.errors,
      ...(load.firstError !== undefined ? { firstError: load.firstError } : {}),
      loadRps: rps,
    };
  } finally {
    await server?.process.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
