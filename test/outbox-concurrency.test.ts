// Three relays on one outbox table at once, publishing to the real RabbitMQ while a service keeps
// writing: every message arrives exactly once (no relay crashed, so no copy is allowed) and each
// key's messages arrive in the order they were written.

import { type Broker, connect } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, pendingCount, startRelay } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPool, uniqueTable } from './fixtures/outbox-db.js';
import { Collector, total, writeWorkload } from './fixtures/outbox-workload.js';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

const pool = newPool(12);
const table = uniqueTable('outbox_conc');
let vhost: TestVhost;
const brokers: Broker[] = [];

beforeAll(async () => {
  vhost = await createTestVhost('outbox-conc');
  await ensureOutboxSchema(pool, { table });
});
afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close()));
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
  await vhost?.cleanup();
});

describe('outbox: several relays at once', () => {
  it('3 relays on a backlog, a writer running alongside: nothing lost, nothing twice, per-key order kept', async () => {
    // Half written before the relays start, so they contend for a backlog where every key has
    // many pending rows; the other half while they run.
    const backlog = { keys: 30, perKey: 50, perTransaction: 50 };
    const workload = { keys: 30, perKey: 100, perTransaction: 10 };
    const outbox = new Outbox({ table });
    const consumerBroker = await connect(vhost.url);
    brokers.push(consumerBroker);
    const consumer = await consumerBroker.consumer('orders', { group: 'audit' });
    const collector = new Collector(total(workload));
    const consuming = collector.consume(consumer);

    await writeWorkload(pool, outbox, 'orders', backlog);
    const relays = await Promise.all(
      [1, 2, 3].map(async () => {
        const broker = await connect(vhost.url);
        brokers.push(broker);
        // A claim takes each key's oldest pending row, so a batch of 50 over 30 keys locked every
        // key and left the other relays nothing (one published 0 in a CI dry run): batches of 5
        // leave keys for the others, so they really contend.
        return startRelay({ pool, broker, table, batchSize: 5, pollMs: 10 });
      }),
    );
    await writeWorkload(pool, outbox, 'orders', { ...workload, firstSeq: backlog.perKey + 1 });
    await collector.reached();
    await Promise.all(relays.map((r) => r.stop()));
    collector.stop();
    await consuming;

    expect(collector.outOfOrder.slice(0, 5)).toEqual([]);
    expect(collector.distinct).toBe(total(workload));
    expect(collector.duplicates).toBe(0);
    expect(await pendingCount(pool, { table })).toBe(0);
    // They shared the work (a single busy relay would hide a lock bug). At least two, not all
    // three: how claims fall between relays is the scheduler's, and a loaded machine may starve one.
    const published = relays.map((r) => r.stats.published);
    expect(published.reduce((a, b) => a + b, 0)).toBe(total(workload));
    expect(published.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });
});
