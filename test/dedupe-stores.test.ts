// Each dedup store's semantics on the real server (memory in-process): claim, busy, lease expiry,
// renew, release, commit and its window. Keys are unique per run so parallel runs never meet.

import { randomUUID } from 'node:crypto';
import {
  type DedupeStore,
  dedupeMigration,
  MemoryDedupeStore,
  PostgresDedupeStore,
  RedisDedupeStore,
} from '@switchyard/dedupe';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_URL, REDIS_URL, shippedMigration, untilClaimed } from './fixtures/dedupe-servers.js';

const stores: Array<[string, () => Promise<DedupeStore>]> = [
  ['memory', async () => new MemoryDedupeStore()],
  ['redis', async () => new RedisDedupeStore({ url: REDIS_URL })],
  [
    'postgres',
    async () => {
      const store = new PostgresDedupeStore({ connectionString: PG_URL });
      await store.ensureSchema();
      return store;
    },
  ],
];

const opened: DedupeStore[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

describe.each(stores)('%s dedup store', (_, open) => {
  const key = () => `k-${randomUUID()}`;
  const get = async () => {
    const store = await open();
    opened.push(store);
    return store;
  };

  it('claims a free key once; a second claimer is busy until release', async () => {
    const store = await get();
    const k = key();
    const first = await store.claim(k, 30_000);
    expect(first.status).toBe('claimed');
    expect(await store.claim(k, 30_000)).toEqual({ status: 'busy' });
    if (first.status !== 'claimed') throw new Error('unreachable');
    await store.release(k, 'not-the-token');
    expect((await store.claim(k, 30_000)).status).toBe('busy');
    await store.release(k, first.token);
    expect((await store.claim(k, 30_000)).status).toBe('claimed');
  });

  it('a committed key is done for its window, then free again', async () => {
    const store = await get();
    const k = key();
    const claim = await store.claim(k, 30_000);
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    await store.commit(k, claim.token, 300);
    expect(await store.claim(k, 30_000)).toEqual({ status: 'done' });
    // A release by the old holder must not undo the done mark.
    await store.release(k, claim.token);
    expect(await store.claim(k, 30_000)).toEqual({ status: 'done' });
    expect((await untilClaimed(store, k)).status).toBe('claimed');
  });

  it('a lease that runs out frees the key (its holder died); renew keeps a live one and fails on a lost one', async () => {
    const store = await get();
    const k = key();
    const claim = await store.claim(k, 300);
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    expect(await store.renew(k, claim.token, 30_000)).toBe(true);
    expect((await store.claim(k, 300)).status).toBe('busy');
    expect(await store.renew(k, claim.token, 300)).toBe(true);
    const next = await untilClaimed(store, k);
    expect(next.status).toBe('claimed');
    expect(await store.renew(k, claim.token, 30_000)).toBe(false);
  });
});

describe('memory dedup store with a moved clock', () => {
  it('expires leases and windows by its clock, without waiting', async () => {
    let now = 1_000;
    const store = new MemoryDedupeStore({ now: () => now });
    const claim = await store.claim('a', 100);
    expect((await store.claim('a', 100)).status).toBe('busy');
    now += 100;
    expect((await store.claim('a', 100)).status).toBe('claimed');
    if (claim.status !== 'claimed') throw new Error('unreachable');
    await store.commit('a', claim.token, 1_000);
    now += 999;
    expect((await store.claim('a', 100)).status).toBe('done');
    now += 1;
    expect((await store.claim('a', 100)).status).toBe('claimed');
  });
});

describe('the shipped PostgreSQL migration', () => {
  it('is the SQL ensureSchema() runs, and it applies to a fresh schema', async () => {
    const { statements } = await shippedMigration('001_switchyard_dedupe.sql', async (schema) => {
      const store = new PostgresDedupeStore({
        connectionString: PG_URL,
        table: `${schema}.switchyard_dedupe`,
      });
      try {
        expect((await store.claim('a', 1_000)).status).toBe('claimed');
        expect((await store.claim('a', 1_000)).status).toBe('busy');
      } finally {
        await store.close();
      }
    });
    expect(statements).toBe(dedupeMigration());
  });

  it('a missing table is NOT_FOUND naming the table and the fix, not a retryable outage', async () => {
    const store = new PostgresDedupeStore({
      connectionString: PG_URL,
      table: `no_such_dedupe_${process.pid}`,
    });
    try {
      await expect(store.claim('a', 1_000)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        retryable: false,
        message: expect.stringMatching(/no_such_dedupe_\d+ does not exist.*ensureSchema\(\)/),
      });
    } finally {
      await store.close();
    }
  });
});
