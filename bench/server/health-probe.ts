/**
 * The /healthz prober of `npm run bench:health`, forked as a process of its own (as a kubelet
 * probes from outside the pod), so that the flood the benchmark sends from its own process cannot
 * delay the probes' clock or their sockets. Probes one at a time, 5 ms apart, each on a new
 * connection, from 'ready' until told 'stop'; then sends back every latency and the failures.
 * argv: the REST port.
 */
import { httpCall } from '../../test/support/flood.js';

export interface ProbeReport {
  readonly latencies: number[];
  /** Probes over 1 s: when each started (ms after 'ready') and how long it took. */
  readonly slow: Array<{ readonly at: number; readonly ms: number }>;
  readonly failures: number;
  readonly firstFailures: string[];
}

const port = Number(process.argv[2]);
let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

async function main(): Promise<void> {
  const latencies: number[] = [];
  const firstFailures: string[] = [];
  const slow: Array<{ at: number; ms: number }> = [];
  let failures = 0;
  process.send!('ready');
  const ready = performance.now();
  while (!stopping) {
    const started = performance.now();
    const reply = await httpCall(port, 'GET', '/healthz').catch((error: unknown) => ({ status: 0, body: String(error) }));
    const ms = performance.now() - started;
    latencies.push(ms);
    if (ms > 1000) slow.push({ at: started - ready, ms });
    if (reply.status !== 200) {
      failures++;
      if (firstFailures.length < 5) firstFailures.push(`${reply.status} ${reply.body.slice(0, 200)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const report: ProbeReport = { latencies, slow, failures, firstFailures };
  process.send!(report, () => process.disconnect());
}

void main();
