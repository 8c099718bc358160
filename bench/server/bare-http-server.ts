/**
 * The REST ceiling: a bare node:http server (its own process) that reads the whole body, parses
 * it as JSON and answers a fixed small JSON, with keep-alive, like the calibration server in
 * docs/performance.md. Logs {"event":"rest_listening","port":N} on stderr.
 *
 *   node dist/bench/server/bare-http-server.js [port]
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ANSWER = Buffer.from('{"predictions":[[2.5]]}');

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad json"}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': ANSWER.length }).end(ANSWER);
  });
}

function main(): void {
  const port = Number(process.argv[2] ?? 0);
  const server = createServer(onRequest);
  server.listen(port, '127.0.0.1', () => {
    console.error(JSON.stringify({ event: 'rest_listening', port: (server.address() as AddressInfo).port }));
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main();
