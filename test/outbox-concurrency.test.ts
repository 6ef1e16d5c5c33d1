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
        return startRelay({ pool, broker, table, batchSize: 50, pollMs: 10 });
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
    // The three shared the work: each published some (a relay left idle would hide a lock bug).
    const published = relays.map((r) => r.stats.published);
    expect(published.reduce((a, b) => a + b, 0)).toBe(total(workload));
    for (const n of published) expect(n).toBeGreaterThan(0);
  });
});
