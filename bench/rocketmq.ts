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
const ROUNDS = 3;
const SCALE_COUNT = 2_000;
const TOKEN = 'bench-token';
const ROLE = 'bench-role';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

const PROFILE =
  "both sides run the same gRPC client; the size-dependent extra is the driver's impliedContentType() " +
  '(packages/rocketmq/src/messages.ts), which walks every body byte by byte with an iterator and then ' +
  'decodes it to decide whether to add the content-type property (≈ 0.5 ms per 64 KiB, 9–25 ms per 1 MiB ' +
  'with the client stubbed); per message core adds the Producer queue entry, SendResult promise and deadline ' +
  'signal, and per delivery a Message, lease, handler promise and attempt tracker (docs/bench-profiles.md)';

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
          receive.add(
            'expert',
            await measure(count, async () => {
              let got = 0;
              const acks: Array<Promise<void>> = [];
              await Promise.all(
                Array.from({ length: RECEIVERS }, async () => {
                  while (got < count) {
                    const views = await consumer.receive(32, 30_000);
                    got += views.length;
                    for (const v of views) acks.push(consumer.ack(v));
                  }
                }),
              );
              await Promise.all(acks);
            }),
          );
          await producer.shutdown();
          await consumer.shutdown();
        },
        sy: async () => {
          const t = await topic();
          const consumer = await broker.consumer(t, { group: `${t}-g`, prefetch: 64, concurrency: 32 });
          const producer = await broker.producer(t);
          send.add(
            'sy',
            await measure(count, () => concurrently(count, SENDERS, () => producer.send({ body }))),
          );
          await producer.close();
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
    // The group exists (and so sees the backlog) before the first fill: a SimpleConsumer subscribes it.
    const holder = new SimpleConsumer({ ...base, consumerGroup: group, subscriptions: new Map([[t, '*']]) });
    await holder.startup();
    await holder.shutdown();
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
