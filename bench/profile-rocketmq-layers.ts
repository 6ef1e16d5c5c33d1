// RocketMQ: what Switchyard's own layers cost per send, with the client's send() stubbed (it
// resolves at once), at a given body size, for a CPU profile free of gRPC and the emulator.
// `switchyard` and `expert` send for real (1,000 concurrent send() calls; the raw client with 64
// in flight, as bench/rocketmq.ts does), one side per process, for a --cpu-prof of either alone.
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-rocketmq-layers.ts [bytes] [count] [layers|switchyard|expert]
// `receive` instead: the bench's two receive sides paired in one process, round after round, each
// on a fresh topic filled unmeasured: the expert's 2 receive(32) loops with an ack per message left
// in flight, and Switchyard's run() (prefetch 64, concurrency 32) + close(); each phase prints CPU
// per message on the main thread and the others, minor page faults per message and GCs.

import { PerformanceObserver } from 'node:perf_hooks';
import { connect } from '@switchyard/core';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, measure } from './measure.js';
import { expertReceive } from './rocketmq.js';
import { threadCpu } from './thread-cpu.js';

const bytes = Number(process.argv[2] ?? 1024 * 1024);
const count = Number(process.argv[3] ?? 200);
const side = process.argv[4] ?? 'layers';
const emulator = await startEmulatorProcess({ credentials: [{ secretId: 'token', secretKey: 'role' }] });
await emulator.rocketmqTopic('profile');
const endpoints = emulator.endpoints.rocketmq;
const broker = await connect({ driver: 'rocketmq', endpoints, token: 'token', role: 'role' });
const body = Buffer.alloc(bytes, 'x');
let send: () => Promise<unknown>;
let raw: Producer | undefined;
if (side === 'receive') {
  await pairedReceive();
  await broker.close();
  await emulator.stop();
  process.exit(0);
}
if (side === 'expert') {
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  raw = new Producer({
    endpoints,
    namespace: '',
    sessionCredentials: { accessKey: 'token', accessSecret: 'role' },
    logger: quiet,
    requestTimeout: 10_000,
    topics: ['profile'],
    maxAttempts: 1,
  });
  await raw.startup();
  send = () => raw!.send({ topic: 'profile', body });
} else {
  const producer = await broker.producer('profile');
  if (side === 'layers')
    producer.unwrap<{ send: () => Promise<unknown> }>().send = async () => ({ messageId: 'stub' });
  send = () => producer.send({ body });
}
const width = side === 'expert' ? 64 : 1_000;
await concurrently(20, 20, send);
for (let round = 0; round < 3; round++) {
  const phase = await measure(count, () => concurrently(count, width, send));
  console.log(
    `rocketmq ${side}, ${bytes} B: ${(phase.cpuUs / count).toFixed(1)} µs CPU/msg, ${Math.round((count / phase.ms) * 1000)} msg/s`,
  );
}
await raw?.shutdown();
await broker.close();
await emulator.stop();

/** The bench's receive sides (bench/rocketmq.ts), paired per round in this process. */
async function pairedReceive(): Promise<void> {
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const base = {
    endpoints,
    namespace: '',
    sessionCredentials: { accessKey: 'token', accessSecret: 'role' },
    logger: quiet,
    requestTimeout: 10_000,
  };
  const sy = await connect({
    driver: 'rocketmq',
    endpoints,
    token: 'token',
    role: 'role',
    longPollMs: 1_000,
    requestTimeoutMs: 10_000,
  });
  let gcs = 0;
  new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  let seq = 0;
  /** A fresh topic with `count` messages for group `<topic>-g` (subscribed before the sends). */
  const filled = async () => {
    const t = `recv-${++seq}`;
    await emulator.rocketmqTopic(t);
    const holder = new SimpleConsumer({
      ...base,
      consumerGroup: `${t}-g`,
      subscriptions: new Map([[t, '*']]),
    });
    await holder.startup();
    await holder.shutdown();
    const producer = new Producer({ ...base, topics: [t], maxAttempts: 1 });
    await producer.startup();
    await concurrently(count, 16, () => producer.send({ topic: t, body }));
    await producer.shutdown();
    return t;
  };
  const phase = async (label: string, work: () => Promise<unknown>) => {
    await new Promise((r) => setTimeout(r, 50));
    const g = gcs;
    const faults = process.resourceUsage().minorPageFault;
    const threads = threadCpu();
    const p = await measure(count, work);
    const after = threadCpu();
    const faulted = (process.resourceUsage().minorPageFault - faults) / count;
    await new Promise((r) => setTimeout(r, 50));
    const per = (ns: number) => (ns / 1_000 / count).toFixed(0);
    console.log(
      `${label.padEnd(6)} ${bytes} B: ${Math.round((count / p.ms) * 1000)} msg/s, ${(p.cpuUs / count).toFixed(0)} µs CPU/msg` +
        (threads && after
          ? ` [main ${per(after.main - threads.main)}, others ${per(after.others - threads.others)}]`
          : '') +
        `, ${faulted.toFixed(1)} minor page faults/msg, ${gcs - g} GCs`,
    );
  };
  for (let round = 0; round < 4; round++) {
    const te = await filled();
    const consumer = new SimpleConsumer({
      ...base,
      consumerGroup: `${te}-g`,
      subscriptions: new Map([[te, '*']]),
      awaitDuration: 1_000,
    });
    await consumer.startup();
    await phase('expert', () => expertReceive(consumer, count));
    await consumer.shutdown();
    const ts = await filled();
    const c = await sy.consumer(ts, { group: `${ts}-g`, prefetch: 64, concurrency: 32 });
    // drainWithRun's run() and close(), timed apart: close waits (bounded) for a receive still on
    // the wire, which long-polls once the topic is drained, to hand its messages back.
    let closeMs = 0;
    await phase('sy', async () => {
      let handled = 0;
      const done = new AbortController();
      await c.run(
        () => {
          if (++handled === count) done.abort();
        },
        { signal: done.signal },
      );
      const closing = performance.now();
      await c.close();
      closeMs = performance.now() - closing;
    });
    console.log(`       close() took ${closeMs.toFixed(0)} ms of the phase`);
  }
  await sy.close();
}
