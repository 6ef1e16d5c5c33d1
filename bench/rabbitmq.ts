// Switchyard's rabbitmq driver against raw amqplib in the same run, on the same broker, at 256 B,
// 64 KiB and 1 MiB. Per size and round, each contender publishes its own backlog with confirms and
// then drains it with manual acks at the same prefetch (so the queue never holds more than one
// backlog), in a balanced order (each side after each other side equally often,
// bench/round-order.ts); the ratios are paired per round.
//   expert raw:        a ConfirmChannel with a sliding window of 1,000 outstanding confirms (one
//                      shared callback); a consumer that acks with `multiple` every PREFETCH / 2
//   one-at-a-time raw: a promise and callback per confirm, all in flight; one ack per message
//   Switchyard:        1,000 concurrent producer.send() calls (the way services call it); run()
// Client CPU per message is the process's CPU over the phase: the broker is another process.
// Then end-to-end latency at a steady rate (256 B) and 1, 2, 4 consumer processes in one group.
// Run alone: npx tsx --conditions=switchyard-source bench/rabbitmq.ts

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { outgoing } from '@switchyard/conformance/outgoing';
import { type Broker, connect, type Outgoing, silentLogger } from '@switchyard/core';
import type { Driver, DriverModule, DriverProducer } from '@switchyard/core/driver';
import { driver } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import {
  benchConsumerOptions,
  compare,
  concurrently,
  cpuOf,
  markFirst,
  measure,
  type Phase,
  printRows,
  Rounds,
  rateOf,
  sizeLabel,
} from './measure.js';
import { roundOrder } from './round-order.js';
import { scalingRows } from './scaling.js';
import { type BenchRow, median, percentile } from './types.js';

const URL_DEFAULT = 'amqp://guest:guest@127.0.0.1:5672';
// `warm`: unmeasured rounds of the full count per contender before the measured ones (see the
// warm-up below for why the small sizes need more).
const SIZES = [
  { bytes: 256, count: 10_000, warm: 6 },
  { bytes: 64 * 1024, count: 1_500, warm: 4 },
  // 300, not 100: a 100-message drain took 0.3–0.9 s, so one consumer open (10 topology RPCs on
  // Switchyard's side), one major GC (8–10 per 100 MiB on either side) or a scheduling stall on a
  // 2-core machine decided a round; per-message client CPU was within a few % on all three sides.
  { bytes: 1024 * 1024, count: 300, warm: 2 },
] as const;
const PREFETCH = 200;
const WINDOW = 1_000;
const SENDERS = 1_000;
const LATENCY_COUNT = 5_000;
const LATENCY_BURST = 25;
const LATENCY_GAP_MS = 5;
// Five, not three: on 2 cores one round in three often lands on a GC or a scheduling stall of one
// side, and the median of three then moved by up to 0.2× between whole runs of the same code.
// Eight with four sides: two whole balanced cycles (round-order.ts), so each side follows each
// other side equally often; five ran one side after the same neighbour twice as often.
const ROUNDS = 8;
/** BENCH_RABBITMQ_WARMUP=n: n warm-up rounds at every size instead of SIZES' own (profiling). */
const WARMUP_OVERRIDE = process.env.BENCH_RABBITMQ_WARMUP;
const SCALE_COUNT = 10_000;
const BURST_COUNT = 100_000;
const BURST_SAMPLE_EVERY = 10_000;

/** One contender: fills its own queue, then drains it. */
export interface Contender {
  publish(body: Buffer, count: number): Promise<void>;
  consume(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function declare(url: string, name: string) {
  const admin = await amqp.connect(url);
  const setup = await admin.createChannel();
  await setup.assertExchange(name, 'topic', { durable: true });
  await setup.assertQueue(`${name}.bench`, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(`${name}.bench`, name, '#');
  return {
    setup,
    async drop() {
      await setup.deleteQueue(`${name}.bench`);
      await setup.deleteExchange(name);
      await admin.close();
    },
  };
}

/** What Switchyard publishes: persistent, mandatory (unroutable reported), id, type, timestamp. */
const properties = (i: number, headers: Record<string, string> = {}): amqp.Options.Publish => ({
  persistent: true,
  mandatory: true,
  messageId: `r-${i}`,
  contentType: 'application/octet-stream',
  timestamp: Math.floor(Date.now() / 1000),
  headers,
});

/**
 * Raw amqplib. Both modes use TCP_NODELAY like the driver: without it Nagle delays small frames
 * (acks) by ~40 ms.
 */
export async function rawContender(url: string, name: string, expert: boolean): Promise<Contender> {
  const topology = await declare(url, name);
  const connection = await amqp.connect(url, { noDelay: true });
  const publisher = await connection.createConfirmChannel();

  /** A promise per confirm, every message in flight at once (honouring drain). */
  async function publishEach(body: Buffer, count: number): Promise<void> {
    const confirms: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      let ok = true;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          ok = publisher.publish(name, '', body, properties(i), (e) => (e ? reject(e) : resolve()));
        }),
      );
      if (!ok) await new Promise((r) => publisher.once('drain', r));
    }
    await Promise.all(confirms);
  }

  return {
    publish: expert ? (body, count) => publishWindowed(publisher, name, body, count) : publishEach,
    async consume(count) {
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH);
      let n = 0;
      let unacked = 0;
      await new Promise<void>((resolve) => {
        void channel.consume(`${name}.bench`, (m) => {
          if (m === null) return;
          if (++n === 1) markFirst();
          if (!expert) channel.ack(m);
          // `multiple` acks everything up to m: one frame per PREFETCH / 2 deliveries.
          else if (++unacked >= PREFETCH / 2 || n === count) {
            channel.ack(m, true);
            unacked = 0;
          }
          if (n === count) resolve();
        });
      });
      await channel.close();
    },
    async close() {
      await connection.close();
      await topology.drop();
    },
  };
}

/** The expert: at most WINDOW unconfirmed; one shared callback counts confirms and wakes the sender. */
export async function publishWindowed(
  publisher: amqp.ConfirmChannel,
  exchange: string,
  body: Buffer,
  count: number,
): Promise<void> {
  let outstanding = 0;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const onConfirm = (error: unknown) => {
    if (error) failed ??= error instanceof Error ? error : new Error(String(error));
    outstanding--;
    if (wake && (outstanding <= WINDOW / 2 || outstanding === 0)) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  for (let i = 0; i < count; i++) {
    if (outstanding >= WINDOW) await new Promise<void>((r) => (wake = r));
    outstanding++;
    if (!publisher.publish(exchange, '', body, properties(i), onConfirm))
      await new Promise((r) => publisher.once('drain', r));
  }
  while (outstanding > 0) await new Promise<void>((r) => (wake = r));
  if (failed) throw failed;
}

/** What core hands the driver for `count` plain sends of `body`. */
export function driverMessages(body: Buffer, count: number): Outgoing[] {
  return Array.from({ length: count }, (_, i) => outgoing({ id: `d-${i}`, body, publishedAt: Date.now() }));
}

/** sendBatch with 4 batches in flight (the Producer's default maxInFlight); throws the first error. */
export async function sendInFourBatches(
  producer: DriverProducer,
  messages: readonly Outgoing[],
): Promise<void> {
  const batch = Math.ceil(messages.length / 4);
  const results = await Promise.all(
    [0, 1, 2, 3].map((k) => producer.sendBatch(messages.slice(k * batch, (k + 1) * batch))),
  );
  const failed = results.flat().find((r) => r instanceof Error);
  if (failed !== undefined) throw failed;
}

/** Switchyard: Broker / Producer / Consumer with the rabbitmq driver. */
export async function switchyardContender(broker: Broker, url: string, name: string): Promise<Contender> {
  // The group's queue exists up front (the driver's arguments) so the publish phase fills it.
  const topology = await declare(url, name);
  const producer = await broker.producer(name);
  // One caller for every phase, as a service's call site is: an arrow made per phase was compiled
  // again in each measured phase with send() inlined into it (V8 keeps an arrow's optimized code
  // only while it lives), a charge of the bench's, not of send().
  let body: Buffer = Buffer.alloc(0);
  const sendOne = () => producer.send({ body });
  return {
    async publish(next, count) {
      body = next;
      await concurrently(count, SENDERS, sendOne);
    },
    async consume(count) {
      const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
      const stop = new AbortController();
      let n = 0;
      await consumer.run(
        () => {
          if (++n === 1) markFirst();
          if (n === count) stop.abort();
        },
        { signal: stop.signal },
      );
      await consumer.close();
    },
    async close() {
      await producer.close();
      await topology.drop();
    },
  };
}

/**
 * The rabbitmq driver without the portable Producer and Consumer: sendBatch with 4 batches in
 * flight (the Producer's defaults), and receiveBatch of up to the prefetch with one ack() per batch
 * (as core's pump and AckBatcher call them). What the driver costs apart from core.
 */
export async function driverContender(
  url: string,
  name: string,
  driverModule: DriverModule = driver,
): Promise<Contender> {
  const instance = await driverModule.create(driverModule.fromUrl(new URL(url)), {
    logger: silentLogger,
    status: () => {},
  });
  const topology = await declare(url, name);
  const producer = await instance.openProducer(name, { driverOptions: {} });
  // Building the messages is core's work, not the driver's: made once per body and count (in the
  // warm-up, which uses the same ones), outside the measured rounds.
  let built: { body: Buffer; messages: Outgoing[] } | undefined;
  const messagesOf = (body: Buffer, count: number): Outgoing[] => {
    if (built?.body !== body || built.messages.length !== count)
      built = { body, messages: driverMessages(body, count) };
    return built.messages;
  };
  return {
    publish: (body, count) => sendInFourBatches(producer, messagesOf(body, count)),
    consume: (count) => drainWithDriver(instance, name, count, PREFETCH),
    async close() {
      await producer.close();
      await instance.close();
      await topology.drop();
    },
  };
}

/**
 * Drains `count` messages of group `bench` of `source` with the driver alone: receiveBatch of up to
 * the prefetch (as core's pump asks when it holds nothing) and one ack() per batch (as core's
 * AckBatcher hands them over per loop turn).
 */
export async function drainWithDriver(
  instance: Driver,
  source: string,
  count: number,
  prefetch: number,
): Promise<void> {
  const consumer = await instance.openConsumer(source, benchConsumerOptions(prefetch));
  let n = 0;
  while (n < count) {
    const batch = await consumer.receiveBatch(prefetch, 1_000);
    if (n === 0 && batch.length > 0) markFirst();
    n += batch.length;
    await consumer.ack(batch);
  }
  await consumer.close();
}

async function latencies(url: string, broker: Broker, id: string): Promise<{ raw: number[]; sy: number[] }> {
  const rawName = `bench-lat-raw-${id}`;
  const syName = `bench-lat-sy-${id}`;
  const rawTopology = await declare(url, rawName);
  const syTopology = await declare(url, syName);
  const connection = await amqp.connect(url, { noDelay: true });
  try {
    const publisher = await connection.createConfirmChannel();
    const channel = await connection.createChannel();
    await channel.prefetch(PREFETCH);
    const stamp = () => ({ t: String(performance.now() + performance.timeOrigin) });
    const age = (t: unknown) => performance.now() + performance.timeOrigin - Number(t);
    const raw: number[] = [];
    const rawDone = new Promise<void>((resolve) => {
      void channel.consume(`${rawName}.bench`, (m) => {
        if (m === null) return;
        raw.push(age(m.properties.headers?.t));
        channel.ack(m);
        if (raw.length === LATENCY_COUNT) resolve();
      });
    });
    const body = randomBytes(256);
    for (let i = 0; i < LATENCY_COUNT; i += LATENCY_BURST) {
      for (let j = 0; j < LATENCY_BURST; j++)
        publisher.publish(rawName, '', body, properties(i + j, stamp()));
      await new Promise((r) => setTimeout(r, LATENCY_GAP_MS));
    }
    await rawDone;

    const producer = await broker.producer(syName);
    const consumer = await broker.consumer(syName, { group: 'bench', prefetch: PREFETCH });
    const sy: number[] = [];
    const stop = new AbortController();
    const running = consumer.run(
      (m) => {
        sy.push(age(m.headers.t));
        if (sy.length === LATENCY_COUNT) stop.abort();
      },
      { signal: stop.signal },
    );
    for (let i = 0; i < LATENCY_COUNT; i += LATENCY_BURST) {
      for (let j = 0; j < LATENCY_BURST; j++) void producer.send({ body, headers: stamp() });
      await new Promise((r) => setTimeout(r, LATENCY_GAP_MS));
    }
    await running;
    await consumer.close();
    await producer.close();
    return { raw: raw.sort((a, b) => a - b), sy: sy.sort((a, b) => a - b) };
  } finally {
    await connection.close();
    await rawTopology.drop();
    await syTopology.drop();
  }
}

const PROFILE_PUBLISH =
  'the driver-alone row (sendBatch without the Producer) separates the driver from core; paired, the driver ' +
  'alone runs under the expert since it publishes one shared headers table (amqplib made a prototype map per ' +
  'fresh one) and makes no closures per batch; what core adds per send() — a promise, a queue entry, an ' +
  'Outgoing with its id, a receipt and the early report — is the price of independent send() calls that ' +
  'each resolve at their own confirm, per-call work a windowed raw publisher never does; from 16 KiB the ' +
  'driver writes bodies as frames pointing into them, where amqplib copies each frame into a zero-filled ' +
  "buffer whose pages the bench process maps afresh after glibc trims its heap (the expert's faults) " +
  '(docs/bench-profiles.md 17.11, 22.1, 22.2, 24.2)';
const PROFILE_CONSUME =
  'warm, Switchyard executes as many instructions per message as the expert (valgrind, docs/bench-profiles.md ' +
  '22.1); the phase holds, on its side only, the consumer open with its topology checks (scratch channels, ' +
  '~10 RPCs) and close — the "from the first message in hand" ratio leaves the opens out on both sides — ' +
  "and TurboFan work for the round's new consumer and handler. Against an in-process stand-in broker " +
  '(bench/fake-amqp.ts) run() costs 1.09–1.13× the expert at 10 deliveries per read since core takes a ' +
  "push driver's deliveries without a receive cycle (24.1): a Message, a handler call and its settle per " +
  'message. The driver-alone row (receiveBatch and ack without the Consumer) separates the ' +
  'driver from core; acks coalesce into `multiple` frames like the expert';

export async function benchRabbitmq(): Promise<BenchRow[]> {
  const url = process.env.SWITCHYARD_URL?.startsWith('amqp') ? process.env.SWITCHYARD_URL : URL_DEFAULT;
  const id = randomBytes(3).toString('hex');
  const broker: Broker = await connect(url);
  const contenders: Record<string, Contender> = {
    naive: await rawContender(url, `bench-naive-${id}`, false),
    expert: await rawContender(url, `bench-expert-${id}`, true),
    sy: await switchyardContender(broker, url, `bench-sy-${id}`),
    driver: await driverContender(url, `bench-drv-${id}`),
  };
  const rows: BenchRow[] = [];
  try {
    const settle = () => new Promise((r) => setTimeout(r, 200));
    for (const { bytes, count, warm } of SIZES) {
      const body = randomBytes(bytes);
      const publish = new Rounds();
      const consume = new Rounds();
      const order = Object.keys(contenders);
      // Warm-up: JIT and connections, not counted. TurboFan is not done with the larger paths
      // (core + driver) after a few hundred messages. With 500, the first two measured 256 B
      // publish rounds still compiled on V8's background threads (CPU µs per message, loaded
      // machine): Switchyard 14–26 against 11–13 once warm, the driver alone 11–21 against 7–9,
      // the raw publisher 13–19 against 7–9 in its first round (issue 18,
      // bench/profile-rabbitmq-publish.ts with WARMUP). With two full rounds, Switchyard's measured
      // 256 B phases still ran 3–10 TurboFan compiles each (25–95 ms of compile jobs per 10,000
      // messages, the expert's 0–5 and 0–35 ms): functions called once per batch or per socket
      // read (ack batching, the pump, confirms) run ≈ 400 times a round and reach TurboFan late.
      // Six rounds at 256 B took that to 0–7 compiles and 0–28 ms but one phase (BENCH_MARKERS=1
      // with --trace-opt, docs/bench-profiles.md 22.1); at 64 KiB and 1 MiB the compiles that
      // remain recur every round on both sides (code dropped at each mark-compact), so more
      // warm-up does not remove them there.
      const warmRounds = WARMUP_OVERRIDE === undefined ? warm : Number(WARMUP_OVERRIDE);
      for (const key of order) {
        for (let w = 0; w < warmRounds; w++) {
          await contenders[key]!.publish(body, count);
          await contenders[key]!.consume(count);
        }
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const key of roundOrder(order, round)) {
          const side = contenders[key]!;
          await settle();
          publish.add(key, await measure(count, () => side.publish(body, count), `${key} publish ${bytes}`));
          await settle();
          const drained: Phase = await measure(count, () => side.consume(count), `${key} consume ${bytes}`);
          consume.add(key, drained);
        }
      }
      const size = sizeLabel(bytes);
      const note = `${count} × ${size}, prefetch ${PREFETCH}, median of ${ROUNDS} after ${warmRounds} warm-up rounds of every side`;
      const naiveHow = 'a promise + callback per confirm, all in flight';
      rows.push(
        ...compare({
          label: `rabbitmq publish ${size}`,
          rounds: publish,
          expert: {
            key: 'expert',
            how: `ConfirmChannel, window of ${WINDOW} outstanding confirms, shared callback`,
          },
          naive: { key: 'naive', how: naiveHow },
          switchyard: { key: 'sy', how: `${SENDERS} concurrent send() calls` },
          note,
          profile: PROFILE_PUBLISH,
        }),
        {
          name: `rabbitmq publish ${size}: Switchyard driver sendBatch alone`,
          value: Math.round(median(publish.get('driver').map(rateOf))),
          unit: 'msg/s',
          cpuUsPerMsg: Math.round(median(publish.get('driver').map(cpuOf)) * 10) / 10,
          note: 'the driver without the portable Producer (4 batches in flight): what the driver costs vs core',
        },
        ...compare({
          label: `rabbitmq consume ${size}`,
          rounds: consume,
          expert: { key: 'expert', how: `ack with multiple every ${PREFETCH / 2}` },
          naive: { key: 'naive', how: 'one ack per message' },
          switchyard: { key: 'sy', how: 'run() with a handler' },
          note,
          profile: PROFILE_CONSUME,
        }),
        {
          name: `rabbitmq consume ${size}: Switchyard driver receiveBatch alone`,
          value: Math.round(median(consume.get('driver').map(rateOf))),
          unit: 'msg/s',
          cpuUsPerMsg: Math.round(median(consume.get('driver').map(cpuOf)) * 10) / 10,
          note: 'the driver without the portable Consumer (receiveBatch up to the prefetch, one ack() per batch): what the driver costs vs core',
        },
      );
    }
    const lat = await latencies(url, broker, id);
    const latNote = `${LATENCY_COUNT} × 256 B, ${LATENCY_BURST} every ${LATENCY_GAP_MS} ms`;
    const ms = (xs: number[], p: number) => Math.round(percentile(xs, p) * 100) / 100;
    rows.push(await heapDuringBurst(url, broker, id));
    rows.push(
      { name: 'rabbitmq e2e latency p50, raw amqplib', value: ms(lat.raw, 50), unit: 'ms', note: latNote },
      { name: 'rabbitmq e2e latency p50, Switchyard', value: ms(lat.sy, 50), unit: 'ms', note: latNote },
      { name: 'rabbitmq e2e latency p99, raw amqplib', value: ms(lat.raw, 99), unit: 'ms', note: latNote },
      { name: 'rabbitmq e2e latency p99, Switchyard', value: ms(lat.sy, 99), unit: 'ms', note: latNote },
    );
  } finally {
    for (const side of Object.values(contenders)) await side.close();
    await broker.close();
  }
  rows.push(...(await rabbitmqScaling(url, id)));
  return rows;
}

/**
 * The live heap (after a full GC, which runs synchronously) sampled inside a long burst: 100,000
 * 256 B messages published by concurrent send() calls while run() consumes them, sampled every
 * 10,000 deliveries from the handler. What pending acks, leases, confirms and buffers hold shows
 * here; after close() it has been released, so the sample is never taken there.
 */
export async function heapDuringBurst(url: string, broker: Broker, id: string): Promise<BenchRow> {
  const name = `bench-heap-${id}`;
  const topology = await declare(url, name);
  const producer = await broker.producer(name);
  const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
  const body = randomBytes(256);
  const gc = () => {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  };
  try {
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let received = 0;
    const stop = new AbortController();
    const consuming = consumer.run(
      () => {
        if (++received % BURST_SAMPLE_EVERY === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        }
        if (received === BURST_COUNT) stop.abort();
      },
      { signal: stop.signal },
    );
    await concurrently(BURST_COUNT, SENDERS, () => producer.send({ body }));
    await consuming;
    const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    return {
      name: `rabbitmq: live heap during a ${BURST_COUNT.toLocaleString('en')}-message publish+consume burst`,
      value: mib(peak - before),
      unit: 'MiB',
      note:
        `${mib(before)} → peak ${mib(peak)} MiB, 256 B, ${SENDERS} concurrent send() calls while run() ` +
        `consumes (prefetch ${PREFETCH}); sampled after a GC every ${BURST_SAMPLE_EVERY.toLocaleString('en')} deliveries, inside the burst`,
    };
  } finally {
    await consumer.close();
    await producer.close();
    await topology.drop();
  }
}

async function rabbitmqScaling(url: string, id: string): Promise<BenchRow[]> {
  const name = `bench-scale-${id}`;
  const topology = await declare(url, name);
  const connection = await amqp.connect(url, { noDelay: true });
  const publisher = await connection.createConfirmChannel();
  const body = randomBytes(256);
  try {
    return await scalingRows({
      label: 'rabbitmq scaling 256 B',
      target: url,
      destination: name,
      options: { group: 'bench', prefetch: PREFETCH },
      count: SCALE_COUNT,
      note: `Switchyard run(), prefetch ${PREFETCH} per process`,
      async fill(count) {
        await topology.setup.purgeQueue(`${name}.bench`);
        for (let i = 0; i < count; i++)
          if (!publisher.publish(name, '', body, properties(i)))
            await new Promise((r) => publisher.once('drain', r));
        await publisher.waitForConfirms();
      },
    });
  } finally {
    await connection.close();
    await topology.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchRabbitmq());
