// The outbox on the real PostgreSQL, relayed to the in-process memory broker: what a committed
// transaction adds is published once with everything it carried, a rolled-back one never, and
// the failures a service meets are typed errors that say what to do.

import { connect, fromConfig, type Message } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, pendingCount, startRelay } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, newPool, uniqueTable } from './fixtures/outbox-db.js';

const pool = newPool();
const table = uniqueTable();
const outbox = new Outbox({ table });

beforeAll(async () => {
  await ensureOutboxSchema(pool, { table });
  await ensureOutboxSchema(pool, { table }); // idempotent
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

async function take(
  consumer: { receive(o: { max: number; waitMs: number }): Promise<Message[]> },
  n: number,
) {
  const out: Message[] = [];
  while (out.length < n) {
    const batch = await consumer.receive({ max: n - out.length, waitMs: 5_000 });
    if (batch.length === 0) throw new Error(`received ${out.length} of ${n} messages`);
    for (const m of batch) {
      out.push(m);
      await m.ack();
    }
  }
  return out;
}

describe('outbox relay', () => {
  it('publishes what committed transactions added, with its fields, and nothing a rollback added', async () => {
    const broker = await connect(`memory://outbox-relay-${process.pid}`);
    const consumer = await broker.consumer('orders');
    await inTransaction(pool, async (tx) => {
      await tx.query('SELECT 1'); // the business write would go here
      await outbox.add(tx, {
        destination: 'orders',
        body: { order: 1 },
        key: 'order-1',
        headers: { source: 'checkout' },
        tags: ['created'],
        id: 'fixed-id-1',
      });
    });
    await expect(
      inTransaction(pool, async (tx) => {
        await outbox.add(tx, { destination: 'orders', body: 'rolled back', key: 'order-2' });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const id = await inTransaction(pool, (tx) =>
      outbox.add(tx, { destination: 'orders', body: 'second', key: 'order-3' }),
    );

    const relay = startRelay({ pool, broker, table, pollMs: 20 });
    const messages = await take(consumer, 2);
    await relay.drained();
    await relay.stop();

    expect(messages.map((m) => m.key)).toEqual(['order-1', 'order-3']);
    const [first, second] = messages as [Message, Message];
    expect(first.id).toBe('fixed-id-1');
    expect(first.json()).toEqual({ order: 1 });
    expect(first.headers.source).toBe('checkout');
    expect(first.tags).toEqual(['created']);
    expect(second.id).toBe(id);
    expect(second.text()).toBe('second');
    expect(relay.stats.published).toBe(2);
    expect(await pendingCount(pool, { table })).toBe(0);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE sent_at IS NOT NULL`);
    expect(rows[0].n).toBe(2);
    await broker.close();
  });

  it('keeps a row pending, with its error, while its destination refuses it, and its lane waits', async () => {
    const other = uniqueTable();
    await ensureOutboxSchema(pool, { table: other });
    const box = new Outbox({ table: other });
    const memory = await connect(`memory://outbox-refuse-${process.pid}`);
    await memory.close(); // a closed broker refuses every producer: each send fails CLOSED
    await inTransaction(pool, async (tx) => {
      await box.add(tx, { destination: 'orders', body: 'a', key: 'k' });
      await box.add(tx, { destination: 'orders', body: 'b', key: 'k' });
    });
    const errors: Error[] = [];
    const relay = startRelay({
      pool,
      broker: memory,
      table: other,
      pollMs: 20,
      onError: (e) => errors.push(e),
    });
    await relay.drained();
    await relay.stop();
    const { rows } = await pool.query(`SELECT attempts, last_error, sent_at FROM ${other} ORDER BY id`);
    expect(rows[0].sent_at).toBeNull();
    expect(rows[0].attempts).toBe(1);
    expect(rows[0].last_error).toMatch(/closed/i);
    expect(rows[1].attempts).toBe(0); // behind the failed head, never tried
    expect(errors.length).toBeGreaterThan(0);
    await pool.query(`DROP TABLE ${other}`);
  });

  it('rejects what it cannot store faithfully, naming the fix', async () => {
    await inTransaction(pool, async (tx) => {
      await expect(
        outbox.add(tx, { destination: 'orders', body: 'x', delayMs: 10 } as never),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('delayMs'),
      });
      await expect(outbox.add(tx, { destination: '', body: 'x' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });
    expect(() => new Outbox({ table: 'orders; DROP TABLE x' })).toThrow(/plain identifier/);
  });

  it('says to run ensureOutboxSchema when the table is missing', async () => {
    const missing = new Outbox({ table: uniqueTable('missing') });
    const error = await inTransaction(pool, (tx) =>
      missing.add(tx, { destination: 'orders', body: 'x' }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect((error as Error).message).toContain('ensureOutboxSchema');
    expect((error as Error).cause).toMatchObject({ code: '42P01' });
  });

  it('relays through a dual-write binding: each row reaches both brokers, under one message id', async () => {
    const other = uniqueTable();
    await ensureOutboxSchema(pool, { table: other });
    const box = new Outbox({ table: other });
    const [oldUrl, newUrl] = [`memory://outbox-old-${process.pid}`, `memory://outbox-new-${process.pid}`];
    const bindings = await fromConfig({
      config: {
        version: 1,
        brokers: { old: { url: oldUrl }, new: { url: newUrl } },
        bindings: {
          'orders.write-both': {
            destination: 'orders',
            write: { brokers: ['old', 'new'], require: 'both' },
            read: { brokers: ['old', 'new'] },
          },
        },
      },
    });
    const readers = await Promise.all([oldUrl, newUrl].map((url) => connect(url)));
    const consumers = await Promise.all(readers.map((b) => b.consumer('orders')));
    const id = await inTransaction(pool, (tx) =>
      box.add(tx, { destination: 'orders.write-both', body: 'both', key: 'order-9' }),
    );
    const relay = startRelay({ pool, broker: bindings, table: other, pollMs: 20 });
    const [fromOld, fromNew] = await Promise.all(consumers.map((c) => take(c, 1)));
    await relay.stop();
    expect([fromOld![0]!.id, fromNew![0]!.id]).toEqual([id, id]);
    expect(await pendingCount(pool, { table: other })).toBe(0);
    await bindings.close();
    await Promise.all(readers.map((b) => b.close()));
    await pool.query(`DROP TABLE ${other}`);
  });
});
