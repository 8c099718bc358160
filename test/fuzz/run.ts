/**
 * `npm run fuzz -- --seed N --cases N [--grpc-cases N] [--versions N] [--reloads N] [--floods N]
 * [--concurrency N] [--campaigns=rest,grpc,versions,reloads,floods] [--only=I,J,...]`: the seeded fuzz campaigns against one real
 * tfmodel-server process; prints the findings (with reproducers) and the table
 * campaign | cases | crashes | hangs | 5xx/INTERNAL | lost requests | RSS before/after. Exits 1 on
 * any finding. The same seed replays the same cases; --only runs just those REST and gRPC case
 * numbers (a finding's reproducer: `--seed 1 --only=19,72724 --campaigns=rest`).
 */
import { type CampaignResult, FuzzServer, corruptVersionCampaign, floodCampaign, grpcCampaign, reloadFaultCampaign, renderTable, restCampaign } from './campaigns.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  const text = inline ? inline.slice(name.length + 3) : at >= 0 ? process.argv[at + 1] : undefined;
  return text === undefined ? fallback : Number(text);
}

async function main(): Promise<void> {
  const seed = option('seed', 1);
  const cases = option('cases', 2000);
  const grpcCases = option('grpc-cases', Math.ceil(cases / 2));
  const versions = option('versions', 5);
  const reloads = option('reloads', 20);
  const floods = option('floods', 3);
  const concurrency = option('concurrency', 8);
  const campaignsArg = process.argv.find((a) => a.startsWith('--campaigns='))?.slice('--campaigns='.length) ?? 'rest,grpc,versions,reloads,floods';
  const campaigns = new Set(campaignsArg.split(','));
  const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const only = onlyArg === undefined ? undefined : onlyArg.split(',').map(Number);
  const server = await FuzzServer.start();
  const results: CampaignResult[] = [];
  const started = Date.now();
  try {
    const log = (r: CampaignResult): void => {
      results.push(r);
      const seen = 'seen' in r && 'loaded' in r
        ? `, ${String(r.seen)} tried by the server (${String(r.loaded)} loaded all the same: ${JSON.stringify((r as { loadedKinds?: unknown }).loadedKinds)}; ${JSON.stringify((r as { timing?: unknown }).timing)})`
        : 'slow' in r ? `, ${JSON.stringify(r.slow)} answered after 30 s` : '';
      process.stderr.write(`${r.campaign}: ${r.cases} cases${seen}, ${r.findings.length} findings, RSS ${r.rssBeforeMb} -> ${r.rssAfterMb} MB (${Math.round((Date.now() - started) / 1000)} s)\n`);
    };
    const progress = (r: CampaignResult): void => {
      process.stderr.write(`${r.campaign}: ${r.cases} cases so far: crashes ${r.crashes}, hangs ${r.hangs}, 5xx/INTERNAL ${r.serverErrors}, lost ${r.lost}, changed ${r.nondeterministic}, RSS ${server.rssMb()} MB (${Math.round((Date.now() - started) / 1000)} s)\n`);
      for (const f of r.findings.slice(-1)) process.stderr.write(`  last finding: ${f.slice(0, 300)}\n`);
    };
    if (campaigns.has('rest')) log(await restCampaign(server, seed, cases, { concurrency, only, progress }));
    if (campaigns.has('grpc') && server.alive) log(await grpcCampaign(server, seed, grpcCases, { concurrency, only, progress }));
    if (campaigns.has('versions') && server.alive) log(await corruptVersionCampaign(server, seed, versions));
    if (campaigns.has('reloads') && server.alive) log(await reloadFaultCampaign(server, seed, reloads));
    if (campaigns.has('floods') && server.alive) log(await floodCampaign(server, seed, floods));
  } finally {
    if (!server.alive) process.stderr.write(`server exited; its last log lines:\n${server.process.events.slice(-25).map((e) => JSON.stringify(e).slice(0, 2000)).join('\n')}\n`);
    await server.stop();
  }
  for (const r of results) for (const f of r.findings) process.stdout.write(`finding [${r.campaign}] ${f}\n`);
  process.stdout.write(`\nseed ${seed}, concurrency ${concurrency}, string and image models: ${server.media.map((m) => m.name).join(', ') || 'none'}, ${Math.round((Date.now() - started) / 1000)} s\n${renderTable(results)}\n`);
  if (results.some((r) => r.findings.length > 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
