// The outbox relay against publishing directly, same broker, same run, alternating rounds:
// messages per second from "rows committed" to "every row confirmed by RabbitMQ and marked sent",
// against producer.send() of the same messages. The relay pays a claim query, a mark update and a
// commit per batch, and sends each key's rows one confirm after another.
//
//   npx tsx --conditions=switchyard-source bench/outbox.ts [messages] [rounds]
//
// Needs RabbitMQ (127.0.0.1:5672, guest) and PostgreSQL (127.0.0.1:5432, database test).

import { randomBytes } from 'node:crypto';
import { type Broker, connect } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, pendingCount, startRelay } from '@switchyard/outbox';
import amqplib from 'amqplib';
import pg from 'pg';
import { measure, type Phase, rateOf } from './measure.js';
import { median } from './types.js';

const COUNT = Number(process.argv[2] ?? 2_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BODY = 'x'.repeat(256);
const PG_URL = process.env.SWITCHYARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const AMQP_URL = process.env.SWITCHYARD_BENCH_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
const table = `outbox_bench_${randomBytes(4).toString('hex')}`;
const destination = `outbox-bench-${randomBytes(4).toString('hex')}`;
const outbox = new Outbox({ table });

/** Commits COUNT rows, 100 per transaction, keyed over `keys` lanes (0 = no key). Not timed. */
async function fill(keys: number): Promise<void> {
  const tx = await pool.connect();
  try {
    for (let i = 0; i < COUNT; i += 100) {
      await tx.query('BEGIN');
      for (let j = i; j < Math.min(COUNT, i + 100); j++) {
        await outbox.add(tx, { destination, body: BODY, ...(keys > 0 ? { key: `k${j % keys}` } : {}) });
      }
      await tx.query('COMMIT');
    }
  } finally {
    tx.release();
  }
}

async function direct(broker: Broker): Promise<Phase> {
  const producer = await broker.producer(destination);
  const phase = await measure(COUNT, () =>
    Promise.all(Array.from({ length: COUNT }, (_, i) => producer.send({ body: BODY, key: `k${i}` }))),
  );
  await producer.close();
  return phase;
}

async function relayed(broker: Broker, keys: number, relays: number): Promise<Phase> {
  await fill(keys);
  return measure(COUNT, async () => {
    const running = Array.from({ length: relays }, () => startRelay({ pool, broker, table, pollMs: 5 }));
    while ((await pendingCount(pool, { table })) > 0) await Promise.all(running.map((r) => r.drained()));
    await Promise.all(running.map((r) => r.stop()));
  });
}

async function main(): Promise<void> {
  await ensureOutboxSchema(pool, { table });
  const broker = await connect(AMQP_URL);
  // A queue bound to the exchange, so every message is routed and stored as in production.
  const consumer = await broker.consumer(destination, { group: 'bench' });
  const variants: Array<[string, (b: Broker) => Promise<Phase>]> = [
    ['direct producer.send()', direct],
    ['relay, no keys, 1 relay', (b) => relayed(b, 0, 1)],
    ['relay, 100 keys, 1 relay', (b) => relayed(b, 100, 1)],
    ['relay, 100 keys, 3 relays', (b) => relayed(b, 100, 3)],
    ['relay, 1 key, 1 relay', (b) => relayed(b, 1, 1)],
  ];
  const rates = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of variants) rates.get(name)!.push(rateOf(await run(broker)));
  }
  const base = median(rates.get('direct producer.send()')!);
  console.log(`outbox relay vs direct publishing, RabbitMQ, ${COUNT} × 256 B, median of ${ROUNDS} rounds`);
  for (const [name] of variants) {
    const rate = median(rates.get(name)!);
    console.log(
      `${name.padEnd(28)} ${Math.round(rate).toString().padStart(7)} msg/s   ${(rate / base).toFixed(2)}× direct`,
    );
  }
  await consumer.close();
  await broker.close();
  // The queue holds every message of the run: delete it, and the exchange, from the server.
  const raw = await amqplib.connect(AMQP_URL);
  const channel = await raw.createChannel();
  await channel.deleteQueue(`${destination}.bench`);
  await channel.deleteExchange(destination);
  await raw.close();
  await pool.query(`DROP TABLE ${table}`);
  await pool.end();
}

await main();
