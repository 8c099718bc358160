/**
 * The operator's two conversations with a serving pod: "what do you serve?" (REST GET /v1/models,
 * which lists versions with their states and the version labels) and "serve this config"
 * (ModelService/HandleReloadConfigRequest over gRPC, exactly what a TF Serving client sends).
 */
import { request as httpRequest, Agent } from 'node:http';
import { create } from '@bufbuild/protobuf';
import { type Client, Metadata, credentials } from '@grpc/grpc-js';
import { ReloadConfigRequestSchema } from '../../gen/tensorflow_serving/apis/model_management_pb.js';
import type { ModelServerConfig } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { grpcClient, unaryCall } from '../../server/transports/grpc/client.js';
import { modelServiceDefinition } from '../../server/transports/grpc/service-definitions.js';
import type { PodReport, ReportedVersion, VersionStateName } from '../promotion/pod-report.js';
import type { PodAddress } from './pod-address.js';

export interface ServingClient {
  report(address: PodAddress, pod: string, modelName: string): Promise<PodReport>;
  /**
   * Resolves once the server accepted the config; rejects with the server's reason otherwise.
   * `adminToken`: sent as `authorization: Bearer` (the pod runs with --admin_token_file).
   */
  pushConfig(address: PodAddress, config: ModelServerConfig, adminToken?: string): Promise<void>;
  /** The server's Prometheus text (its metrics endpoint on the REST port). */
  metrics(address: PodAddress, path: string): Promise<string>;
  /** Replaces the server's routing config (PUT /tfmodel/routing); rejects with the server's reason. */
  pushRouting(address: PodAddress, routing: unknown, adminToken?: string): Promise<void>;
  close(): void;
}

export interface ServingClientOptions {
  readonly timeoutMs?: number;
}

interface ModelsBody {
  models?: Array<{
    name?: string;
    model_version_status?: Array<{ version?: string; state?: string; status?: { error_code?: string; error_message?: string } }>;
    version_labels?: Record<string, string>;
    routing?: unknown;
  }>;
}

const STATES: ReadonlySet<string> = new Set(['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END', 'UNKNOWN']);
/** gRPC channels unused this long are closed (pods come and go). */
const CHANNEL_IDLE_MS = 5 * 60_000;

export class TfmodelServerClient implements ServingClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly channels = new Map<string, { client: Client; lastUsed: number }>();
  private readonly timeoutMs: number;

  constructor(options: ServingClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  async report(address: PodAddress, pod: string, modelName: string): Promise<PodReport> {
    let body: ModelsBody;
    try {
      body = JSON.parse(await this.get(address, '/v1/models')) as ModelsBody;
    } catch (error) {
      return { pod, kind: 'unreachable', error: (error as Error).message };
    }
    const model = body.models?.find((m) => m.name === modelName);
    if (!model) return { pod, kind: 'model-missing' };
    const versions: ReportedVersion[] = [];
    for (const entry of model.model_version_status ?? []) {
      const version = Number(entry.version);
      if (!Number.isSafeInteger(version)) continue;
      const state = (STATES.has(entry.state ?? '') ? entry.state : 'UNKNOWN') as VersionStateName;
      const failed = entry.status?.error_code !== undefined && entry.status.error_code !== 'OK';
      // tfmodel-server: a START version whose load waits says why with error_code OK.
      const waiting = !failed && state === 'START' && entry.status?.error_message ? entry.status.error_message : undefined;
      versions.push({ version, state, ...(failed ? { error: entry.status?.error_message || entry.status?.error_code } : {}), ...(waiting ? { waiting } : {}) });
    }
    const labels = new Map<string, number>();
    for (const [label, version] of Object.entries(model.version_labels ?? {})) labels.set(label, Number(version));
    return { pod, kind: 'serving', versions, labels, ...(model.routing !== undefined ? { routing: model.routing } : {}) };
  }

  metrics(address: PodAddress, path: string): Promise<string> {
    return this.get(address, path);
  }

  async pushRouting(address: PodAddress, routing: unknown, adminToken?: string): Promise<void> {
    await this.send(address, 'PUT', '/tfmodel/routing', JSON.stringify(routing), adminToken);
  }

  async pushConfig(address: PodAddress, config: ModelServerConfig, adminToken?: string): Promise<void> {
    const client = this.channel(`${address.host}:${address.grpcPort}`);
    const metadata = new Metadata();
    if (adminToken !== undefined) metadata.set('authorization', `Bearer ${adminToken}`);
    const response = await unaryCall(client, modelServiceDefinition.handleReloadConfigRequest, create(ReloadConfigRequestSchema, { config }), {
      deadline: Date.now() + this.timeoutMs,
    }, metadata);
    const code = response.status?.errorCode ?? 0;
    if (code !== 0) throw new Error(`server refused the config (code ${code}): ${response.status?.errorMessage ?? ''}`);
  }

  close(): void {
    for (const { client } of this.channels.values()) client.close();
    this.channels.clear();
    this.agent.destroy();
  }

  private channel(target: string): Client {
    const now = Date.now();
    for (const [key, entry] of this.channels) {
      if (now - entry.lastUsed > CHANNEL_IDLE_MS) {
        entry.client.close();
        this.channels.delete(key);
      }
    }
    let entry = this.channels.get(target);
    if (!entry) {
      entry = { client: grpcClient(target, credentials.createInsecure()), lastUsed: now };
      this.channels.set(target, entry);
    }
    entry.lastUsed = now;
    return entry.client;
  }

  private get(address: PodAddress, path: string): Promise<string> {
    return this.send(address, 'GET', path);
  }

  private send(address: PodAddress, method: string, path: string, body?: string, adminToken?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      if (adminToken !== undefined) headers['authorization'] = `Bearer ${adminToken}`;
      const req = httpRequest({ host: address.host, port: address.restPort, method, path, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`))));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
