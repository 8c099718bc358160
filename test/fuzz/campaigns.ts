/**
 * The fuzz campaigns against a real tfmodel-server process (issue 7): REST, gRPC, corrupt versions
 * dropped into a polled base path, faulty reloads and connection floods, each interleaved with a
 * known-good request whose answer must not change. A finding is a crash, a hang (no answer within
 * 30 s), a 5xx / INTERNAL / UNKNOWN / DATA_LOSS answer, a REST error without TF Serving's
 * {"error": ...} body, or a good request lost or answered differently.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { type Client, Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { ReloadConfigRequestSchema } from '../../src/gen/tensorflow_serving/apis/model_management_pb.js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { parseModelServerConfig } from '../../src/server/config/model-config.js';
import { modelServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { bigPredictRequest, grpcChannel } from '../support/flood.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { HALF_PLUS_TWO, HALF_PLUS_TWO_TF2_BASE, INT64_TIMES_SIX } from '../support/test-models.js';
import { grpcCase } from './grpc-cases.js';
import { restCase } from './rest-cases.js';
import { Rng } from './rng.js';

export interface CampaignResult {
  readonly campaign: string;
  cases: number;
  crashes: number;
  hangs: number;
  serverErrors: number;
  lost: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** Reproducers of the first findings. */
  readonly findings: string[];
}

const HANG_MS = 30_000;
const GOOD_EVERY = 20;
const GOOD_BODY = '{"instances": [1.0, 2.0, 5.0]}';
const GOOD_ANSWER = '{"predictions":[2.5,3.0,4.5]}';

export class FuzzServer {
  private constructor(
    readonly process: ServerProcess,
    readonly rest: number,
    readonly grpc: number,
    readonly halfBase: string,
    readonly workDir: string,
    readonly channel: Client,
  ) {}

  /** half (a writable copy of test/models half_plus_two, polled every second), tf2, int64. */
  static async start(): Promise<FuzzServer> {
    const workDir = mkdtempSync(join(tmpdir(), 'tfmodel-fuzz-'));
    const halfBase = join(workDir, 'half');
    mkdirSync(halfBase);
    cpSync(HALF_PLUS_TWO, join(halfBase, '123'), { recursive: true });
    const config = join(workDir, 'models.config');
    writeFileSync(config, configText(halfBase, []));
    const server = ServerProcess.start([`--model_config_file=${config}`, `--rest_api_port=${freePortSync()}`, '--file_system_poll_wait_seconds=1',
      '--rest_api_timeout_in_ms=20000', '--max_num_load_retries=0', '--load_retry_interval_micros=0']);
    const ports = await server.ports();
    return new FuzzServer(server, ports.rest!, ports.grpc, halfBase, workDir, grpcChannel(ports.grpc));
  }

  get alive(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  rssMb(): number {
    try {
      const status = readFileSync(`/proc/${this.process.child.pid}/status`, 'utf8');
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.channel.close();
    await this.process.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** The model.config the fuzz server starts with, plus `extra` config entries. */
export function configText(halfBase: string, extra: string[]): string {
  const entry = (name: string, base: string): string => `config { name: '${name}' base_path: '${base}' model_platform: 'tensorflow' }`;
  return `model_config_list { ${[entry('half', halfBase), entry('tf2', HALF_PLUS_TWO_TF2_BASE), entry('int64', join(INT64_TIMES_SIX, '..')), ...extra].join(' ')} }\n`;
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

function restCall(port: number, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: HANG_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: -1, body: 'response error' }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: -2, body: 'hang' });
    });
    // The server may answer (413, 429, 400) and close before the whole body is sent.
    req.on('error', (error) => resolve({ status: -1, body: String(error) }));
    req.end(body);
  });
}

export function grpcRaw(client: Client, path: string, bytes: Buffer, metadata = new Metadata()): Promise<{ code: number; details: string; bytes?: Buffer }> {
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, same, same, bytes, metadata, { deadline: Date.now() + HANG_MS }, (error: ServiceError | null, response?: Buffer) =>
      resolve(error ? { code: error.code, details: error.details } : { code: 0, details: '', bytes: response! }));
  });
}

function newResult(campaign: string, server: FuzzServer): CampaignResult {
  return { campaign, cases: 0, crashes: 0, hangs: 0, serverErrors: 0, lost: 0, rssBeforeMb: server.rssMb(), rssAfterMb: 0, findings: [] };
}

function finding(result: CampaignResult, line: string): void {
  if (result.findings.length < 20) result.findings.push(line);
}

/** A good request to version 123 of half: must answer exactly GOOD_ANSWER. */
async function goodRequest(server: FuzzServer, result: CampaignResult, path = '/v1/models/half/versions/123:predict'): Promise<void> {
  const reply = await restCall(server.rest, 'POST', path, { 'Content-Type': 'application/json' }, Buffer.from(GOOD_BODY));
  if (reply.status !== 200 || reply.body !== GOOD_ANSWER) {
    result.lost++;
    finding(result, `lost good request ${path}: ${reply.status} ${reply.body.slice(0, 200)}`);
  }
}

function checkAlive(server: FuzzServer, result: CampaignResult, context: string): boolean {
  if (server.alive) return true;
  result.crashes++;
  finding(result, `server exited (${server.process.child.exitCode ?? server.process.child.signalCode}) after ${context}`);
  return false;
}

const describeRest = (c: { method: string; path: string; headers: Record<string, string>; body: Buffer | undefined }): string =>
  `${c.method} ${c.path} ${JSON.stringify(c.headers)} body(b64,first 300 bytes)=${c.body?.subarray(0, 300).toString('base64') ?? ''}${(c.body?.length ?? 0) > 300 ? `... (${c.body!.length} bytes)` : ''}`;

export async function restCampaign(server: FuzzServer, seed: number, cases: number): Promise<CampaignResult> {
  const rng = new Rng(seed);
  const result = newResult('REST', server);
  for (let i = 0; i < cases; i++) {
    const c = restCase(rng, i);
    const reply = await restCall(server.rest, c.method, c.path, c.headers, c.body);
    result.cases++;
    if (!checkAlive(server, result, `REST case ${i}: ${describeRest(c)}`)) break;
    if (reply.status === -2) {
      result.hangs++;
      finding(result, `hang: case ${i} ${describeRest(c)}`);
    } else if (reply.status >= 500 && reply.status !== 501) {
      result.serverErrors++;
      finding(result, `${reply.status} ${reply.body.slice(0, 200)}: case ${i} (seed ${seed}) ${describeRest(c)}`);
    } else if (reply.status >= 400 && /^\/v[12]\//i.test(c.path) && !isErrorJson(reply.body)) {
      result.serverErrors++;
      finding(result, `${reply.status} without an {"error"} body (${reply.body.slice(0, 100)}): case ${i} ${describeRest(c)}`);
    }
    if (i % GOOD_EVERY === GOOD_EVERY - 1) await goodRequest(server, result);
  }
  await goodRequest(server, result);
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

export async function grpcCampaign(server: FuzzServer, seed: number, cases: number): Promise<CampaignResult> {
  const rng = new Rng(seed ^ 0x9e3779b9);
  const result = newResult('gRPC', server);
  const goodPredict = Buffer.from(toBinary(PredictRequestSchema, bigPredictRequest('half', 12)));
  let goodAnswer: string | undefined;
  for (let i = 0; i < cases; i++) {
    const c = grpcCase(rng, i);
    const reply = await grpcRaw(server.channel, c.path, c.bytes);
    result.cases++;
    if (!checkAlive(server, result, `gRPC case ${i} ${c.path} ${c.bytes.toString('base64').slice(0, 400)}`)) break;
    if (reply.code === GrpcStatus.DEADLINE_EXCEEDED) {
      result.hangs++;
      finding(result, `hang: gRPC case ${i} ${c.path} bytes(b64)=${c.bytes.toString('base64').slice(0, 400)}`);
    } else if (SERVER_FAULT_CODES.has(reply.code)) {
      result.serverErrors++;
      finding(result, `${GrpcStatus[reply.code]} ${reply.details.slice(0, 200)}: gRPC case ${i} (seed ${seed}) ${c.path} bytes(b64)=${c.bytes.toString('base64').slice(0, 400)}`);
    }
    if (i % GOOD_EVERY === GOOD_EVERY - 1) {
      const answer = await grpcRaw(server.channel, '/tensorflow.serving.PredictionService/Predict', goodPredict);
      const text = answer.bytes?.toString('base64');
      if (answer.code !== 0 || (goodAnswer !== undefined && text !== goodAnswer)) {
        result.lost++;
        finding(result, `lost good gRPC predict: ${GrpcStatus[answer.code]} ${answer.details}`);
      }
      goodAnswer ??= text;
    }
  }
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

/**
 * Corrupt versions (numbers above 123) dropped into half's polled base path one after another
 * while version 123 is asked continuously; each is removed once the server had a poll to see it.
 */
export async function corruptVersionCampaign(server: FuzzServer, seed: number, versions: number, dwellMs = 1300): Promise<CampaignResult> {
  const rng = new Rng(seed ^ 0x51ed270b);
  const result = newResult('corrupt versions', server);
  for (let i = 0; i < versions; i++) {
    const [name, corrupt] = rng.pick(CORRUPTIONS);
    const dir = join(server.halfBase, String(1000 + i));
    mkdirSync(dir);
    corrupt(dir, rng);
    result.cases++;
    const until = Date.now() + dwellMs;
    while (Date.now() < until) {
      await goodRequest(server, result);
      // The latest version answers too (123 or a corrupt one that loaded: never an error).
      const latest = await restCall(server.rest, 'POST', '/v1/models/half:predict', { 'Content-Type': 'application/json' }, Buffer.from(GOOD_BODY));
      if (latest.status >= 500) {
        result.serverErrors++;
        finding(result, `latest half answered ${latest.status} ${latest.body.slice(0, 200)} with corrupt version ${1000 + i} (${name})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    rmSync(dir, { recursive: true, force: true });
    if (!checkAlive(server, result, `corrupt version ${name}`)) break;
  }
  result.rssAfterMb = server.rssMb();
  return result;
}

/** Reloads with faulty configs; half must keep answering after each, then the good config returns. */
export async function reloadFaultCampaign(server: FuzzServer, seed: number, reloads: number): Promise<CampaignResult> {
  const rng = new Rng(seed ^ 0x2545f491);
  const result = newResult('reload faults', server);
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
    const text = configText(server.halfBase, [rng.pick(faults)()]);
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
    await goodRequest(server, result);
  }
  // Back to the starting config.
  const restore = Buffer.from(toBinary(ReloadConfigRequestSchema, create(ReloadConfigRequestSchema, { config: parseModelServerConfig(configText(server.halfBase, [])) })));
  await grpcRaw(server.channel, modelServiceDefinition.handleReloadConfigRequest.path, restore);
  await goodRequest(server, result);
  result.rssAfterMb = server.rssMb();
  return result;
}

/** Connection floods: half-sent headers, garbage, connect-and-close, in waves, while good requests run. */
export async function floodCampaign(server: FuzzServer, seed: number, waves: number, perWave = 200): Promise<CampaignResult> {
  const rng = new Rng(seed ^ 0x7f4a7c15);
  const result = newResult('connection floods', server);
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
    for (let g = 0; g < 5; g++) await goodRequest(server, result);
    for (const socket of sockets) socket.destroy();
    if (!checkAlive(server, result, `flood wave ${w}`)) break;
  }
  await goodRequest(server, result);
  result.rssAfterMb = server.rssMb();
  return result;
}

export function renderTable(results: readonly CampaignResult[]): string {
  return [
    '| campaign | cases | crashes | hangs | 5xx/INTERNAL | lost requests | RSS before/after (MB) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.campaign} | ${r.cases} | ${r.crashes} | ${r.hangs} | ${r.serverErrors} | ${r.lost} | ${r.rssBeforeMb} / ${r.rssAfterMb} |`),
  ].join('\n');
}
