/**
 * The operator's HTTP endpoints on node:http: /metrics (Prometheus text), /healthz (liveness) and
 * /readyz (readiness). Each probe runs named checks; a check returns undefined when fine or a
 * reason, and any reason turns the answer into 503 with {"status":"unhealthy","failed":{name: reason}}.
 * See readiness.ts for the checks main wires in and why a standby replica counts as ready.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../server/logging.js';
import { errorMessage } from './errors.js';
import type { MetricsPage } from './operator-metrics.js';

/** undefined when healthy, else why not. */
export type HealthCheck = () => string | undefined;

export interface HealthServerOptions {
  /** e.g. "0.0.0.0" in a pod, "127.0.0.1" in tests. */
  readonly host: string;
  /** 0 picks a free port (see HealthServer.port). */
  readonly port: number;
  readonly metrics: { render(): Promise<MetricsPage> };
  readonly liveness?: Readonly<Record<string, HealthCheck>>;
  readonly readiness?: Readonly<Record<string, HealthCheck>>;
  readonly logger?: Logger;
}

export interface HealthServer {
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes idle keep-alive connections; resolves when closed. */
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      options.logger?.error('health_server_error', { path: request.url, error: errorMessage(error) });
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  await listen(server, options.host, options.port);
  const address = server.address() as AddressInfo;
  return {
    host: options.host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
  if (!known) return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  if (path === '/metrics') {
    const page = await options.metrics.render();
    return send(response, 200, page.contentType, page.body);
  }
  const checks = (path === '/healthz' ? options.liveness : options.readiness) ?? {};
  const failed: Record<string, string> = {};
  for (const [name, check] of Object.entries(checks)) {
    let reason: string | undefined;
    try {
      reason = check();
    } catch (error) {
      reason = `check failed: ${errorMessage(error)}`;
    }
    if (reason !== undefined) failed[name] = reason;
  }
  const healthy = Object.keys(failed).length === 0;
  const body = healthy ? { status: 'ok' } : { status: 'unhealthy', failed };
  send(response, healthy ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
