// Switchyard's rabbitmq driver against raw amqplib doing the same work in the same run, on the
// same broker: 50,000 messages of 256 bytes published with confirms, then consumed with manual
// acks at the same prefetch, then end-to-end latency at a steady rate. Each side has its own
// exchange and queue; the phases alternate raw / Switchyard and each runs twice, best kept, so a
// noisy neighbour on a 2-core machine does not decide the ratio.
// Run alone: npx tsx --conditions=switchyard-source bench/rabbitmq.ts

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { type Broker, connect, type Outgoing, silentLogger } from '@switchyard/core';
import { driver } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { type BenchRow, percentile } from './types.js';

const URL_DEFAULT = 'amqp://guest:guest@127.0.0.1:5672';
const COUNT = 50_000;
const BODY_BYTES = 256;
const PREFETCH = 200;
const LATENCY_COUNT = 5_000;
const LATENCY_BURST = 25;
const LATENCY_GAP_MS = 5;
const ROUNDS = 3;

const body = randomBytes(BODY_BYTES);

interface Side {
  publish(): Promise<number>;
  consume(): Promise<number>;
  latency(): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Raw amqplib: one confirm channel, publish with callbacks honouring drain; consume with acks.
 * `sameFlags` publishes what Switchyard publishes (persistent, mandatory so unroutable messages
 * are reported, message id, content type, timestamp); without it, the bare minimum (persistent).
 * Both use TCP_NODELAY like the driver: without it Nagle delays small frames (acks) by ~40 ms.
 */
async function rawSide(url: string, name: string, sameFlags = true): Promise<Side> {
  const connection = await amqp.connect(url, { noDelay: true });
  const setup = await connection.createChannel();
  await setup.assertExchange(name, 'topic', { durable: true });
  await setup.assertQueue(`${name}.bench`, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(`${name}.bench`, name, '#');
  const publisher = await connection.createConfirmChannel();

  async function publishMany(n: number, stamp: boolean): Promise<void> {
    const confirms: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      const headers = stamp ? { t: String(performance.now() + performance.timeOrigin) } : {};
      const options: amqp.Options.Publish = sameFlags
        ? {
            persistent: true,
            mandatory: true,
            messageId: `r-${i}`,
            contentType: 'application/octet-stream',
            timestamp: Math.floor(Date.now() / 1000),
            headers,
          }
        : { persistent: true, ...(stamp ? { headers } : {}) };
      let ok = true;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          ok = publisher.publish(name, '', body, options, (e) => (e ? reject(e) : resolve()));
        }),
      );
      if (!ok) await new Promise((r) => publisher.once('drain', r));
    }
    await Promise.all(confirms);
  }

  return {
    async publish() {
      const started = performance.now();
      await publishMany(COUNT, false);
      return performance.now() - started;
    },
    async consume() {
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH);
      const started = performance.now();
      let n = 0;
      await new Promise<void>((resolve) => {
        void channel.consume(`${name}.bench`, (m) => {
          if (m === null) return;
          channel.ack(m);
          if (++n === COUNT) resolve();
        });
      });
      const ms = performance.now() - started;
      await channel.close();
      return ms;
    },
    async latency() {
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH);
      const samples: number[] = [];
      const done = new Promise<void>((resolve) => {
        void channel.consume(`${name}.bench`, (m) => {
          if (m === null) return;
          samples.push(performance.now() + performance.timeOrigin - Number(m.properties.headers?.t));
          channel.ack(m);
          if (samples.length === LATENCY_COUNT) resolve();
        });
      });
      for (let i = 0; i < LATENCY_COUNT; i += LATENCY_BURST) {
        void publishMany(LATENCY_BURST, true);
        await new Promise((r) => setTimeout(r, LATENCY_GAP_MS));
      }
      await done;
      await channel.close();
      return samples;
    },
    async close() {
      await setup.deleteQueue(`${name}.bench`);
      await setup.deleteExchange(name);
      await connection.close();
    },
  };
}

/**
 * The rabbitmq driver's own sendBatch, without the portable Producer on top (4 batches in flight,
 * like the Producer's defaults): separates what the driver costs from what core costs.
 */
async function driverPublishSide(url: string, name: string): Promise<Pick<Side, 'publish' | 'close'>> {
  const instance = await driver.create(driver.fromUrl(new URL(url)), {
    logger: silentLogger,
    status: () => {},
  });
  const admin = await amqp.connect(url);
  const setup = await admin.createChannel();
  await setup.assertExchange(name, 'topic', { durable: true });
  await setup.assertQueue(`${name}.bench`, { durable: true });
  await setup.bindQueue(`${name}.bench`, name, '#');
  const producer = await instance.openProducer(name, { driverOptions: {} });
  const batch = Math.ceil(COUNT / 4);
  return {
    async publish() {
      const messages: Outgoing[] = Array.from({ length: COUNT }, (_, i) => ({
        id: `d-${i}`,
        body,
        contentType: 'application/octet-stream',
        headers: {},
        key: undefined,
        tags: [],
        routingKey: undefined,
        orderingKey: undefined,
        delayMs: undefined,
        publishedAt: Date.now(),
      }));
      const started = performance.now();
      await Promise.all(
        [0, 1, 2, 3].map((k) => producer.sendBatch(messages.slice(k * batch, (k + 1) * batch))),
      );
      const ms = performance.now() - started;
      await setup.purgeQueue(`${name}.bench`);
      return ms;
    },
    async close() {
      await producer.close();
      await instance.close();
      await setup.deleteQueue(`${name}.bench`);
      await setup.deleteExchange(name);
      await admin.close();
    },
  };
}

/** Switchyard: the same work through Broker / Producer / Consumer with the rabbitmq driver. */
async function switchyardSide(url: string, name: string): Promise<Side> {
  const broker: Broker = await connect(url);
  // Declare the group's queue up front (same arguments the driver uses) so the publish phase fills
  // it without a consumer draining it meanwhile.
  const admin = await amqp.connect(url);
  const setup = await admin.createChannel();
  await setup.assertExchange(name, 'topic', { durable: true });
  await setup.assertQueue(`${name}.bench`, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(`${name}.bench`, name, '#');
  const producer = await broker.producer(name);

  function sendMany(n: number, stamp: boolean): Promise<unknown> {
    return producer.send(
      Array.from({ length: n }, () =>
        stamp ? { body, headers: { t: String(performance.now() + performance.timeOrigin) } } : { body },
      ),
    );
  }

  return {
    async publish() {
      const started = performance.now();
      await sendMany(COUNT, false);
      return performance.now() - started;
    },
    async consume() {
      const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
      const stop = new AbortController();
      let n = 0;
      const started = performance.now();
      await consumer.run(
        () => {
          if (++n === COUNT) stop.abort();
        },
        { signal: stop.signal },
      );
      const ms = performance.now() - started;
      await consumer.close();
      return ms;
    },
    async latency() {
      const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
      const samples: number[] = [];
      const stop = new AbortController();
      const running = consumer.run(
        (m) => {
          samples.push(performance.now() + performance.timeOrigin - Number(m.headers.t));
          if (samples.length === LATENCY_COUNT) stop.abort();
        },
        { signal: stop.signal },
      );
      for (let i = 0; i < LATENCY_COUNT; i += LATENCY_BURST) {
        void sendMany(LATENCY_BURST, true);
        await new Promise((r) => setTimeout(r, LATENCY_GAP_MS));
      }
      await running;
      await consumer.close();
      return samples;
    },
    async close() {
      await broker.close();
      await setup.deleteQueue(`${name}.bench`);
      await setup.deleteExchange(name);
      await admin.close();
    },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export async function benchRabbitmq(): Promise<BenchRow[]> {
  const url = process.env.SWITCHYARD_URL?.startsWith('amqp') ? process.env.SWITCHYARD_URL : URL_DEFAULT;
  const id = randomBytes(3).toString('hex');
  const raw = await rawSide(url, `bench-raw-${id}`);
  const bare = await rawSide(url, `bench-bare-${id}`, false);
  const sy = await switchyardSide(url, `bench-sy-${id}`);
  const drv = await driverPublishSide(url, `bench-drv-${id}`);
  const best = { rawPub: 0, barePub: 0, syPub: 0, drvPub: 0, rawCon: 0, syCon: 0 };
  let rawLat: number[] = [];
  let syLat: number[] = [];
  try {
    // Each round rotates which side goes first, and lets the broker settle between phases (it
    // flushes queue indexes after a large publish or ack burst), so no side always inherits the
    // previous phase's broker work.
    const settle = () => new Promise((r) => setTimeout(r, 500));
    const publishes: Array<[keyof typeof best, Pick<Side, 'publish'>]> = [
      ['rawPub', raw],
      ['barePub', bare],
      ['syPub', sy],
      ['drvPub', drv],
    ];
    const consumes: Array<[keyof typeof best, Side]> = [
      ['rawCon', raw],
      ['syCon', sy],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < publishes.length; i++) {
        const [key, side] = publishes[(i + round) % publishes.length]!;
        await settle();
        best[key] = Math.max(best[key], COUNT / ((await side.publish()) / 1000));
      }
      await bare.consume();
      for (let i = 0; i < consumes.length; i++) {
        const [key, side] = consumes[(i + round) % consumes.length]!;
        await settle();
        best[key] = Math.max(best[key], COUNT / ((await side.consume()) / 1000));
      }
    }
    rawLat = (await raw.latency()).sort((a, b) => a - b);
    syLat = (await sy.latency()).sort((a, b) => a - b);
  } finally {
    await raw.close();
    await bare.close();
    await sy.close();
    await drv.close();
  }
  const note = `${COUNT} msgs x ${BODY_BYTES} B, prefetch ${PREFETCH}, best of ${ROUNDS}`;
  const latNote = `${LATENCY_COUNT} msgs, ${LATENCY_BURST} every ${LATENCY_GAP_MS} ms`;
  return [
    { name: 'rabbitmq publish (confirms), raw amqplib', value: Math.round(best.rawPub), unit: 'msg/s', note },
    { name: 'rabbitmq publish (confirms), switchyard', value: Math.round(best.syPub), unit: 'msg/s', note },
    { name: 'rabbitmq publish ratio switchyard/raw', value: round2(best.syPub / best.rawPub), unit: 'x' },
    {
      name: 'rabbitmq publish (confirms), switchyard driver sendBatch alone',
      value: Math.round(best.drvPub),
      unit: 'msg/s',
      note: 'the driver without the portable Producer: what the driver costs vs what core costs',
    },
    {
      name: 'rabbitmq publish (confirms), raw amqplib without mandatory/properties',
      value: Math.round(best.barePub),
      unit: 'msg/s',
      note: 'what unroutable reporting (mandatory) and the AMQP properties cost on this broker',
    },
    { name: 'rabbitmq consume (acks), raw amqplib', value: Math.round(best.rawCon), unit: 'msg/s', note },
    { name: 'rabbitmq consume (acks), switchyard', value: Math.round(best.syCon), unit: 'msg/s', note },
    { name: 'rabbitmq consume ratio switchyard/raw', value: round2(best.syCon / best.rawCon), unit: 'x' },
    {
      name: 'rabbitmq e2e latency p50, raw amqplib',
      value: round2(percentile(rawLat, 50)),
      unit: 'ms',
      note: latNote,
    },
    {
      name: 'rabbitmq e2e latency p50, switchyard',
      value: round2(percentile(syLat, 50)),
      unit: 'ms',
      note: latNote,
    },
    {
      name: 'rabbitmq e2e latency p99, raw amqplib',
      value: round2(percentile(rawLat, 99)),
      unit: 'ms',
      note: latNote,
    },
    {
      name: 'rabbitmq e2e latency p99, switchyard',
      value: round2(percentile(syLat, 99)),
      unit: 'ms',
      note: latNote,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchRabbitmq()) {
    console.log(`${r.name}: ${r.value} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  }
}
