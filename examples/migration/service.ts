// The order service's consumer as a process of its own (run one or several): it consumes a binding
// of switchyard.config.yaml (during the migration `orders.write-both`: both brokers, so every
// order arrives twice) and ships each order exactly once (orders.ts: the shipment row and the
// dedup mark commit together, then the message is acked). Killed at any point it ships nothing
// twice and loses nothing: an uncommitted shipment rolls back with its connection and the
// message comes back. SIGTERM/SIGINT: messages taken but not handled go back to their broker.
//
//   npx tsx --conditions=switchyard-source examples/migration/service.ts [binding] [dedupe-table] [shipments-table]
//
// Environment: as relay.ts.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromConfig } from '@switchyard/core';
import { PostgresDedupeStore } from '@switchyard/dedupe';
import { createShipmentsTable, newPool, shipOrders } from './orders.js';

const [binding = 'orders.write-both', dedupeTable = 'example_dedupe', shipments = 'example_shipments'] =
  process.argv.slice(2);
const CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'switchyard.config.yaml');

const pool = newPool(16);
const store = new PostgresDedupeStore({ pool, table: dedupeTable });
await store.ensureSchema();
await createShipmentsTable(pool, { shipments });
const bindings = await fromConfig({ path: CONFIG });
const consumer = await bindings.consumer(binding, { prefetch: 16 });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    await consumer.close();
    await bindings.close();
    await pool.end();
    console.log('service: stopped');
    process.exit(0);
  });
}
console.log(`service: consuming ${binding}`);
await consumer.run(shipOrders(store, { shipments }), { concurrency: 8 });
