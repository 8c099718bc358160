/**
 * The real tfmodel-server process the fuzz campaigns and the soak run against: half_plus_two as
 * `half` plus `poll1`..`pollN` (writable copies in a temporary base path, polled every second,
 * where corrupt versions are dropped), the TF2 half_plus_two (`tf2`), int64_times_six (`int64`)
 * and, when the ground-truth corpus is available, the string and image models of
 * media-models.ts (`img`, `text`, `png`, `u8img`).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { grpcChannel } from '../support/flood.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { HALF_PLUS_TWO, HALF_PLUS_TWO_TF2_BASE, INT64_TIMES_SIX } from '../support/test-models.js';
import { type MediaModel, linkMediaModels } from './media-models.js';
import type { MediaSeeds } from './media-rest-cases.js';

export interface FuzzServerOptions {
  /** Serve the string and image models (default true; skipped with a message without the corpus). */
  readonly media?: boolean;
  /** Polled copies of half_plus_two, `half` included (default 8): corrupt versions go into each. */
  readonly polled?: number;
}

export interface PolledModel {
  readonly name: string;
  readonly basePath: string;
}

export class FuzzServer {
  private constructor(
    readonly process: ServerProcess,
    readonly rest: number,
    readonly grpc: number,
    readonly workDir: string,
    readonly polled: readonly PolledModel[],
    readonly media: readonly MediaModel[],
    /** Set when media models are served: the inputs their mutations start from. */
    readonly mediaSeeds: MediaSeeds | undefined,
    readonly channel: Client,
  ) {}

  static async start(options: FuzzServerOptions = {}): Promise<FuzzServer> {
    const workDir = mkdtempSync(join(tmpdir(), 'tfmodel-fuzz-'));
    const polled = Array.from({ length: options.polled ?? 8 }, (_, i) => {
      const name = i === 0 ? 'half' : `poll${i}`;
      const basePath = join(workDir, name);
      mkdirSync(basePath);
      cpSync(HALF_PLUS_TWO, join(basePath, '123'), { recursive: true });
      return { name, basePath };
    });
    const mediaSet = options.media === false ? { models: [] } : linkMediaModels(join(workDir, 'media'));
    if (mediaSet.skipReason) process.stderr.write(`fuzz server: string and image models skipped: ${mediaSet.skipReason}\n`);
    const config = join(workDir, 'models.config');
    writeFileSync(config, modelConfigText(polled, mediaSet.models, []));
    const server = ServerProcess.start([`--model_config_file=${config}`, `--rest_api_port=${freePortSync()}`, '--file_system_poll_wait_seconds=1',
      '--rest_api_timeout_in_ms=20000', '--max_num_load_retries=0', '--load_retry_interval_micros=0']);
    const ports = await server.ports();
    await server.waitFor((e) => e.event === 'serving', 180_000);
    const png = mediaSet.models.find((m) => m.name === 'png')?.goodCases[0]?.inputs['image_bytes']?.values[0];
    const seeds = png === undefined ? undefined : { png: Buffer.from(String(png), 'base64') };
    return new FuzzServer(server, ports.rest!, ports.grpc, workDir, polled, mediaSet.models, seeds, grpcChannel(ports.grpc));
  }

  /** half's base path. */
  get halfBase(): string {
    return this.polled[0]!.basePath;
  }

  /** The model.config the server started with, plus `extra` config entries. */
  configText(extra: readonly string[]): string {
    return modelConfigText(this.polled, this.media, extra);
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

function modelConfigText(polled: readonly PolledModel[], media: readonly MediaModel[], extra: readonly string[]): string {
  const entry = (name: string, base: string): string => `config { name: '${name}' base_path: '${base}' model_platform: 'tensorflow' }`;
  const entries = [...polled.map((p) => entry(p.name, p.basePath)), entry('tf2', HALF_PLUS_TWO_TF2_BASE), entry('int64', join(INT64_TIMES_SIX, '..')),
    ...media.map((m) => entry(m.name, m.basePath)), ...extra];
  return `model_config_list { ${entries.join(' ')} }\n`;
}
