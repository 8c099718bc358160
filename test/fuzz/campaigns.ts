/**
 * The fuzz campaigns against a real tfmodel-server process (issue 7): REST, gRPC, corrupt versions
 * dropped into a polled base path, faulty reloads and connection floods, each interleaved with a
 * known-good request whose answer must not change. A finding is a crash, a hang (no answer within
 * 30 s), a 5xx / INTERNAL / UNKNOWN / DATA_LOSS answer, a REST error without TF Serving's
 * {"error": ...} body, or a good request lost or answered differently.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ReloadConfigRequestSchema } from '../../src/gen/tensorflow_serving/apis/model_management_pb.js';
import { parseModelServerConfig } from '../../src/server/config/model-config.js';
import { modelServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';
import { GRPC_HANG_MS, type GrpcReply, HANG_MS, type Reply, RestClient, grpcRaw, pool } from './clients.js';
import type { FuzzServer } from './fuzz-server.js';
import { type GoodCheck, GOOD_BODY, grpcChecks, halfRestCheck, restChecks } from './good-requests.js';
import { grpcCase } from './grpc-cases.js';
import { restCase } from './rest-cases.js';
import { Rng, caseRng } from './rng.js';

export { FuzzServer } from './fuzz-server.js';
export { grpcRaw } from './clients.js';

export interface CampaignResult {
  readonly campaign: string;
  cases: number;
  crashes: number;
  hangs: number;
  serverErrors: number;
  lost: number;
  /** Cases asked twice whose two answers differ. */
  nondeterministic: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** Reproducers of the first findings. */
  readonly findings: string[];
}

export interface CampaignOptions {
  /** Requests in flight at once (default 1). */
  readonly concurrency?: number;
  /** Only these case numbers (a reproducer run), in this order; `cases` is then ignored. */
  readonly only?: readonly number[];
  /** Called after every PROGRESS_EVERY cases (a long run's log). */
  readonly progress?: (result: CampaignResult) => void;
}

const PROGRESS_EVERY = 5000;

/** Case numbers a campaign of `cases` runs: 0..cases-1, or options.only. */
function caseNumbers(cases: number, options: CampaignOptions): readonly number[] {
  return options.only ?? Array.from({ length: cases }, (_, i) => i);
}

/** After every GOOD_EVERY cases a worker runs the next good check. */
const GOOD_EVERY = 20;
/** Every REPEAT_EVERY-th case is sent twice: both answers must be the same. */
const REPEAT_EVERY = 25;

function newResult(campaign: string, server: FuzzServer): CampaignResult {
  return { campaign, cases: 0, crashes: 0, hangs: 0, serverErrors: 0, lost: 0, nondeterministic: 0, rssBeforeMb: server.rssMb(), rssAfterMb: 0, findings: [] };
}

function finding(result: CampaignResult, line: string): void {
  if (result.findings.length < 20) result.findings.push(line);
}

/** Runs a good check; a wrong or missing answer is a lost request. */
async function good(result: CampaignResult, check: GoodCheck): Promise<void> {
  const problem = await check.run();
  if (problem !== undefined) {
    result.lost++;
    finding(result, `lost good request ${check.name}: ${problem}`);
  }
}

/** Good checks in turn: every call of the returned function runs the next. */
function rotation(result: CampaignResult, checks: readonly GoodCheck[]): () => Promise<void> {
  let next = 0;
  return () => good(result, checks[next++ % checks.length]!);
}

function checkAlive(server: FuzzServer, result: CampaignResult, context: string): boolean {
  if (server.alive) return true;
  result.crashes++;
  finding(result, `server exited (${server.process.child.exitCode ?? server.process.child.signalCode}) after ${context}`);
  return false;
}

const describeRest = (c: { method: string; path: string; headers: Record<string, string>; body: Buffer | undefined }): string =>
  `${c.method} ${c.path} ${JSON.stringify(c.headers)} body(b64,first 300 bytes)=${c.body?.subarray(0, 300).toString('base64') ?? ''}${(c.body?.length ?? 0) > 300 ? `... (${c.body!.length} bytes)` : ''}`;

/** Answers that may differ between two sends of the same request: refusals under load, transport failures. */
const restUnsettled = (r: Reply): boolean => r.status === 429 || r.status < 0;

/**
 * REST cases (rest-cases.ts; case i from its own seeded generator, so any concurrency replays the
 * same cases) on keep-alive connections; every REPEAT_EVERY-th case twice.
 */
export async function restCampaign(server: FuzzServer, seed: number, cases: number, options: CampaignOptions = {}): Promise<CampaignResult> {
  const result = newResult('REST', server);
  const concurrency = options.concurrency ?? 1;
  const client = new RestClient(server.rest, concurrency);
  const goodClient = new RestClient(server.rest, concurrency);
  const checks = restChecks(server, goodClient);
  const nextGood = rotation(result, checks);
  let dead = false;
  const numbers = caseNumbers(cases, options);
  await pool(numbers.length, concurrency, async (k) => {
    const i = numbers[k]!;
    const c = restCase(caseRng(seed, i), i, server.mediaSeeds);
    const reply = await client.call(c.method, c.path, c.headers, c.body);
    if (++result.cases % PROGRESS_EVERY === 0) options.progress?.(result);
    if (!checkAlive(server, result, `REST case ${i} (seed ${seed}): ${describeRest(c)}`)) {
      dead = true;
      return;
    }
    if (reply.status === -2) {
      result.hangs++;
      finding(result, `hang: case ${i} (seed ${seed}) ${describeRest(c)}`);
    } else if (reply.status >= 500 && reply.status !== 501) {
      result.serverErrors++;
      finding(result, `${reply.status} ${reply.body.slice(0, 200)}: case ${i} (seed ${seed}) ${describeRest(c)}`);
    } else if (reply.status >= 400 && /^\/v[12]\//i.test(c.path) && !isErrorJson(reply.body)) {
      result.serverErrors++;
      finding(result, `${reply.status} without an {"error"} body (${reply.body.slice(0, 100)}): case ${i} (seed ${seed}) ${describeRest(c)}`);
    }
    if (i % REPEAT_EVERY === REPEAT_EVERY - 1 && !restUnsettled(reply)) {
      const again = await client.call(c.method, c.path, c.headers, c.body);
      if (!restUnsettled(again) && (again.status !== reply.status || again.body !== reply.body)) {
        result.nondeterministic++;
        finding(result, `answer changed: ${reply.status} ${reply.body.slice(0, 150)} then ${again.status} ${again.body.slice(0, 150)}: case ${i} (seed ${seed}) ${describeRest(c)}`);
      }
    }
    if (i % GOOD_EVERY === GOOD_EVERY - 1) await nextGood();
  }, () => dead);
  if (server.alive) for (const check of checks) await good(result, check);
  client.close();
  goodClient.close();
  result.rssAfterMb = server.rssMb();
  return result;
}

function isErrorJson(body: string): boolean {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string';
  } catch {
    return false;
  }
}

const SERVER_FAULT_CODES = new Set([GrpcStatus.INTERNAL, GrpcStatus.UNKNOWN, GrpcStatus.DATA_LOSS]);
const grpcUnsettled = (r: GrpcReply): boolean => r.code === GrpcStatus.RESOURCE_EXHAUSTED || r.code === GrpcStatus.UNAVAILABLE || r.code === GrpcStatus.DEADLINE_EXCEEDED;
const sameGrpc = (a: GrpcReply, b: GrpcReply): boolean => a.code === b.code && a.details === b.details && (a.bytes ?? Buffer.alloc(0)).equals(b.bytes ?? Buffer.alloc(0));

export interface GrpcCampaignResult extends CampaignResult {
  /** Cases answered after HANG_MS (within GRPC_HANG_MS, else a hang), the slowest (ms) and its case. */
  slow: { calls: number; slowestMs: number; slowestCase?: number };
}

/**
 * Mutated gRPC messages (grpc-cases.ts); a case not answered within GRPC_HANG_MS is a hang, one
 * answered after HANG_MS is counted as slow with its time.
 */
export async function grpcCampaign(server: FuzzServer, seed: number, cases: number, options: CampaignOptions = {}): Promise<GrpcCampaignResult> {
  const result: GrpcCampaignResult = { ...newResult('gRPC', server), slow: { calls: 0, slowestMs: 0 } };
  const ask = async (c: { path: string; bytes: Buffer }, i: number): Promise<GrpcReply> => {
    const sent = Date.now();
    const reply = await grpcRaw(server.channel, c.path, c.bytes, undefined, GRPC_HANG_MS);
    const took = Date.now() - sent;
    if (took > HANG_MS && reply.code !== GrpcStatus.DEADLINE_EXCEEDED) result.slow.calls++;
    if (took > result.slow.slowestMs) result.slow = { ...result.slow, slowestMs: took, slowestCase: i };
    return reply;
  };
  const checks = grpcChecks(server);
  const nextGood = rotation(result, checks);
  let dead = false;
  const numbers = caseNumbers(cases, options);
  await pool(numbers.length, options.concurrency ?? 1, async (k) => {
    const i = numbers[k]!;
    const c = grpcCase(caseRng(seed ^ 0x9e3779b9, i), i, server.mediaSeeds);
    const reply = await ask(c, i);
    if (++result.cases % PROGRESS_EVERY === 0) options.progress?.(result);
    const describe = (): string => `gRPC case ${i} (seed ${seed}) ${c.path} bytes(b64)=${c.bytes.subarray(0, 300).toString('base64')}${c.bytes.length > 300 ? `... (${c.bytes.length} bytes)` : ''}`;
    if (!checkAlive(server, result, describe())) {
      dead = true;
      return;
    }
    if (reply.code === GrpcStatus.DEADLINE_EXCEEDED) {
      result.hangs++;
      finding(result, `hang (no answer within ${GRPC_HANG_MS / 1000} s): ${describe()}`);
    } else if (SERVER_FAULT_CODES.has(reply.code)) {
      result.serverErrors++;
      finding(result, `${GrpcStatus[reply.code]} ${reply.details.slice(0, 200)}: ${describe()}`);
    }
    if (i % REPEAT_EVERY === REPEAT_EVERY - 1 && !grpcUnsettled(reply)) {
      const again = await ask(c, i);
      if (!grpcUnsettled(again) && !sameGrpc(reply, again)) {
        result.nondeterministic++;
        finding(result, `answer changed: ${GrpcStatus[reply.code]} ${reply.details.slice(0, 100)} then ${GrpcStatus[again.code]} ${again.details.slice(0, 100)}: ${describe()}`);
      }
    }
    if (i % GOOD_EVERY === GOOD_EVERY - 1) await nextGood();
  }, () => dead);
  if (server.alive) for (const check of checks) await good(result, check);
  result.rssAfterMb = server.rssMb();
  return result;
}

type Corruption = (dir: string, rng: Rng) => void;

const CORRUPTIONS: ReadonlyArray<[string, Corruption]> = [
  ['empty dir', () => undefined],
  ['truncated saved_model.pb', (dir, rng) => {
    const pb = readFileSync(join(HALF_PLUS_TWO, 'saved_model.pb'));
    writeFileSync(join(dir, 'saved_model.pb'), pb.subarray(0, rng.int(pb.length)));
  }],
  ['random saved_model.pb', (dir, rng) => writeFileSync(join(dir, 'saved_model.pb'), rng.bytes(1 + rng.int(5000)))],
  ['flipped bytes in saved_model.pb', (dir, rng) => {
    cpSync(HALF_PLUS_TWO, dir, { recursive: true });
    const pb = readFileSync(join(dir, 'saved_model.pb'));
    for (let i = 0; i < 1 + rng.int(20); i++) pb[rng.int(pb.length)] = rng.int(256);
    writeFileSync(join(dir, 'saved_model.pb'), pb);
  }],
  ['no variables', (dir) => {
    cpSync(HALF_PLUS_TWO, dir, { recursive: true });
    rmSync(join(dir, 'variables'), { recursive: true, force: true });
  }],
  ['random variables index', (dir, rng) => {
    cpSync(HALF_PLUS_TWO, dir, { recursive: true });
    writeFileSync(join(dir, 'variables', 'variables.index'), rng.bytes(rng.int(400)));
  }],
  ['truncated variables data', (dir, rng) => {
    cpSync(HALF_PLUS_TWO, dir, { recursive: true });
    const data = join(dir, 'variables', 'variables.data-00000-of-00001');
    const bytes = readFileSync(data);
    writeFileSync(data, bytes.subarray(0, rng.int(bytes.length)));
  }],
  ['a file named like a version', (dir) => {
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
  }],
];

type Reaction = 'failed' | 'loaded' | 'skipped';

/** How the server reacted to a version directory, and when (the server's clock, ms). */
interface Settled {
  readonly kind: Reaction;
  readonly at: number;
}

/** How the server reacted to version directory `dir` of `model` (logged after event `from`), if it did yet. */
function reaction(server: FuzzServer, from: number, model: string, dir: string): Settled | undefined {
  const events = server.process.events;
  for (let i = from; i < events.length; i++) {
    const e = events[i]!;
    if (e['model'] !== model) continue;
    const at = Date.parse(String(e['time']));
    if (e.event === 'version_load_failed' && String(e['version']) === dir) return { kind: 'failed', at };
    if (e.event === 'version_available' && String(e['version']) === dir) return { kind: 'loaded', at };
    if (e.event === 'version_dir_skipped' && e['dir'] === dir) return { kind: 'skipped', at };
  }
  return undefined;
}

/** The version events of `model` logged after event `from`, as a finding's evidence. */
function versionEvents(server: FuzzServer, from: number, model: string): string {
  return server.process.events.slice(from).filter((e) => e['model'] === model && /^version_/.test(e.event))
    .map((e) => `${String(e['time']).slice(11, 23)} ${e.event} ${String(e['version'] ?? e['dir'] ?? '')}`).join(', ');
}

/** Resolves once `settled()` holds (checked every 50 ms) or after `limitMs`: whether it held. */
async function until(settled: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!settled()) {
    if (Date.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export interface CorruptVersionResult extends CampaignResult {
  seen: number;
  loaded: number;
  loadedKinds: Record<string, number>;
  /**
   * What a fixed dwell would misjudge: versions settled only after `dwellMs`, the slowest settle
   * and come-back (ms from the drop, from the removal), and 123's 404s excused because a corrupt
   * version had loaded before the reply.
   */
  timing: { settledAfterDwell: number; slowestSettleMs: number; slowestComeBackMs: number; missesAfterLoad: number };
}

/** The server has this long to react to a corrupt version, and to bring 123 back, before it is a hang. */
const REACTION_LIMIT_MS = 120_000;

/**
 * Corrupt versions (numbers above 123) dropped into the polled base paths (one into each of
 * half, poll1, ... at a time) while version 123 and the latest of each are asked continuously for
 * `dwellMs`; each is removed once the server logged its load failing (or succeeding, or the
 * directory skipped): a version the server has not settled within REACTION_LIMIT_MS is a hang.
 * `seen` counts the versions the server settled. A corrupt version that still loads (a flipped
 * byte TensorFlow does not mind) replaces 123 as TF Serving's latest policy says (`loaded` counts
 * those): an answer other than 123's is lost only if it came before that version was available
 * by the server's log (never by which of the log pipe and the HTTP reply the client read first).
 * Once such a version is removed, the server must load 123 again and unload it, then 123 answers.
 */
export async function corruptVersionCampaign(server: FuzzServer, seed: number, versions: number, dwellMs = 4000): Promise<CorruptVersionResult> {
  const rng = new Rng(seed ^ 0x51ed270b);
  const result: CorruptVersionResult = {
    ...newResult('corrupt versions', server), seen: 0, loaded: 0, loadedKinds: {},
    timing: { settledAfterDwell: 0, slowestSettleMs: 0, slowestComeBackMs: 0, missesAfterLoad: 0 },
  };
  const client = new RestClient(server.rest, server.polled.length * 2);
  let dropped = 0;
  while (dropped < versions && server.alive) {
    const mark = server.process.events.length;
    const round = server.polled.slice(0, versions - dropped).map((model) => {
      const [name, corrupt] = rng.pick(CORRUPTIONS);
      const dir = String(1000 + dropped++);
      const path = join(model.basePath, dir);
      mkdirSync(path);
      corrupt(path, rng);
      return { model, dir, path, name, settled: undefined as Settled | undefined };
    });
    result.cases += round.length;
    const droppedAt = Date.now();
    // 123's wrong answers, judged once the server settled the corrupt version.
    const missed: Array<{ v: (typeof round)[number]; problem: string; answeredAt: number }> = [];
    const settle = (): boolean => {
      for (const v of round) v.settled ??= reaction(server, mark, v.model.name, v.dir);
      return round.every((v) => v.settled !== undefined);
    };
    const asking = Date.now() + dwellMs;
    while (!settle() && Date.now() < asking && server.alive) {
      await Promise.all(round.map(async (v) => {
        const check = halfRestCheck(client, `/v1/models/${v.model.name}/versions/123:predict`);
        const problem = await check.run();
        if (problem !== undefined) missed.push({ v, problem, answeredAt: Date.now() });
        // The latest version answers too (123 or a corrupt one that loaded: never an error).
        const latest = await client.post(`/v1/models/${v.model.name}:predict`, GOOD_BODY);
        if (latest.status >= 500) {
          result.serverErrors++;
          finding(result, `latest ${v.model.name} answered ${latest.status} ${latest.body.slice(0, 200)} with corrupt version ${v.dir} (${v.name})`);
        }
      }));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!(await until(() => settle() || !server.alive, REACTION_LIMIT_MS)) && server.alive) {
      for (const v of round.filter((r) => r.settled === undefined)) {
        result.hangs++;
        finding(result, `the server did not settle corrupt version ${v.model.name}/${v.dir} (${v.name}) within ${REACTION_LIMIT_MS / 1000} s: ${versionEvents(server, mark, v.model.name)}`);
      }
    }
    for (const v of round) {
      if (v.settled === undefined) continue;
      if (v.settled.at - droppedAt > dwellMs) result.timing.settledAfterDwell++;
      result.timing.slowestSettleMs = Math.max(result.timing.slowestSettleMs, v.settled.at - droppedAt);
    }
    for (const { v, problem, answeredAt } of missed) {
      // Only a 404 (123 unloaded by the latest policy): any other failure of 123 is lost all the same.
      if (v.settled?.kind === 'loaded' && answeredAt >= v.settled.at && problem.startsWith('404 ')) {
        result.timing.missesAfterLoad++;
        continue;
      }
      result.lost++;
      finding(result, `lost good request REST /v1/models/${v.model.name}/versions/123:predict with corrupt version ${v.dir} (${v.name}, ${v.settled?.kind ?? 'unsettled'}): ${problem}; ${v.model.name}'s events: ${versionEvents(server, mark, v.model.name)}`);
    }
    result.seen += round.filter((v) => v.settled !== undefined).length;
    for (const { path } of round) rmSync(path, { recursive: true, force: true });
    const removedAt = Date.now();
    // 123 comes back where a corrupt version had replaced it: loaded again, then the corrupt one unloaded.
    for (const v of round.filter((r) => r.settled?.kind === 'loaded')) {
      result.loaded++;
      result.loadedKinds[v.name] = (result.loadedKinds[v.name] ?? 0) + 1;
      const unloaded = (): boolean => server.process.events.slice(mark).some((e) => e['model'] === v.model.name && e.event === 'version_unloaded' && String(e['version']) === v.dir);
      const back = await until(() => unloaded() || !server.alive, REACTION_LIMIT_MS);
      result.timing.slowestComeBackMs = Math.max(result.timing.slowestComeBackMs, Date.now() - removedAt);
      const problem = await halfRestCheck(client, `/v1/models/${v.model.name}/versions/123:predict`).run();
      if (!back || problem !== undefined) {
        result.lost++;
        finding(result, `${v.model.name} version 123 did not come back after corrupt version ${v.dir} (${v.name}, which loaded) was removed (${back ? 'it was unloaded' : `not unloaded within ${REACTION_LIMIT_MS / 1000} s`}): ${problem ?? '123 answers'}; events: ${versionEvents(server, mark, v.model.name)}`);
      }
    }
    if (!checkAlive(server, result, `corrupt versions ${round.map((v) => `${v.model.name}/${v.dir} (${v.name})`).join(', ')}`)) break;
  }
  client.close();
  result.rssAfterMb = server.rssMb();
  return result;
}

/** Reloads with faulty configs; half must keep answering after each, then the good config returns. */
export async function reloadFaultCampaign(server: FuzzServer, seed: number, reloads: number): Promise<CampaignResult> {
  const rng = new Rng(seed ^ 0x2545f491);
  const result = newResult('reload faults', server);
  const client = new RestClient(server.rest, 1);
  const half = halfRestCheck(client);
  const faults: Array<() => string> = [
    () => `config { name: 'ghost${rng.int(100)}' base_path: '/nonexistent/${rng.int(1e6)}' model_platform: 'tensorflow' }`,
    () => `config { name: 'bad' base_path: '${server.halfBase}' model_platform: '${rng.pick(['pytorch', '', 'tensorflow '])}' }`,
    () => `config { name: 'half' base_path: '${server.halfBase}' model_platform: 'tensorflow' }`,
    () => `config { name: 'lbl' base_path: '${server.halfBase}' model_platform: 'tensorflow' version_labels { key: 'stable' value: ${rng.int(1e6)} } }`,
    () => `config { name: 'rel' base_path: 'relative/path' model_platform: 'tensorflow' }`,
    () => `config { name: 'spec' base_path: '${server.halfBase}' model_platform: 'tensorflow' model_version_policy { specific { versions: ${rng.int(1e6)} } } }`,
    () => `config { name: '' base_path: '${server.halfBase}' model_platform: 'tensorflow' }`,
  ];
  for (let i = 0; i < reloads; i++) {
    const text = server.configText([rng.pick(faults)()]);
    let bytes: Buffer;
    try {
      bytes = Buffer.from(toBinary(ReloadConfigRequestSchema, create(ReloadConfigRequestSchema, { config: parseModelServerConfig(text) })));
    } catch {
      continue;
    }
    const reply = await grpcRaw(server.channel, modelServiceDefinition.handleReloadConfigRequest.path, bytes);
    result.cases++;
    if (SERVER_FAULT_CODES.has(reply.code) && !/not currently available|No versions|Could not find base path/i.test(reply.details)) {
      result.serverErrors++;
      finding(result, `reload answered ${GrpcStatus[reply.code]} ${reply.details.slice(0, 200)}: ${text.trim()}`);
    }
    if (!checkAlive(server, result, `reload ${text}`)) break;
    await good(result, half);
  }
  // Back to the starting config.
  const restore = Buffer.from(toBinary(ReloadConfigRequestSchema, create(ReloadConfigRequestSchema, { config: parseModelServerConfig(server.configText([])) })));
  await grpcRaw(server.channel, modelServiceDefinition.handleReloadConfigRequest.path, restore);
  await good(result, half);
  client.close();
  result.rssAfterMb = server.rssMb();
  return result;
}

/** Connection floods: half-sent headers, garbage, connect-and-close, in waves, while good requests run. */
export async function floodCampaign(server: FuzzServer, seed: number, waves: number, perWave = 200): Promise<CampaignResult> {
  const rng = new Rng(seed ^ 0x7f4a7c15);
  const result = newResult('connection floods', server);
  const client = new RestClient(server.rest, 1);
  const half = halfRestCheck(client);
  for (let w = 0; w < waves; w++) {
    const sockets = Array.from({ length: perWave }, () => {
      const socket = connect(rng.chance(0.7) ? server.rest : server.grpc, '127.0.0.1');
      socket.on('error', () => undefined);
      const mode = rng.int(4);
      socket.on('connect', () => {
        if (mode === 0) socket.write('POST /v1/models/half:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n');
        else if (mode === 1) socket.write(rng.bytes(1 + rng.int(100)));
        else if (mode === 2) socket.destroy();
        else socket.write('POST /v1/models/half:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"instances":');
      });
      return socket;
    });
    result.cases += perWave;
    for (let g = 0; g < 5; g++) await good(result, half);
    for (const socket of sockets) socket.destroy();
    if (!checkAlive(server, result, `flood wave ${w}`)) break;
  }
  await good(result, half);
  client.close();
  result.rssAfterMb = server.rssMb();
  return result;
}

export function renderTable(results: readonly CampaignResult[]): string {
  return [
    '| campaign | cases | crashes | hangs | 5xx/INTERNAL | lost requests | answers changed | RSS before/after (MB) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.campaign} | ${r.cases} | ${r.crashes} | ${r.hangs} | ${r.serverErrors} | ${r.lost} | ${r.nondeterministic} | ${r.rssBeforeMb} / ${r.rssAfterMb} |`),
  ].join('\n');
}
