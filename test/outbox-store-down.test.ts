// The outbox store unavailable, on the real PostgreSQL: a wrong port and a store cut off mid-run
// (a TCP proxy in front of the shared server, never the server itself). The relay reports typed,
// retryable errors, publishes nothing it could not claim, and catches up when the store is back.

import { connect } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, pendingCount, startRelay } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, newPool, uniqueTable } from './fixtures/outbox-db.js';
import { startStoreProxy } from './fixtures/outbox-proxy.js';
import { Collector, total, writeWorkload } from './fixtures/outbox-workload.js';

const pool = newPool();
const table = uniqueTable('outbox_down');

beforeAll(() => ensureOutboxSchema(pool, { table }));
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

/** Resolves with the first `n` errors the relay reports. */
function errorsOf(n: number): { onError: (e: Error) => void; first: Promise<Error[]> } {
  const seen: Error[] = [];
  let resolve: (errors: Error[]) => void;
  const first = new Promise<Error[]>((r) => (resolve = r));
  return {
    onError: (e) => {
      seen.push(e);
      if (seen.length === n) resolve(seen);
    },
    first,
  };
}

describe('outbox: the store unavailable', () => {
  it('a wrong port: UNAVAILABLE, retryable, naming the store and the fix; the relay backs off and goes on', async () => {
    const broker = await connect(`memory://outbox-down-${process.pid}`);
    const badPool = newPool(1, 'postgres://postgres@127.0.0.1:1/test');
    const errors = errorsOf(3);
    const relay = startRelay({ pool: badPool, broker, table, pollMs: 5, onError: errors.onError });
    const [error] = await errors.first;
    await relay.stop();
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error!.message).toMatch(/outbox store \(PostgreSQL\) unavailable/);
    expect(error!.message).toMatch(/host and port/);
    expect(error!.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(relay.stats.published).toBe(0);
    await expect(ensureOutboxSchema(badPool, { table })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await badPool.end();
    await broker.close();
  });

  it('cut off mid-run and back: typed errors while down, then every row published, none lost', async () => {
    const proxy = await startStoreProxy();
    const proxied = newPool(2, `postgres://postgres@127.0.0.1:${proxy.port}/test`);
    const broker = await connect(`memory://outbox-cut-${process.pid}`);
    const consumer = await broker.consumer('orders');
    const workload = { keys: 10, perKey: 50, perTransaction: 25 };
    const collector = new Collector(total(workload));
    const consuming = collector.consume(consumer);
    await writeWorkload(pool, new Outbox({ table }), 'orders', workload);

    const errors = errorsOf(2);
    const relay = startRelay({
      pool: proxied,
      broker,
      table,
      batchSize: 10,
      pollMs: 5,
      onError: errors.onError,
    });
    await collector.reached(100);
    proxy.cut(); // mid-run: the relay's transaction dies with its connection
    const seen = await errors.first;
    for (const error of seen) {
      expect(['UNAVAILABLE', 'TIMEOUT']).toContain((error as { code?: string }).code);
      expect((error as { retryable?: boolean }).retryable).toBe(true);
    }
    proxy.restore();
    await collector.reached();
    await relay.stop();
    collector.stop();
    await consuming;

    expect(collector.distinct).toBe(total(workload));
    expect(collector.outOfOrder).toEqual([]);
    expect(await pendingCount(pool, { table })).toBe(0);
    await proxied.end();
    await proxy.close();
    await broker.close();
  });

  it('a transaction whose connection dies adds nothing', async () => {
    const proxy = await startStoreProxy();
    const proxied = newPool(1, `postgres://postgres@127.0.0.1:${proxy.port}/test`);
    const before = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    const outbox = new Outbox({ table });
    const failed = await inTransaction(proxied, async (tx) => {
      await outbox.add(tx, { destination: 'orders', body: 'never', key: 'k' });
      proxy.cut();
      await outbox.add(tx, { destination: 'orders', body: 'never either', key: 'k' });
    }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    const after = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
    await proxied.end();
    await proxy.close();
  });
});
