// One memory-driver bench row alone, for `node --cpu-prof` or repeated timing (the full
// bench/memory.ts runs every row). Warms up first (JIT), then runs the row `rounds` times and
// prints each round's rate and process CPU per message.
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-memory.ts \
//   batch|spread|small|small-spread|handler|burst|burst-spread [messages] [rounds]

import { heapDuringBurst, throughput } from './memory.js';

const row = process.argv[2] ?? 'batch';
const n = Number(process.argv[3] ?? 1_000_000);
const rounds = Number(process.argv[4] ?? 1);

const spread = row.endsWith('spread') ? 1_000 : 1;
const batchSize = row.startsWith('small') ? 10 : undefined;
await throughput(50_000, 'batch', { destinations: spread });
for (let i = 0; i < rounds; i++) {
  if (row.startsWith('burst')) {
    const { before, peak } = await heapDuringBurst(n, spread);
    console.log(`${row}: +${((peak - before) / 1024 / 1024).toFixed(1)} MiB live heap during the burst`);
    continue;
  }
  const { rate, cpuUs } = await throughput(n, row === 'handler' ? 'handler' : 'batch', {
    destinations: spread,
    ...(batchSize === undefined ? {} : { batchSize }),
  });
  console.log(`${row}: ${Math.round(rate).toLocaleString('en')} msg/s, ${cpuUs.toFixed(2)} µs CPU/msg`);
}
