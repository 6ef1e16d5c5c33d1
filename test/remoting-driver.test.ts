// The RocketMQ driver's Remoting transport against the emulator's Remoting name server + broker:
// what the conformance suite does not cover (native DLQ, broker-side offsets, rebalancing, ACL).
import { outgoing } from '@switchyard/conformance/outgoing';
import { type Broker, connect } from '@switchyard/core';
import type { Delivery } from '@switchyard/core/driver';
import type { RunningEmulator } from '@switchyard/emulator';
import { driver } from '@switchyard/rocketmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';
import { collect } from './remoting-support.js';

let emulator: RunningEmulator;
const brokers: Broker[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
  await emulator?.stop();
});

async function open(extra: Parameters<typeof remotingConfig>[1] = {}): Promise<Broker> {
  const broker = await connect(remotingConfig(emulator, extra));
  brokers.push(broker);
  return broker;
}

describe('rocketmq remoting transport', () => {
  it('sends and receives with tags, keys and headers', async () => {
    emulator.engines.rocketmq.createTopic(fullName('smoke'), { type: 'MIXED', queues: 2 });
    const broker = await open();
    const consumer = await broker.consumer('smoke', { group: 'g-smoke' });
    const producer = await broker.producer('smoke');
    await producer.send({ body: 'hello', tags: ['TagA'], keys: ['k1', 'k2'], headers: { tenant: 'acme' } });
    const [m] = await consumer.receive({ max: 1, waitMs: 10_000 });
    expect(m?.text()).toBe('hello');
    expect(m?.tags).toEqual(['TagA']);
    expect(m?.keys).toEqual(['k1', 'k2']);
    expect(m?.headers.tenant).toBe('acme');
    expect(m?.deliveryAttempt).toBe(1);
    await m?.ack();
  });
});

describe('rocketmq remoting: broker-side offsets, retry and membership', () => {
  it('commits only up to the lowest unacked offset: after a crash the group gets the unacked message and what follows', async () => {
    emulator.engines.rocketmq.createTopic(fullName('offsets'), { type: 'MIXED', queues: 1 });
    // The driver alone: the portable layer would nack what is unsettled on close, and a crash does not.
    const { driver: _name, ...fields } = remotingConfig(emulator);
    const config = driver.parseConfig(fields);
    const quiet = () => undefined;
    const context = { logger: { debug: quiet, info: quiet, warn: quiet, error: quiet }, status: quiet };
    const options = {
      group: 'g-offsets',
      filter: {},
      prefetch: 10,
      visibilityTimeoutMs: 60_000,
      startFrom: 'earliest' as const,
      deadLetter: undefined,
      driverOptions: {},
    };
    const producer = await (await driver.create(config, context)).openProducer('offsets', {
      driverOptions: {},
    });
    const crashing = await driver.create(config, context);
    const consumer = await crashing.openConsumer('offsets', options);
    const texts = (ds: Delivery[]) => ds.map((d) => new TextDecoder().decode(d.body));
    const message = (body: string, i: number) =>
      outgoing({
        id: `off-${i}`,
        body: new TextEncoder().encode(body),
        contentType: 'text/plain; charset=utf-8',
        publishedAt: Date.now(),
      });
    for (const [i, body] of ['m1', 'm2', 'm3'].entries()) await producer.sendBatch([message(body, i)]);
    const got: Delivery[] = [];
    while (got.length < 3) got.push(...(await consumer.receiveBatch(3 - got.length, 10_000)));
    expect(texts(got)).toEqual(['m1', 'm2', 'm3']);
    await consumer.ack([got[0]!, got[2]!]);
    await consumer.close();

    const again = await (await driver.create(config, context)).openConsumer('offsets', options);
    const redelivered: Delivery[] = [];
    while (redelivered.length < 2)
      redelivered.push(...(await again.receiveBatch(2 - redelivered.length, 10_000)));
    // m1 was committed; m2 held the commit back, so m2 and m3 come again (at least once).
    expect(texts(redelivered)).toEqual(['m2', 'm3']);
    expect(redelivered.map((d) => d.deliveryAttempt)).toEqual([1, 1]);
    await again.ack(redelivered);
    await again.close();
  });

  it('dead-letters natively to %DLQ%<group> after maxReconsumeTimes send-backs', async () => {
    emulator.engines.rocketmq.createTopic(fullName('native-dlq'), { type: 'MIXED', queues: 1 });
    const broker = await open({ maxReconsumeTimes: 1 });
    const consumer = await broker.consumer('native-dlq', { group: 'g-dlq' });
    await (await broker.producer('native-dlq')).send({ body: 'poison', keys: ['p-1'] });
    const [first] = await consumer.receive({ max: 1, waitMs: 10_000 });
    expect(first?.deliveryAttempt).toBe(1);
    await first!.nack();
    const [second] = await consumer.receive({ max: 1, waitMs: 10_000 });
    expect(second?.deliveryAttempt).toBe(2);
    expect(second?.id).toBe(first?.id);
    await second!.nack();
    // The DLQ topic is an ordinary topic a consumer can read, named as the broker names it.
    const dlq = await broker.consumer(`%DLQ%${fullName('g-dlq')}`, {
      group: 'g-dlq-reader',
      startFrom: 'earliest',
    });
    const [dead] = await dlq.receive({ max: 1, waitMs: 10_000 });
    expect(dead?.text()).toBe('poison');
    expect(dead?.id).toBe(first?.id);
    expect(dead?.keys).toEqual(['p-1']);
    await dead?.ack();
    expect(await consumer.receive({ max: 1, waitMs: 1_500 })).toEqual([]);
  });

  it("splits the queues between members, and a survivor takes over a leaver's unacked messages", async () => {
    emulator.engines.rocketmq.createTopic(fullName('members'), { type: 'MIXED', queues: 4 });
    const a = await open();
    const b = await open();
    const ca = await a.consumer('members', { group: 'g-members' });
    const cb = await b.consumer('members', { group: 'g-members' });
    const queues = (c: typeof ca) =>
      (c.unwrap() as { queues: Array<{ topic: string; queueId: number }> }).queues.filter(
        (q) => !q.topic.startsWith('%RETRY%'),
      ).length;
    // The first member learns of the second by the broker's notice or its next rebalance.
    while (queues(ca) !== 2) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queues(cb)).toBe(2);
    await (await a.producer('members')).send(Array.from({ length: 20 }, (_, i) => `w-${i}`));
    const byA = await ca.receive({ max: 20, waitMs: 5_000 });
    const byB = await collect(cb, 20 - byA.length);
    byA.push(...(await collect(ca, 20 - byA.length - byB.length)));
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    for (const m of byA) await m.ack();
    // b leaves with everything unacked: a must get all of it.
    await b.close({ timeoutMs: 5_000 });
    const takenOver: string[] = [];
    while (takenOver.length < byB.length) {
      const batch = await ca.receive({ max: 20, waitMs: 10_000 });
      expect(batch.length).toBeGreaterThan(0);
      for (const m of batch) {
        takenOver.push(m.text());
        await m.ack();
      }
    }
    expect(takenOver.sort()).toEqual(byB.map((m) => m.text()).sort());
    expect(new Set([...byA.map((m) => m.text()), ...takenOver]).size).toBe(20);
  });

  it('refuses a wrong role name with UNAUTHENTICATED, naming the fix and not the secret', async () => {
    emulator.engines.rocketmq.createTopic(fullName('acl'), { type: 'MIXED', queues: 1 });
    const broker = await open({ role: 'not-the-role-name' });
    const failure = await broker
      .producer('acl')
      .then((p) => p.send('x'))
      .then(
        () => undefined,
        (error: unknown) => error as Error & { code?: string; retryable?: boolean },
      );
    expect(failure?.code).toBe('UNAUTHENTICATED');
    expect(failure?.retryable).toBe(false);
    expect(failure?.message).toMatch(/role NAME/);
    expect(failure?.message).not.toContain('not-the-role-name');
  });

  it("delays with TDMQ's exact __STARTDELIVERTIME in startDeliverTime mode", async () => {
    emulator.engines.rocketmq.createTopic(fullName('start-deliver'), { type: 'MIXED', queues: 1 });
    const broker = await open({ delayMode: 'startDeliverTime' });
    const consumer = await broker.consumer('start-deliver', { group: 'g-start-deliver' });
    await (await broker.producer('start-deliver')).send({ body: 'later', delayMs: 2_500 });
    expect(await consumer.receive({ max: 1, waitMs: 1_000 })).toEqual([]);
    const [m] = await collect(consumer, 1);
    expect(m?.text()).toBe('later');
    const native = m?.unwrap<{ properties: Record<string, string> }>();
    expect(native?.properties.__STARTDELIVERTIME).toMatch(/^\d{13}$/);
    expect(native?.properties.DELAY).toBeUndefined();
    await m?.ack();
  });
});
