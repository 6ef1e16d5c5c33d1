// RocketMQ 5 (emulator in a child process, so the process CPU measured is the client's): Switchyard
// vs the raw rocketmq-client-nodejs at its best settings, in the same run, paired per round, at
// 256 B, 64 KiB and 1 MiB, then 1, 2 and 4 consumer processes in one group.
//   expert raw: Producer.send with RAW_IN_FLIGHT sends in flight (maxAttempts 1, like the driver);
//               RECEIVERS SimpleConsumer.receive(32) loops, each view's ack() left in flight while
//               the next receive runs (the client acks one message per AckMessage)
//   Switchyard: 1,000 concurrent send() calls; run() with prefetch 64 and concurrency 32
// Run alone: npx tsx --conditions=switchyard-source bench/rocketmq.ts

import { pathToFileURL } from 'node:url';
import { connect } from '@switchyard/core';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { startEmulatorProcess } from './emulator-process.js';
import {
  alternate,
  compare,
  concurrently,
  drainWithRun,
  measure,
  printRows,
  Rounds,
  sizeLabel,
} from './measure.js';
import { scalingRows } from './scaling.js';
import type { BenchRow } from './types.js';

const SIZES = [
  { bytes: 256, count: 2_000 },
  { bytes: 64 * 1024, count: 300 },
  { bytes: 1024 * 1024, count: 20 },
] as const;
const RAW_IN_FLIGHT = 64;
const SENDERS = 1_000;
const RECEIVERS = 2;

/**
 * The expert's receive: RECEIVERS receive(32) loops until `count` arrived, each view's ack() left in
 * flight. Resolves to when the last message came in (performance.now()).
 */
export async function expertReceive(consumer: SimpleConsumer, count: number): Promise<number> {
  let got = 0;
  let last = 0;
  const acks: Array<Promise<void>> = [];
  await Promise.all(
    Array.from({ length: RECEIVERS }, async () => {
      while (got < count) {
        const views = await consumer.receive(32, 30_000);
        got += views.length;
        if (got >= count && last === 0) last = performance.now();
        for (const v of views) acks.push(consumer.ack(v));
      }
    }),
  );
  await Promise.all(acks);
  return last;
}

// Five, not three: on 2 cores one round in three often lands on a GC or a scheduling stall of one
// side, and the median of three then moved by up to 0.2× between whole runs of the same code.
const ROUNDS = 5;
const SCALE_COUNT = 2_000;
const TOKEN = 'bench-token';
const ROLE = 'bench-role';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

const PROFILE =
  'both sides run the same gRPC client with the same settings and the same allocations (3 × 1 MiB ArrayBuffers per ' +
  "1 MiB send or delivery on either side, counted); Switchyard's own layers (client's send() stubbed) cost " +
  "≈ 0.14–0.17 ms per 1 MiB send, ≈ 0.1 ms of it the content-type scan. At 1 MiB about half of either side's CPU is " +
  "V8's major GCs (1–4 mark-compacts of the whole heap per 20-message phase, 15–25 ms each), so one more in a " +
  "phase moves the row by ≈ 1 ms per message. Minor page faults at 1 MiB are no copy either (with glibc's mmap " +
  'threshold pinned every one of the 3 buffers is a fresh mapping: 732–776 faults per message on either side) but ' +
  "glibc's heap growing back after it trimmed what a collection freed, and in this one process the side with the " +
  "larger request pays: Switchyard's carries the content-type property (this body reads as text but is sent as " +
  "bytes), ≈ 60 bytes more, so it cannot reuse the expert's freed 1 MiB chunks while the expert reuses its (30 " +
  'paired rounds: 127 vs 19 faults per message; with a body sent without the property 26 vs 44; the raw Producer ' +
  'sending the same property against the plain one 41 vs 5, against Switchyard 61 vs 78; each side alone ' +
  "in its process 91 vs 89 at CPU 0.99×). Switchyard's send phase had more GCs while it was longer: core handed " +
  'the first maxInFlight (4) concurrent send() calls out as batches of one and the other 16 waited for the first ' +
  "to end (two waves; core now gathers one tick's sends: CPU 1.21–1.29× → 0.95–1.05× when measured). " +
  'Receive: on a backlog the driver keeps a second receive on the wire while a batch is handled, as the ' +
  "expert's two receive(32) loops (was one at a time: 1 MiB 0.56× → 0.70×, CPU 1.15× → 0.96× in two runs at " +
  "load 7-11). What remains at 1 MiB is the phase's end, not the client: all 20 messages come back in one " +
  "receive on either side; the expert's second loop long-polls from the phase's start (its idle 1 s poll " +
  'overlaps the 20 MiB transfer) and it stops receiving once it has counted `count`, whereas run(), which cannot ' +
  'know the count, keeps a receive on the wire after the last batch and close() waits that long poll out to hand ' +
  "back what it brings, rather than leave it invisible for the lease. The note's ratio up to the last message in " +
  "hand leaves that wait out on both sides (1.06× at 1 MiB in 21.5's run; docs/bench-profiles.md 20.4, 21.5)";

export async function benchRocketmq(): Promise<BenchRow[]> {
  const emulator = await startEmulatorProcess({
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { longPolling: { minMs: 200, maxMs: 1_000 } },
  });
  const endpoints = emulator.endpoints.rocketmq;
  const target = {
    driver: 'rocketmq',
    endpoints,
    token: TOKEN,
    role: ROLE,
    longPollMs: 1_000,
    requestTimeoutMs: 10_000,
  };
  const broker = await connect(target);
  const base = {
    endpoints,
    namespace: '',
    sessionCredentials: { accessKey: TOKEN, accessSecret: ROLE },
    logger: quiet,
    requestTimeout: 10_000,
  };
  let topicSeq = 0;
  const topic = async () => {
    const name = `bench-${++topicSeq}`;
    await emulator.rocketmqTopic(name);
    return name;
  };
  /** Subscribes `group` to `topic` (so it sees what is sent from now on) without receiving. */
  const subscribe = async (topic: string, group: string) => {
    const holder = new SimpleConsumer({
      ...base,
      consumerGroup: group,
      subscriptions: new Map([[topic, '*']]),
    });
    await holder.startup();
    await holder.shutdown();
  };
  const rows: BenchRow[] = [];
  try {
    for (const { bytes, count } of SIZES) {
      const body = Buffer.alloc(bytes, 'x');
      const send = new Rounds();
      const receive = new Rounds();
      const sides = {
        expert: async () => {
          const t = await topic();
          const consumer = new SimpleConsumer({
            ...base,
            consumerGroup: `${t}-g`,
            subscriptions: new Map([[t, '*']]),
            awaitDuration: 1_000,
          });
          await consumer.startup();
          const producer = new Producer({ ...base, topics: [t], maxAttempts: 1 });
          await producer.startup();
          send.add(
            'expert',
            await measure(count, () =>
              concurrently(count, RAW_IN_FLIGHT, () => producer.send({ topic: t, body })),
            ),
          );
          const started = performance.now();
          let last = 0;
          const phase = await measure(count, async () => {
            last = await expertReceive(consumer, count);
          });
          receive.add('expert', { ...phase, lastMs: last - started });
          await producer.shutdown();
          await consumer.shutdown();
        },
        sy: async () => {
          const t = await topic();
          // The group must exist before the send (a new group starts after what was already
          // sent), but a Switchyard consumer prefetches from the moment it opens: opened here,
          // it would receive during the send phase (its CPU counted as the send's, up to 64 MiB
          // at 1 MiB) and start the receive phase with a full buffer. The expert's SimpleConsumer
          // pulls only when asked, so here a SimpleConsumer subscribes the group, as on that side.
          await subscribe(t, `${t}-g`);
          const producer = await broker.producer(t);
          send.add(
            'sy',
            await measure(count, () => concurrently(count, SENDERS, () => producer.send({ body }))),
          );
          await producer.close();
          const consumer = await broker.consumer(t, { group: `${t}-g`, prefetch: 64, concurrency: 32 });
          receive.add('sy', await drainWithRun(consumer, count));
        },
      };
      await alternate(ROUNDS, sides, [send, receive]);
      const size = sizeLabel(bytes);
      const note = `${count} × ${size}, median of ${ROUNDS}`;
      rows.push(
        ...compare({
          label: `rocketmq send ${size}`,
          rounds: send,
          expert: { key: 'expert', how: `Producer.send, ${RAW_IN_FLIGHT} in flight` },
          switchyard: { key: 'sy', how: `${SENDERS} concurrent send()` },
          note,
          profile: PROFILE,
        }),
        ...compare({
          label: `rocketmq receive+ack ${size}`,
          rounds: receive,
          expert: { key: 'expert', how: `${RECEIVERS} receive(32) loops, ack() per message left in flight` },
          switchyard: { key: 'sy', how: 'run(), prefetch 64, concurrency 32' },
          note,
          profile: PROFILE,
        }),
      );
    }
    const t = await topic();
    const group = `${t}-scale`;
    // The group exists (and so sees the backlog) before the first fill.
    await subscribe(t, group);
    const producer = new Producer({ ...base, topics: [t], maxAttempts: 1 });
    await producer.startup();
    const body = Buffer.alloc(256, 'x');
    rows.push(
      ...(await scalingRows({
        label: 'rocketmq scaling 256 B',
        target,
        destination: t,
        options: { group, prefetch: 64, concurrency: 32 },
        count: SCALE_COUNT,
        note: 'Switchyard run() per process; one emulator process serves them all',
        fill: (n) => concurrently(n, RAW_IN_FLIGHT, () => producer.send({ topic: t, body })),
      })),
    );
    await producer.shutdown();
  } finally {
    await broker.close();
    await emulator.stop();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchRocketmq());
