/**
 * A REST request refused by --max_inflight_request_bytes (429) while its client is still sending
 * the body: the client must read the 429, not see its connection reset (issue 7 item 7; the
 * load-shedding flood hit EPIPE once refusals came fast). The server reads and discards the rest
 * of the body, then answers.
 */
import assert from 'node:assert/strict';
import { type ClientRequest, request } from 'node:http';
import type { ServingCore } from '../../core/types.js';
import { notFound } from '../../errors.js';
import { InflightBytes } from '../inflight-bytes.js';
import { type RestServer, createRestServer } from './index.js';

const core: ServingCore = {
  acquire: (spec) => {
    throw notFound(`Servable not found for request: Latest(${spec.name})`);
  },
  modelStatus: (name) => ({ name, basePath: '/m', versions: [], labels: new Map() }),
  listModels: () => [],
  isReady: () => true,
};

/** A POST whose Content-Length is announced and whose body comes in two parts, `pauseMs` apart. */
function slowPost(port: number, bytes: number, pauseMs: number): { req: ClientRequest; reply: Promise<{ status: number; body: string }> } {
  const req = request({ host: '127.0.0.1', port, path: '/v1/models/m:predict', method: 'POST', agent: false, headers: { 'Content-Length': String(bytes) } });
  // Settles once the answer is read and the whole body was sent; a reset while sending rejects.
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    let answer: { status: number; body: string } | undefined;
    let sent = false;
    const settle = (): void => {
      if (answer && sent) resolve(answer);
    };
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
        settle();
      });
    });
    req.on('finish', () => {
      sent = true;
      setTimeout(settle, 100);
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!sent) reject(new Error('the connection closed before the whole body was sent'));
    });
  });
  req.write(Buffer.alloc(bytes / 2, 0x20));
  setTimeout(() => req.end(Buffer.alloc(bytes / 2, 0x20)), pauseMs);
  return { req, reply };
}

describe('REST: a request over the in-flight byte cap gets its 429 while still sending (issue 7 item 7)', function () {
  this.timeout(20_000);
  let server: RestServer;
  let port: number;

  before(async () => {
    server = createRestServer({ core, inflightBytes: new InflightBytes(1024 * 1024) });
    port = await server.listen(0, '127.0.0.1');
  });
  after(() => server.close());

  it('reads and discards the refused body, then answers 429 with the refusal; the holder is served', async () => {
    // The first request holds 768 KiB of the 1 MiB budget until its body is complete.
    const holder = slowPost(port, 768 * 1024, 1500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = slowPost(port, 512 * 1024, 500);
    const answer = await refused.reply;
    assert.equal(answer.status, 429, answer.body);
    assert.match(JSON.parse(answer.body).error, /^Too many request bytes in flight: 786432 held, 524288 more would exceed the limit of 1048576/);
    const held = await holder.reply;
    // Blanks are not JSON: the holder's body was read and parsed (it was admitted).
    assert.equal(held.status, 400, held.body);
    assert.match(JSON.parse(held.body).error, /^JSON Parse error/);
  });
});
