// The attempt stores (the consumer option attemptStore) on the real servers: counts per key in one
// call, forget, expiry by the TTL, a key twice in one batch, counts shared by two clients, the
// shipped migration, and what an outage or a missing table reports. Keys are unique per run.

import { randomUUID } from 'node:crypto';
import type { AttemptStore } from '@switchyard/core';
import { attemptsMigration, PostgresAttemptStore, RedisAttemptStore } from '@switchyard/dedupe';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_URL, REDIS_URL, shippedMigration } from './fixtures/dedupe-servers.js';

type Closable = AttemptStore & { close(): Promise<void> };

const opened: Closable[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

/** Each store, and whether a key is still counted, read without counting it. */
const stores: Array<
  [string, (ttlMs?: number) => Promise<Closable>, (s: Closable, k: string) => Promise<boolean>]
> = [
  [
    'redis',
    async (ttlMs) => new RedisAttemptStore({ url: REDIS_URL, ...(ttlMs ? { ttlMs } : {}) }),
    async (s, k) => (await (s as RedisAttemptStore).client.exists(`switchyard:attempts:${k}`)) === 1,
  ],
  [
    'postgres',
    async (ttlMs) => {
      const store = new PostgresAttemptStore({ connectionString: PG_URL, ...(ttlMs ? { ttlMs } : {}) });
      await store.ensureSchema();
      return store;
    },
    async (s, k) =>
      (
        await (s as PostgresAttemptStore).pool.query(
          'SELECT 1 FROM switchyard_attempts WHERE key = $1 AND expires_at > clock_timestamp()',
          [k],
        )
      ).rowCount === 1,
  ],
];

describe.each(stores)('%s attempt store', (_, make, live) => {
  const open = async (ttlMs?: number) => {
    const store = await make(ttlMs);
    opened.push(store);
    return store;
  };
  const key = () => `k-${randomUUID()}`;

  it('counts each key in one call, in order; a second client sees the same counts', async () => {
    const [a, b] = [await open(), await open()];
    const [k1, k2] = [key(), key()];
    expect(await a.increment([k1, k2])).toEqual([1, 1]);
    expect(await b.increment([k2])).toEqual([2]);
    expect(await a.increment([k2, k1])).toEqual([3, 2]);
    expect(await a.increment([])).toEqual([]);
  });

  it('forget starts a key over; a key twice in one call is counted twice', async () => {
    const store = await open();
    const [k1, k2] = [key(), key()];
    await store.increment([k1, k1, k2]);
    await store.forget([k1, k2]);
    expect(await store.increment([k1, k2, k1])).toEqual([1, 1, 2]);
  });

  it('a key expires its TTL after its last increment, then starts over', async () => {
    const store = await open(1_000);
    const k = key();
    expect(await store.increment([k])).toEqual([1]);
    expect(await store.increment([k])).toEqual([2]);
    // Polls the server's own view (no sleep standing in for the event).
    const deadline = Date.now() + 15_000;
    while ((await live(store, k)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await live(store, k)).toBe(false);
    expect(await store.increment([k])).toEqual([1]);
  }, 30_000);
});

describe('attempt store errors and the shipped migration', () => {
  it('the PostgreSQL migration file is the SQL ensureSchema() runs, and it applies to a fresh schema', async () => {
    const { statements } = await shippedMigration('002_switchyard_attempts.sql', async (schema) => {
      const store = new PostgresAttemptStore({
        connectionString: PG_URL,
        table: `${schema}.switchyard_attempts`,
      });
      try {
        expect(await store.increment(['a', 'b', 'a'])).toEqual([1, 1, 2]);
      } finally {
        await store.close();
      }
    });
    expect(statements).toBe(attemptsMigration());
  });

  it('a missing table is NOT_FOUND naming the table and the fix', async () => {
    const store = new PostgresAttemptStore({
      connectionString: PG_URL,
      table: `no_such_attempts_${process.pid}`,
    });
    try {
      await expect(store.increment(['a'])).rejects.toMatchObject({
        code: 'NOT_FOUND',
        retryable: false,
        message: expect.stringMatching(
          /attempt table no_such_attempts_\d+ does not exist.*attemptsMigration\(\)/,
        ),
      });
    } finally {
      await store.close();
    }
  });

  it('a server that does not answer is UNAVAILABLE (retryable), saying the receive goes back', async () => {
    // Port 1: nothing listens; the stores' own clients fail fast.
    const redis = new RedisAttemptStore({ url: 'redis://127.0.0.1:1', redis: { retryStrategy: () => null } });
    const postgres = new PostgresAttemptStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      for (const store of [redis, postgres]) {
        await expect(store.increment(['a'])).rejects.toMatchObject({
          code: 'UNAVAILABLE',
          retryable: true,
          message: expect.stringMatching(/attempt store at 127\.0\.0\.1:1.*go back to the broker unhandled/),
        });
      }
    } finally {
      await redis.close();
      await postgres.close();
    }
  });

  it('refuses a TTL too short to outlast a redelivery', () => {
    expect(() => new RedisAttemptStore({ url: REDIS_URL, ttlMs: 10 })).toThrow(
      /ttlMs must be a whole number of ms ≥ 1000/,
    );
  });
});
