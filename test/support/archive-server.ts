/**
 * A plain node:http file server on 127.0.0.1 for archive base paths: each path serves a body with
 * an ETag (If-None-Match answered 304), optionally without validators, or cut off after some
 * bytes (the socket destroyed mid-body, Content-Length announcing the whole). Counts full replies.
 */
import { createHash } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  readonly body: Buffer;
  /** Send no ETag nor Last-Modified. */
  readonly noValidators?: boolean;
  /** Destroy the connection after this many body bytes. */
  readonly cutAfter?: number;
}

export class ArchiveTestServer {
  private readonly files = new Map<string, ServedFile>();
  private server: Server | undefined;
  private port = 0;
  /** path -> replies with a body (200). */
  readonly fullReplies = new Map<string, number>();

  set(path: string, file: ServedFile): void {
    this.files.set(path, file);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Listens (again, on the same port after `stop`). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = this.files.get(path);
      if (!file) return void res.writeHead(404).end('not found');
      const etag = `"${createHash('sha256').update(file.body).digest('hex').slice(0, 16)}"`;
      if (!file.noValidators && req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
      this.fullReplies.set(path, (this.fullReplies.get(path) ?? 0) + 1);
      res.writeHead(200, { 'content-length': file.body.length, 'content-type': 'application/octet-stream', ...(file.noValidators ? {} : { etag }) });
      if (file.cutAfter === undefined) return void res.end(file.body);
      res.write(file.body.subarray(0, file.cutAfter), () => setTimeout(() => res.destroy(), 50));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
