// The real PushConsumer against the emulator: QueryAssignment, auto-renew long polls, acks after
// SUCCESS, nack (ChangeInvisibleDuration) and redelivery after FAILURE, dead-lettering when
// attempts run out, and FIFO groups (ordered, with the client's own ForwardMessageToDeadLetterQueue).

import { ConsumeResult, Producer, PushConsumer } from 'rocketmq-client-nodejs';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOptions, eventually, startTestServer, teardown } from '../../test-kit/rocketmq.js';
import type { RocketMqServer } from './server.js';

let server: RocketMqServer | undefined;
const clients: { shutdown(): Promise<unknown> }[] = [];
afterEach(() => teardown(server, clients));

// A short announced long poll: the client's shutdown waits for in-flight receives.
const PUSH = { pushLongPollingMs: 500 };

interface Seen {
  body: string;
  attempt: number;
}

async function start(
  s: RocketMqServer,
  group: string,
  topic: string,
  consume: (m: { body: Buffer; deliveryAttempt?: number }) => ConsumeResult,
) {
  const consumer = new PushConsumer({
    ...clientOptions(s),
    consumerGroup: group,
    subscriptions: new Map([[topic, '*']]),
    messageListener: { consume: async (m) => consume(m) },
  });
  clients.push(consumer);
  await consumer.startup();
  const producer = new Producer({ ...clientOptions(s), topics: [topic] });
  clients.push(producer);
  await producer.startup();
  return { consumer, producer };
}

describe('PushConsumer (real client)', () => {
  it('consumes with a listener; SUCCESS acks', async () => {
    server = await startTestServer(PUSH);
    const seen: Seen[] = [];
    const { producer } = await start(server, 'GP', 'P1', (m) => {
      seen.push({ body: m.body.toString(), attempt: m.deliveryAttempt ?? 0 });
      return ConsumeResult.SUCCESS;
    });
    for (const body of ['m1', 'm2', 'm3']) await producer.send({ topic: 'P1', body: Buffer.from(body) });
    await eventually(() => seen.length >= 3);
    expect(seen.map((s) => s.body).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(seen.every((s) => s.attempt === 1)).toBe(true);
    const s = server;
    await eventually(() => {
      const g = (
        s.engine.inspect() as { groups: { name: string; progress: Record<string, { done: number }> }[] }
      ).groups;
      return g.find((x) => x.name === 'GP')?.progress.P1?.done === 3;
    });
  });

  it('FAILURE nacks; the message comes back with delivery attempt 2', async () => {
    server = await startTestServer(PUSH);
    const seen: Seen[] = [];
    const { producer } = await start(server, 'GP', 'P1', (m) => {
      seen.push({ body: m.body.toString(), attempt: m.deliveryAttempt ?? 0 });
      return m.deliveryAttempt === 1 ? ConsumeResult.FAILURE : ConsumeResult.SUCCESS;
    });
    await producer.send({ topic: 'P1', body: Buffer.from('retry-me') });
    await eventually(() => seen.length >= 2);
    expect(seen).toEqual([
      { body: 'retry-me', attempt: 1 },
      { body: 'retry-me', attempt: 2 },
    ]);
  });

  it('a message that always fails goes to %DLQ%<group> after the maximum attempts', async () => {
    server = await startTestServer(PUSH);
    server.engine.createGroup('GP', { maxDeliveryAttempts: 2 });
    const attempts: number[] = [];
    const { producer } = await start(server, 'GP', 'P1', (m) => {
      attempts.push(m.deliveryAttempt ?? 0);
      return ConsumeResult.FAILURE;
    });
    const { messageId } = await producer.send({ topic: 'P1', body: Buffer.from('poison') });
    const s = server;
    await eventually(() => s.engine.messages('%DLQ%GP').length === 1);
    expect(s.engine.messages('%DLQ%GP')[0]?.messageId).toBe(messageId);
    expect(attempts).toEqual([1, 2]);
  });

  it('a FIFO group consumes each message group in order and dead-letters through the client', async () => {
    server = await startTestServer(PUSH);
    server.engine.createTopic('PF', { type: 'FIFO' });
    server.engine.createGroup('GF', { fifo: true, maxDeliveryAttempts: 2 });
    const order: string[] = [];
    const { producer, consumer } = await start(server, 'GF', 'PF', (m) => {
      const body = m.body.toString();
      order.push(body);
      return body === 'bad' ? ConsumeResult.FAILURE : ConsumeResult.SUCCESS;
    });
    expect(consumer.getPushConsumerSettings().isFifo()).toBe(true);
    const bodies = ['a1', 'a2', 'bad', 'a3', 'a4'];
    for (const body of bodies)
      await producer.send({ topic: 'PF', messageGroup: 'g1', body: Buffer.from(body) });
    await eventually(() => order.filter((b) => b !== 'bad').length >= 4);
    // 'bad' is retried locally (max attempts 2) and then forwarded to the DLQ by the client.
    expect(order).toEqual(['a1', 'a2', 'bad', 'bad', 'a3', 'a4']);
    const s = server;
    await eventually(() => s.engine.messages('%DLQ%GF').length === 1);
    expect(s.engine.messages('%DLQ%GF')[0]?.body.toString()).toBe('bad');
  });
});
