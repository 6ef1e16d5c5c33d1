// The idempotent consumer's cost: consumer throughput through run() with no dedup, and with
// idempotent() over the memory, Redis and PostgreSQL stores and transactional() on PostgreSQL,
// in the same run, rounds alternated; each ratio is against no dedup in the same round. Every
// message has a fresh id, so each takes the full claim → handle → commit path (copies cost less:
// one claim). Broker: SWITCHYARD_URL, default the real RabbitMQ on 127.0.0.1:5672.
// Run alone: tsx --conditions=switchyard-source bench/dedupe.ts [messages] [rounds]

import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type Broker, connect, type Handler } from '@switchyard/core';
import {
  idempotent,
  MemoryDedupeStore,
  PostgresDedupeStore,
  RedisDedupeStore,
  transactional,
} from '@switchyard/dedupe';
import { alternate, cpuOf, measure, type Phase, printRows, Rounds, rateOf } from './measure.js';
import { type BenchRow, median } from './types.js';

const URL_DEFAULT = 'amqp://guest:guest@127.0.0.1:5672?queueExpiresMs=600000&exchangeAutoDelete=true';
const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.SWITCHYARD_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 16;

/** Sends `count` fresh messages, then times run() draining them through `handler`. */
async function drain(
  broker: Broker,
  source: string,
  count: number,
  wrap: (h: Handler) => Handler,
): Promise<Phase> {
  const consumer = await broker.consumer(source, { group: 'bench', prefetch: 64, concurrency: CONCURRENCY });
  const producer = await broker.producer(source);
  for (let i = 0; i < count; i += 500)
    await producer.send(
      Array.from({ length: Math.min(500, count - i) }, () => ({ body: 'x', id: randomUUID() })),
    );
  let handled = 0;
  const done = new AbortController();
  const handler = wrap(() => {
    if (++handled === count) done.abort();
  });
  return measure(count, async () => {
    await consumer.run(handler, { signal: done.signal });
    await consumer.close();
  });
}

export async function benchDedupe(count = 2_000, rounds = 3): Promise<BenchRow[]> {
  const broker = await connect(process.env.SWITCHYARD_URL ?? URL_DEFAULT);
  const memory = new MemoryDedupeStore();
  const redis = new RedisDedupeStore({ url: REDIS_URL, prefix: `bench-${randomUUID()}:` });
  const table = `dedupe_bench_${process.pid}`;
  const postgres = new PostgresDedupeStore({ connectionString: PG_URL, table });
  await postgres.ensureSchema();
  const source = `dedupe-bench-${process.pid}`;
  const runs = new Rounds();
  const sides: Record<string, (h: Handler) => Handler> = {
    'no dedup': (h) => h,
    'idempotent(), memory store': (h) => idempotent(h, { store: memory }),
    'idempotent(), Redis store': (h) => idempotent(h, { store: redis }),
    'idempotent(), PostgreSQL store': (h) => idempotent(h, { store: postgres }),
    'transactional(), PostgreSQL': (h) => transactional((m) => h(m), { store: postgres }),
  };
  try {
    await alternate(
      rounds,
      Object.fromEntries(
        Object.entries(sides).map(([name, wrap]) => [
          name,
          async () => runs.add(name, await drain(broker, source, count, wrap)),
        ]),
      ),
      [runs],
    );
  } finally {
    await broker.close({ timeoutMs: 5_000 });
    await postgres.pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await Promise.all([memory.close(), redis.close(), postgres.close()]);
  }
  const base = runs.get('no dedup');
  const rows: BenchRow[] = [];
  for (const name of Object.keys(sides)) {
    const phases = runs.get(name);
    const rate = median(phases.map(rateOf));
    // Paired per round: a busy neighbour slows both sides of one round alike.
    const ratio = median(phases.map((p, i) => rateOf(p) / rateOf(base[i] ?? p)));
    rows.push({
      name: `dedupe consumer, ${name}`,
      value: Math.round(rate),
      unit: 'msg/s',
      cpuUsPerMsg: Math.round(median(phases.map(cpuOf)) * 10) / 10,
      note: `${Math.round(ratio * 100) / 100}× of no dedup; run(), concurrency ${CONCURRENCY}, ${count} messages × ${rounds} rounds`,
    });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printRows(await benchDedupe(Number(process.argv[2] ?? 2_000), Number(process.argv[3] ?? 3)));
}
