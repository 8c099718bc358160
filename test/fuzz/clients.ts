/**
 * The fuzz campaigns' clients: REST over keep-alive connections (a reused connection the server
 * closed meanwhile is retried once on a new one, as node's docs advise) and raw gRPC unary calls
 * (request and response bytes as they are). Neither rejects: a transport failure is a status.
 */
import { Agent, type ClientRequest, request } from 'node:http';
import { type Client, Metadata, type ServiceError } from '@grpc/grpc-js';

/** No answer within this is a hang (REST; gRPC cases: slow, see GRPC_HANG_MS). */
export const HANG_MS = 30_000;

/**
 * A gRPC case not answered within this is a hang; one answered after HANG_MS is slow (counted and
 * timed, not a finding): on a shared 2-core machine at load average ~25 a 7 MB Predict of 1e6
 * strings, 1.3-1.7 s of server CPU, is answered after 30 s (docs/hostile-input.md).
 */
export const GRPC_HANG_MS = 120_000;

export interface Reply {
  /** The HTTP status; -1: the connection failed or closed first, -2: no answer within HANG_MS. */
  readonly status: number;
  readonly body: string;
}

export class RestClient {
  private readonly agent: Agent;

  constructor(readonly port: number, sockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  async call(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Reply> {
    const first = await this.once(method, path, headers, body);
    return first.retry ? (await this.once(method, path, headers, body, false)).reply : first.reply;
  }

  post(path: string, body: string): Promise<Reply> {
    return this.call('POST', path, { 'Content-Type': 'application/json' }, Buffer.from(body));
  }

  close(): void {
    this.agent.destroy();
  }

  private once(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, reuse = true): Promise<{ reply: Reply; retry: boolean }> {
    return new Promise((resolve) => {
      let answered = false;
      const req: ClientRequest = request({ host: '127.0.0.1', port: this.port, path, method, headers, agent: reuse ? this.agent : false, timeout: HANG_MS }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ reply: { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }, retry: false }));
        res.on('error', () => resolve({ reply: { status: -1, body: 'response error' }, retry: false }));
      });
      req.on('timeout', () => {
        req.destroy();
        resolve({ reply: { status: -2, body: 'hang' }, retry: false });
      });
      // The server may answer (413, 429, 400) and close before the whole body is sent.
      req.on('error', (error) => resolve({ reply: { status: -1, body: String(error) }, retry: !answered && req.reusedSocket }));
      req.end(body);
    });
  }
}

export interface GrpcReply {
  readonly code: number;
  readonly details: string;
  readonly bytes?: Buffer;
}

export function grpcRaw(client: Client, path: string, bytes: Buffer, metadata = new Metadata(), limitMs = HANG_MS): Promise<GrpcReply> {
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, same, same, bytes, metadata, { deadline: Date.now() + limitMs }, (error: ServiceError | null, response?: Buffer) =>
      resolve(error ? { code: error.code, details: error.details } : { code: 0, details: '', bytes: response! }));
  });
}

/** Runs `work(i)` for i in [0, count) on `concurrency` workers, in index order; stops taking new ones once `stop()`. */
export async function pool(count: number, concurrency: number, work: (index: number) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < count && !stop()) await work(next++);
  }));
}
