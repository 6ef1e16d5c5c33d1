// One memory-driver bench row alone, for `node --cpu-prof` or repeated timing (the full
// bench/memory.ts runs every row). Warms up first (JIT), then runs the row `rounds` times and
// prints each round's rate and process CPU per message.
// node [--cpu-prof] --import tsx [--conditions=switchyard-source] bench/profile-memory.ts \
//   batch|spread|small|small-spread|handler|handler-spread|burst|burst-spread|pair|small-pair|
//   fresh-pair|fresh-small-pair|fresh-run-pair|old-sites|old-sites-spread|old-sites-small|
//   old-sites-small-spread
//   [messages] [rounds]
// `pair` and `small-pair` alternate one destination and 1,000 destinations round by round in one
// process and print the ratio of their CPU per message (the bench row's "× one destination's").
// `fresh-pair` and `fresh-small-pair` run each side in its own fresh process, `rounds` pairs, as
// bench/memory.ts measures those rows (in one process the rows before decide V8's state);
// `fresh-run-pair` the same with run() consumers (a handler per message) instead of receive().
// `old-sites` (and `old-sites-spread`, 1,000 destinations; `-small`, batches of 10) lists, per allocating function, the bytes
// per message that reached the old generation (promoted by scavenges, or allocated there by
// pretenuring): V8's sampling heap profiler with the objects scavenges freed left out, over one
// batched run after the warm-up. Load-independent; what a mark-compact then has to free.

import { Session } from 'node:inspector/promises';
import { heapDuringBurst, sides, throughput } from './memory.js';

const row = process.argv[2] ?? 'batch';
const n = Number(process.argv[3] ?? 1_000_000);
const rounds = Number(process.argv[4] ?? 1);

const spread = row.endsWith('spread') ? 1_000 : 1;
const batchSize = row.startsWith('small') || row.includes('-small') ? 10 : undefined;
const sized = batchSize === undefined ? {} : { batchSize };
if (row.startsWith('fresh-')) {
  const size = row === 'fresh-small-pair' ? 10 : 1_000;
  const mode = row === 'fresh-run-pair' ? 'handler' : 'batch';
  const { one, many, ratios } = await sides(n, size, 1_000, rounds, mode);
  console.log(
    `${row}: medians 1 destination ${one.cpuUs.toFixed(2)} µs CPU/msg, 1,000 destinations ${many.cpuUs.toFixed(2)} µs: ${(many.cpuUs / one.cpuUs).toFixed(2)}× (per pair ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
  );
  process.exit(0);
}
if (row.startsWith('old-sites')) {
  await throughput(50_000, 'batch', { destinations: spread, ...sized });
  await throughput(50_000, 'batch', { destinations: spread, ...sized });
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
  await throughput(n, 'batch', { destinations: spread, ...sized });
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bySite = new Map<string, number>();
  const walk = (node: typeof profile.head): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  console.log(`${row}: ${(total / n).toFixed(0)} B per message reached the old generation (sampled)`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${(bytes / n).toFixed(1).padStart(8)} B/msg  ${site}`);
  process.exit(0);
}
if (row.endsWith('pair')) {
  await throughput(50_000, 'batch', sized);
  await throughput(50_000, 'batch', { destinations: 1_000, ...sized });
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const one = await throughput(n, 'batch', sized);
    const many = await throughput(n, 'batch', { destinations: 1_000, ...sized });
    ratios.push(many.cpuUs / one.cpuUs);
    console.log(
      `${row} ${i}: 1 destination ${one.cpuUs.toFixed(2)} µs CPU/msg (${Math.round(one.rate).toLocaleString('en')} msg/s), 1,000 destinations ${many.cpuUs.toFixed(2)} µs (${Math.round(many.rate).toLocaleString('en')} msg/s): ${(many.cpuUs / one.cpuUs).toFixed(2)}×`,
    );
  }
  ratios.sort((a, b) => a - b);
  console.log(
    `${row}: median ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(' ')})`,
  );
  process.exit(0);
}
const mode = row.startsWith('handler') ? 'handler' : 'batch';
await throughput(50_000, mode, { destinations: spread });
for (let i = 0; i < rounds; i++) {
  if (row.startsWith('burst')) {
    const { before, peak } = await heapDuringBurst(n, spread);
    console.log(`${row}: +${((peak - before) / 1024 / 1024).toFixed(1)} MiB live heap during the burst`);
    continue;
  }
  const { rate, cpuUs } = await throughput(n, mode, {
    destinations: spread,
    ...sized,
  });
  console.log(`${row}: ${Math.round(rate).toLocaleString('en')} msg/s, ${cpuUs.toFixed(2)} µs CPU/msg`);
}
