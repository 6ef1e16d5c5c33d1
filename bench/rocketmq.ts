// RocketMQ: Switchyard vs the raw rocketmq-client-nodejs doing the same work in the same run,
// against an in-process emulator (both clients share its event loop equally). Send: N messages
// with 32 single-message sends in flight. Receive+ack: receive up to 32 at a time and ack each,
// until N are acked (raw: the client's ack(), one AckMessage per message, all 32 concurrently;
// Switchyard: message.ack(), which the portable layer coalesces and the driver sends as one
// AckMessage with many entries). Each side gets its own fresh topic and group; the rounds
// alternate sides and the best of the rounds counts, which damps the noise of a shared 2-core
// machine.
// Run alone: npx tsx --conditions=switchyard-source bench/rocketmq.ts

import { pathToFileURL } from 'node:url';
import { connect } from '@switchyard/core';
import { startEmulator } from '@switchyard/emulator';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const MESSAGES = 3_000;
const IN_FLIGHT = 32;
const ROUNDS = 3;
const TOKEN = 'bench-token';
const ROLE = 'bench-role';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

async function pool(n: number, width: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

export async function benchRocketmq(): Promise<BenchResult[]> {
  const emulator = await startEmulator({
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { longPolling: { minMs: 200, maxMs: 1_000 } },
  });
  const engine = emulator.engines.rocketmq;
  const endpoints = emulator.endpoints.rocketmq;
  const body = Buffer.from('x'.repeat(256));
  let topicSeq = 0;
  const best = { rawSend: 0, sySend: 0, rawRecv: 0, syRecv: 0 };

  const raw = async () => {
    const topic = `bench-raw-${++topicSeq}`;
    engine.createTopic(topic, { type: 'MIXED' });
    const base = {
      endpoints,
      namespace: '',
      sessionCredentials: { accessKey: TOKEN, accessSecret: ROLE },
      logger: quiet,
      requestTimeout: 3_000,
    };
    const consumer = new SimpleConsumer({
      ...base,
      consumerGroup: `${topic}-g`,
      subscriptions: new Map([[topic, '*']]),
      awaitDuration: 1_000,
    });
    await consumer.startup();
    const producer = new Producer({ ...base, topics: [topic], maxAttempts: 1 });
    await producer.startup();
    let started = performance.now();
    await pool(MESSAGES, IN_FLIGHT, () => producer.send({ topic, body }));
    best.rawSend = Math.max(best.rawSend, rate(MESSAGES, performance.now() - started));
    started = performance.now();
    let acked = 0;
    while (acked < MESSAGES) {
      const views = await consumer.receive(32, 30_000);
      await Promise.all(views.map((v) => consumer.ack(v)));
      acked += views.length;
    }
    best.rawRecv = Math.max(best.rawRecv, rate(MESSAGES, performance.now() - started));
    await producer.shutdown();
    await consumer.shutdown();
  };

  const switchyard = async () => {
    const topic = `bench-sy-${++topicSeq}`;
    engine.createTopic(topic, { type: 'MIXED' });
    const broker = await connect({
      driver: 'rocketmq',
      endpoints,
      token: TOKEN,
      role: ROLE,
      longPollMs: 1_000,
    });
    const consumer = await broker.consumer(topic, { group: `${topic}-g`, prefetch: 64 });
    const producer = await broker.producer(topic);
    let started = performance.now();
    await pool(MESSAGES, IN_FLIGHT, () => producer.send({ body }));
    best.sySend = Math.max(best.sySend, rate(MESSAGES, performance.now() - started));
    started = performance.now();
    let acked = 0;
    while (acked < MESSAGES) {
      const messages = await consumer.receive({ max: 32, waitMs: 1_000 });
      await Promise.all(messages.map((m) => m.ack()));
      acked += messages.length;
    }
    best.syRecv = Math.max(best.syRecv, rate(MESSAGES, performance.now() - started));
    await broker.close();
  };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        await raw();
        await switchyard();
      } else {
        await switchyard();
        await raw();
      }
    }
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await emulator.stop();
  }
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const note = `${MESSAGES} × 256 B, ${IN_FLIGHT} in flight, best of ${ROUNDS}, in-process emulator`;
  return [
    { name: 'send: raw rocketmq-client-nodejs', value: best.rawSend, unit: 'msg/s', note },
    { name: 'send: Switchyard', value: best.sySend, unit: 'msg/s', note },
    {
      name: 'send: Switchyard / raw',
      value: ratio(best.sySend, best.rawSend),
      unit: '×',
      note: 'target ≥ 0.95',
    },
    { name: 'receive+ack: raw rocketmq-client-nodejs', value: best.rawRecv, unit: 'msg/s', note },
    { name: 'receive+ack: Switchyard', value: best.syRecv, unit: 'msg/s', note },
    {
      name: 'receive+ack: Switchyard / raw',
      value: ratio(best.syRecv, best.rawRecv),
      unit: '×',
      note: 'target ≥ 0.95; Switchyard acks in one AckMessage per batch, raw one per message',
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchRocketmq();
  for (const row of rows)
    console.log(`${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
}
