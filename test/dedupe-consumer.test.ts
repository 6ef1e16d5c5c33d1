// idempotent() and transactional() with core's consumer (in-process memory broker) and the real
// stores: duplicates acked unhandled, failures and nacks free the key, a held key is nacked, and
// a store that is down or hangs is a typed UNAVAILABLE error with the message left unacked.

import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type Broker, connect, type Message, type SendInput } from '@switchyard/core';
import {
  type DedupeStore,
  idempotent,
  MemoryDedupeStore,
  PostgresDedupeStore,
  RedisDedupeStore,
  transactional,
} from '@switchyard/dedupe';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackhole } from './fixtures/dedupe-blackhole.js';
import { PG_URL, REDIS_URL } from './fixtures/dedupe-servers.js';

const brokers: Broker[] = [];
const stores: DedupeStore[] = [];
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close({ timeoutMs: 2_000 })));
  await Promise.all(stores.map((s) => s.close()));
});

async function memoryBroker(): Promise<Broker> {
  const broker = await connect(`memory://dedupe-${randomUUID()}`);
  brokers.push(broker);
  return broker;
}

/** Runs `handler` until `stop()` says so, then closes the consumer; resolves with what it saw. */
async function runUntil(
  broker: Broker,
  source: string,
  handler: (m: Message) => unknown,
  stop: () => boolean,
): Promise<void> {
  const consumer = await broker.consumer(source, { retry: { initialDelayMs: 1, maxDelayMs: 5 } });
  const controller = new AbortController();
  const running = consumer.run(
    async (m) => {
      try {
        await handler(m);
      } finally {
        if (stop()) controller.abort();
      }
    },
    { signal: controller.signal },
  );
  await running;
  await consumer.close();
}

/** Sends one message and receives it with receive(), so the test settles it itself. */
async function receiveOne(broker: Broker, message: SendInput): Promise<Message> {
  await (await broker.producer('orders')).send(message);
  const [received] = await (await broker.consumer('orders')).receive({ waitMs: 5_000 });
  if (received === undefined) throw new Error('the message sent was not received');
  return received;
}

const storeKinds: Array<[string, () => Promise<DedupeStore>]> = [
  ['memory', async () => new MemoryDedupeStore()],
  ['redis', async () => new RedisDedupeStore({ url: REDIS_URL, prefix: `t-${randomUUID()}:` })],
  [
    'postgres',
    async () => {
      const s = new PostgresDedupeStore({ connectionString: PG_URL });
      await s.ensureSchema();
      return s;
    },
  ],
];

describe.each(storeKinds)('idempotent() over the %s store', (_, open) => {
  let store: DedupeStore;
  beforeAll(async () => {
    store = await open();
    stores.push(store);
  });

  it('handles copies with the same id once and acks them all', async () => {
    const broker = await memoryBroker();
    const producer = await broker.producer('orders');
    const id = randomUUID();
    const other = randomUUID();
    await producer.send([
      { body: 'a', id },
      { body: 'a again', id },
      { body: 'b', id: other },
      { body: 'a third time', id },
    ]);
    const handled: string[] = [];
    let settled = 0;
    await runUntil(
      broker,
      'orders',
      idempotent((m) => void handled.push(m.text()), { store }),
      () => ++settled === 4,
    );
    expect(handled.sort()).toEqual(['a', 'b']);
    // Nothing left: the copies were acked, not nacked back.
    const consumer = await broker.consumer('orders');
    expect(await consumer.receive({ waitMs: 50 })).toEqual([]);
  });

  it('keys by a user key: copies with different ids (a migration) are handled once', async () => {
    const broker = await memoryBroker();
    const order = `order-${randomUUID()}`;
    await (await broker.producer('orders')).send([
      { body: 'from cmq', key: order },
      { body: 'from rabbitmq', key: order },
    ]);
    const handled: string[] = [];
    let settled = 0;
    await runUntil(
      broker,
      'orders',
      idempotent((m) => void handled.push(m.text()), { store, key: (m) => m.key ?? m.id }),
      () => ++settled === 2,
    );
    expect(handled).toEqual(['from cmq']);
  });

  it('a handler that throws frees the key: the redelivery is handled, then the key is done', async () => {
    const broker = await memoryBroker();
    const id = randomUUID();
    await (await broker.producer('orders')).send({ body: 'x', id });
    let calls = 0;
    await runUntil(
      broker,
      'orders',
      idempotent(
        () => {
          if (++calls === 1) throw new Error('first attempt fails');
        },
        { store },
      ),
      () => calls === 2,
    );
    expect(calls).toBe(2);
    expect(await store.claim(id, 1_000)).toEqual({ status: 'done' });
  });

  it('renews the claim of a handler that runs longer than its lease', async () => {
    const broker = await memoryBroker();
    const id = randomUUID();
    const message = await receiveOne(broker, { body: 'x', id });
    const leaseMs = 300;
    const seen = new Set<string>();
    await idempotent(
      async () => {
        // Three leases long: without renewal another claimer would get the key after the first.
        const until = Date.now() + leaseMs * 3;
        while (Date.now() < until) {
          seen.add((await store.claim(id, leaseMs)).status);
          await delay(50);
        }
      },
      { store, leaseMs },
    )(message);
    expect([...seen]).toEqual(['busy']);
    expect(await store.claim(id, 1_000)).toEqual({ status: 'done' });
  });

  it('a handler that nacks the message itself frees the key, and it is not acked', async () => {
    const broker = await memoryBroker();
    const id = randomUUID();
    const message = await receiveOne(broker, { body: 'x', id });
    await idempotent((m) => m.nack(), { store })(message);
    expect(message.state).toBe('nacked');
    expect((await store.claim(id, 1_000)).status).toBe('claimed');
  });

  it('a copy whose key another consumer holds is nacked, not handled', async () => {
    const broker = await memoryBroker();
    const id = randomUUID();
    const held = await store.claim(id, 30_000);
    expect(held.status).toBe('claimed');
    const message = await receiveOne(broker, { body: 'x', id });
    let called = false;
    await idempotent(
      () => {
        called = true;
      },
      { store, busyDelayMs: 10 },
    )(message);
    expect(called).toBe(false);
    expect(message.state).toBe('nacked');
  });
});

describe('a dedup store that is down or hangs', () => {
  const cases: Array<[string, () => Promise<{ store: DedupeStore; close(): Promise<void> }>]> = [
    [
      'redis, nothing listening',
      async () => ({ store: new RedisDedupeStore({ url: 'redis://127.0.0.1:1' }), close: async () => {} }),
    ],
    [
      'redis, a connection that never answers',
      async () => {
        const hole = await blackhole();
        const store = new RedisDedupeStore({
          url: `redis://127.0.0.1:${hole.port}`,
          redis: { commandTimeout: 300, connectTimeout: 300 },
        });
        return { store, close: hole.close };
      },
    ],
    [
      'postgres, nothing listening',
      async () => ({
        store: new PostgresDedupeStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' }),
        close: async () => {},
      }),
    ],
    [
      'postgres, a connection that never answers',
      async () => {
        const hole = await blackhole();
        const store = new PostgresDedupeStore({
          pool: new pg.Pool({
            connectionString: `postgres://postgres@127.0.0.1:${hole.port}/test`,
            connectionTimeoutMillis: 300,
          }),
        });
        return {
          store,
          close: async () => {
            await store.pool.end();
            await hole.close();
          },
        };
      },
    ],
  ];

  it.each(cases)('%s: UNAVAILABLE (retryable), handler not called, message not acked', async (_, make) => {
    const { store, close } = await make();
    try {
      const broker = await memoryBroker();
      const message = await receiveOne(broker, 'x');
      let called = false;
      const error = await Promise.resolve(
        idempotent(
          () => {
            called = true;
          },
          { store },
        )(message),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, name: 'UnavailableError' });
      expect((error as Error).message).toMatch(/dedup store at 127\.0\.0\.1:\d+.*not acked/);
      expect(called).toBe(false);
      expect(message.state).toBe('pending');
    } finally {
      await store.close();
      await close();
    }
  });

  it('transactional() with PostgreSQL down: UNAVAILABLE (retryable), handler not called, message not acked', async () => {
    const store = new PostgresDedupeStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    stores.push(store);
    const message = await receiveOne(await memoryBroker(), 'x');
    let called = false;
    const wrapped = transactional(
      () => {
        called = true;
      },
      { store },
    );
    await expect(Promise.resolve(wrapped(message))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(called).toBe(false);
    expect(message.state).toBe('pending');
  });

  it('through run(): the message is nacked and redelivered, never acked, while the store is down', async () => {
    const broker = await memoryBroker();
    await (await broker.producer('orders')).send('x');
    const store = new RedisDedupeStore({ url: 'redis://127.0.0.1:1' });
    stores.push(store);
    let attempts = 0;
    let called = false;
    const consumer = await broker.consumer('orders', { retry: { initialDelayMs: 1, maxDelayMs: 5 } });
    const controller = new AbortController();
    const inner = idempotent(
      () => {
        called = true;
      },
      { store },
    );
    await consumer.run(
      async (m) => {
        attempts = m.deliveryAttempt;
        try {
          await inner(m);
        } finally {
          if (attempts === 3) controller.abort();
        }
      },
      { signal: controller.signal },
    );
    await consumer.close();
    expect(called).toBe(false);
    expect(attempts).toBe(3);
    // Still there for a consumer once the store is back.
    const again = await broker.consumer('orders');
    const [m] = await again.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('x');
  });
});

describe('transactional() on PostgreSQL', () => {
  let store: PostgresDedupeStore;
  const table = `dedupe_effects_${process.pid}`;
  beforeAll(async () => {
    store = new PostgresDedupeStore({ connectionString: PG_URL });
    stores.push(store);
    await store.ensureSchema();
    await store.pool.query(`CREATE TABLE IF NOT EXISTS ${table} (key text, body text)`);
  });
  afterAll(async () => {
    await store.pool.query(`DROP TABLE IF EXISTS ${table}`);
  });
  const effects = async (key: string) =>
    (await store.pool.query(`SELECT body FROM ${table} WHERE key = $1`, [key])).rows.map((r) => r.body);

  it('commits the effect and the done mark together; a copy is acked unhandled', async () => {
    const broker = await memoryBroker();
    const id = randomUUID();
    await (await broker.producer('orders')).send([
      { body: 'one', id },
      { body: 'two', id },
    ]);
    let settled = 0;
    await runUntil(
      broker,
      'orders',
      transactional(
        async (m, client) => {
          await client.query(`INSERT INTO ${table} VALUES ($1, $2)`, [m.id, m.text()]);
        },
        { store },
      ),
      () => ++settled === 2,
    );
    expect(await effects(id)).toEqual(['one']);
  });

  it('a handler that throws rolls its effect back and the redelivery is handled', async () => {
    const broker = await memoryBroker();
    const id = randomUUID();
    await (await broker.producer('orders')).send({ body: 'x', id });
    let calls = 0;
    await runUntil(
      broker,
      'orders',
      transactional(
        async (m, client) => {
          await client.query(`INSERT INTO ${table} VALUES ($1, $2)`, [m.id, `attempt ${++calls}`]);
          if (calls === 1) throw new Error('fails after writing');
        },
        { store },
      ),
      () => calls === 2,
    );
    expect(await effects(id)).toEqual(['attempt 2']);
  });

  it('a copy racing a live transaction on its key waits, then is nacked with a delay', async () => {
    const id = randomUUID();
    const holder = await store.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO ${store.table} (key, token, expires_at) VALUES ($1, NULL, now() + interval '1 hour')`,
        [id],
      );
      const broker = await memoryBroker();
      const message = await receiveOne(broker, { body: 'x', id });
      let called = false;
      await transactional(
        () => {
          called = true;
        },
        { store, lockWaitMs: 100, busyDelayMs: 10 },
      )(message);
      expect(called).toBe(false);
      expect(message.state).toBe('nacked');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});

describe('a key function that returns no key', () => {
  it('fails the delivery with INVALID_ARGUMENT (not retryable) instead of merging messages', async () => {
    const broker = await memoryBroker();
    const message = await receiveOne(broker, 'x');
    let called = false;
    const wrapped = idempotent(
      () => {
        called = true;
      },
      { key: (m) => m.key as string },
    );
    await expect(Promise.resolve(wrapped(message))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      retryable: false,
      message: expect.stringMatching(/key function returned undefined/),
    });
    expect(called).toBe(false);
    expect(message.state).toBe('pending');
  });
});
