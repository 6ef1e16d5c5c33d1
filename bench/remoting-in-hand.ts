// How many messages a Switchyard RocketMQ 4.x Remoting consumer holds in this process — pulled
// from the broker and not yet settled — against its `prefetch`, and how long a message waits
// between its pull and its handler. Until §26.5 the driver pulled ahead into a buffer of its own
// while core held up to `prefetch` besides (up to twice prefetch and a pull per queue, §26.4);
// since, the driver counts both against prefetch. A slow handler (HANDLER_MS per message,
// concurrency 32) keeps the consumer full; every millisecond the script samples the
// pulled-and-unsettled count of every queue (QueueOffsets.inFlight) and core's share (taken by
// core, not yet acked), and it counts the consumer's PULL_MESSAGE requests (smaller pulls are
// what the bound may cost).
//   BYTES=256 HANDLER_MS=2 node --import tsx --conditions=switchyard-source bench/remoting-in-hand.ts \
//     [queues] [prefetch] [count]

import { connect } from '@switchyard/core';
import { RequestCode } from '@switchyard/rocketmq-remoting';
import { RemotingConsumer } from '../packages/rocketmq/src/remoting/consumer.js';
import { QueueOffsets } from '../packages/rocketmq/src/remoting/offsets.js';
import { ConnectionPool } from '../packages/rocketmq/src/remoting/pool.js';
import { concurrently } from './measure.js';
import { startRemotingEmulator } from './rocketmq-remoting.js';

const queues = Number(process.argv[2] ?? 1);
const prefetch = Number(process.argv[3] ?? 64);
const count = Number(process.argv[4] ?? 2_000);
const handlerMs = Number(process.env.HANDLER_MS ?? 2);
const bytes = Number(process.env.BYTES ?? 256);

// Every queue's offsets (registered on their first pull) and what core has taken and settled.
const live = new Set<QueueOffsets>();
const offsets = QueueOffsets.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const pulled = offsets.pulled!;
offsets.pulled = function (this: QueueOffsets, ...args: unknown[]) {
  live.add(this);
  return pulled.apply(this, args);
};
// Pull requests the consumer sends (what bounding the pulls by the room left may cost: smaller pulls).
// Messages the pulls brought (nextBeginOffset − queueOffset of each successful pull, no tags here):
// more than were consumed when a pull brought more than there was room for, left on the broker.
let pulls = 0;
let transferred = 0;
const poolProto = ConnectionPool.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const call = poolProto.call!;
poolProto.call = function (this: ConnectionPool, ...args: unknown[]) {
  const out = call.apply(this, args);
  if (args[1] !== RequestCode.PULL_MESSAGE) return out;
  pulls++;
  const from = (args[2] as { queueOffset: number }).queueOffset;
  void (out as Promise<{ code: number; extFields: Record<string, string> }>).then(
    (reply) => {
      if (reply.code === 0) transferred += Number(reply.extFields.nextBeginOffset) - from;
    },
    () => undefined,
  );
  return out;
};
let taken = 0;
let settled = 0;
const consumerProto = RemotingConsumer.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['takeReady', 'receiveBatch'] as const) {
  const original = consumerProto[name];
  if (original === undefined) continue;
  consumerProto[name] = function (this: RemotingConsumer, ...args: unknown[]) {
    const out = original.apply(this, args);
    if (Array.isArray(out)) taken += out.length;
    else
      void (out as Promise<unknown[]>).then(
        (d) => (taken += d.length),
        () => undefined,
      );
    return out;
  };
}
const ack = consumerProto.ack!;
consumerProto.ack = function (this: RemotingConsumer, deliveries: unknown) {
  settled += (deliveries as unknown[]).length;
  return ack.call(this, deliveries);
};

const { emulator, target } = await startRemotingEmulator();
const broker = await connect(target);
try {
  const topic = `in-hand-remoting-${process.pid}`;
  await emulator.rocketmqTopic(topic, queues);
  const producer = await broker.producer(topic);
  await concurrently(count, 1_000, () => producer.send({ body: Buffer.alloc(bytes, 'x') }));
  await producer.close();

  let maxInHand = 0;
  let maxCore = 0;
  let maxDriver = 0;
  let samples = 0;
  let sumInHand = 0;
  let maxArrayBuffers = 0;
  const sample = setInterval(() => {
    let inHand = 0;
    for (const o of live) inHand += o.inFlight;
    const core = taken - settled;
    maxInHand = Math.max(maxInHand, inHand);
    maxCore = Math.max(maxCore, core);
    maxDriver = Math.max(maxDriver, inHand - core);
    sumInHand += inHand;
    samples++;
    if (samples % 10 === 0) maxArrayBuffers = Math.max(maxArrayBuffers, process.memoryUsage().arrayBuffers);
  }, 1);
  const consumer = await broker.consumer(topic, {
    group: `${topic}-g`,
    prefetch,
    concurrency: 32,
    startFrom: 'earliest',
  });
  const started = performance.now();
  const pullsBefore = pulls;
  let handled = 0;
  const done = new AbortController();
  await consumer.run(
    async () => {
      await new Promise((r) => setTimeout(r, handlerMs));
      if (++handled === count) done.abort();
    },
    { signal: done.signal },
  );
  const ms = performance.now() - started;
  clearInterval(sample);
  await consumer.close();
  const rate = count / ms;
  const mean = sumInHand / samples;
  // Little's law: the mean time a message spends in hand is the mean number in hand over the rate.
  console.log(
    `queues ${queues}, prefetch ${prefetch}, ${count} × ${bytes} B, handler ${handlerMs} ms, concurrency 32: ` +
      `in hand max ${maxInHand} (mean ${mean.toFixed(1)}), core's max ${maxCore}, the driver's own max ${maxDriver}; ` +
      `${Math.round(rate * 1000)} msg/s, mean time in hand ${(mean / rate).toFixed(1)} ms; ` +
      `${((pulls - pullsBefore) / count).toFixed(4)} pulls per message, ${transferred} messages pulled; ` +
      `ArrayBuffer memory max ${(maxArrayBuffers / 2 ** 20).toFixed(1)} MiB (every 10 ms)`,
  );
} finally {
  await broker.close();
  await emulator.stop();
}
