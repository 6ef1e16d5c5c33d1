// The order service's outbox relay as a process of its own (run one or several): it publishes
// committed outbox rows through the bindings of switchyard.config.yaml, so a row destined for
// `orders.write-both` goes to CMQ and RocketMQ and is marked sent once both confirmed. Killed at
// any point, it loses nothing: the rows it held are claimed again and republished under the same
// message id, which the service's dedup absorbs. SIGTERM/SIGINT: the batch in hand finishes.
//
//   npx tsx --conditions=switchyard-source examples/migration/relay.ts [outbox-table]
//
// Environment: what the config file references (CMQ_ENDPOINT, ROCKETMQ_ENDPOINTS, ... as main.ts
// sets them) and SWITCHYARD_EXAMPLE_PG. `switchyard relay --db … --url config:` does the same.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromConfig } from '@switchyard/core';
import { startRelay } from '@switchyard/outbox';
import { newPool } from './orders.js';

const [table = 'example_outbox'] = process.argv.slice(2);
const CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'switchyard.config.yaml');

const pool = newPool(2);
const bindings = await fromConfig({ path: CONFIG });
await pool.query('SELECT 1'); // fail now, not in the loop, when PostgreSQL is not there
const relay = startRelay({
  pool,
  broker: bindings,
  table,
  batchSize: 50,
  pollMs: 20,
  onError: (error) => console.error(`relay: ${error.message}`),
});
console.log(`relay: relaying ${table}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    await relay.stop();
    await bindings.close();
    await pool.end();
    console.log(`relay: stopped, published ${relay.stats.published}`);
    process.exit(0);
  });
}
