// Native dead-lettering on the Remoting transport (config deadLetter: 'native'): a consumer's
// maxDeliveries becomes its send-backs' maxReconsumeTimes, so the broker itself moves a message to
// %DLQ%<group> after exactly maxDeliveries deliveries, counting across processes, and the
// portable layer never publishes a copy.
import { type Broker, DeadLetterHeaders, ErrorCode, type Message } from '@switchyard/core';
import { expect, it } from 'vitest';
import { fullName } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingEmulator } from './remoting-support.js';

const env = remotingEmulator({ defaults: { deadLetter: 'native' } });
const open = env.open;

async function receiveOne(consumer: Awaited<ReturnType<Broker['consumer']>>): Promise<Message> {
  const [m] = await consumer.receive({ max: 1, waitMs: 15_000 });
  if (m === undefined) throw new Error('no message came in 15 s');
  return m;
}

it('declares dead-lettering native only when the config asks for it', async () => {
  expect((await open()).capabilities.deadLetter).toBe('native');
  expect((await open({ deadLetter: 'emulated' })).capabilities.deadLetter).toBe('emulated');
});

it('the broker moves a handler-failed message to %DLQ%<group> after exactly maxDeliveries deliveries, counting across consumers', {
  timeout: 60_000,
}, async () => {
  const topic = 'native-max';
  const group = 'g-native-max';
  const dlqName = `%DLQ%${fullName(group)}`;
  env.emulator.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED', queues: 1 });
  const options = { group, maxDeliveries: 3, deadLetter: dlqName } as const;
  const first = await open();
  let consumer = await first.consumer(topic, options);
  await (await first.producer(topic)).send({ body: 'poison', keys: ['p-9'], headers: { tenant: 'acme' } });

  const attempts: number[] = [];
  const one = await receiveOne(consumer);
  attempts.push(one.deliveryAttempt);
  await one.nack();
  // A new process (broker connection and consumer) takes over: the count lives on the broker.
  await consumer.close();
  const second = await open();
  consumer = await second.consumer(topic, options);
  for (;;) {
    const m = await receiveOne(consumer);
    attempts.push(m.deliveryAttempt);
    if (m.deliveryAttempt >= 3) {
      // What a handler failure on the last attempt does: the portable layer dead-letters it.
      await m.deadLetter('still broken');
      break;
    }
    await m.nack();
  }
  expect(attempts).toEqual([1, 2, 3]);
  const dlq = await second.consumer(dlqName, { group: 'g-native-max-reader', startFrom: 'earliest' });
  const dead = await receiveOne(dlq);
  expect(dead.text()).toBe('poison');
  expect(dead.id).toBe(one.id);
  expect(dead.keys).toEqual(['p-9']);
  expect(dead.headers.tenant).toBe('acme');
  // The broker's move, not the portable layer's copy: no reason headers, and one copy only.
  expect(dead.headers[DeadLetterHeaders.reason]).toBeUndefined();
  await dead.ack();
  expect(await dlq.receive({ max: 1, waitMs: 1_500 })).toEqual([]);
  expect(await consumer.receive({ max: 1, waitMs: 1_500 })).toEqual([]);
});

it('a nack on the last attempt is moved by the broker too (maxReconsumeTimes = maxDeliveries − 1)', {
  timeout: 60_000,
}, async () => {
  const topic = 'native-nack';
  const group = 'g-native-nack';
  const dlqName = `%DLQ%${fullName(group)}`;
  env.emulator.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED', queues: 1 });
  const broker = await open();
  const consumer = await broker.consumer(topic, { group, maxDeliveries: 2, deadLetter: dlqName });
  await (await broker.producer(topic)).send('twice');
  const a = await receiveOne(consumer);
  await a.nack();
  const b = await receiveOne(consumer);
  expect(b.deliveryAttempt).toBe(2);
  // Not the portable dead-letter path: a plain nack, which the broker turns into the DLQ move.
  await b.nack();
  const dlq = await broker.consumer(dlqName, { group: 'g-native-nack-reader', startFrom: 'earliest' });
  const dead = await receiveOne(dlq);
  expect(dead.text()).toBe('twice');
  await dead.ack();
  expect(await consumer.receive({ max: 1, waitMs: 1_500 })).toEqual([]);
});

it('refuses a dead-letter destination other than the group’s own %DLQ%, naming the one it can use', async () => {
  env.emulator.engines.rocketmq.createTopic(fullName('native-other'), { type: 'MIXED', queues: 1 });
  const broker = await open();
  const error = await broker
    .consumer('native-other', { group: 'g-other', maxDeliveries: 3, deadLetter: 'somewhere-else' })
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ code: ErrorCode.UNSUPPORTED });
  expect(String((error as Error).message)).toContain(`%DLQ%${fullName('g-other')}`);
});
