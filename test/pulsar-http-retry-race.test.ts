// Retry-topic mode nacks by copy: core's CopyNacks has the driver copy the message to the group's
// retry topic, then acks the original. Two nacks of one delivery can overlap — the driver's own
// visibility timer fires (leaseExpired) while the portable layer's nack is still sending the copy
// (a starved event loop makes this common) — and must still make exactly one copy. Driven through
// CopyNacks and the driver contract so the overlap is certain, not timed.

import { outgoing } from '@switchyard/conformance/outgoing';
import { type Outgoing, silentLogger } from '@switchyard/core';
import { CopyNacks } from '@switchyard/core/driver';
import { driver, qualifyTopic, retryTopicName } from '@switchyard/pulsar-http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLUSTER, type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

let env: PulsarHttpEnv;
beforeAll(async () => {
  env = await startPulsarHttpEnv({ namespace: 'race' });
});
afterAll(() => env?.close());

const message = (body: string): Outgoing =>
  outgoing({
    id: `id-${body}`,
    body: new TextEncoder().encode(body),
    contentType: 'text/plain; charset=utf-8',
    publishedAt: Date.now(),
  });

it('two overlapping nacks of one delivery make one retry-topic copy', async () => {
  await env.createTopic('race-t', 'race');
  const { driver: _, ...options } = env.config({ namespace: 'race', mode: 'raw', nackMode: 'retry-topic' });
  const config = driver.parseConfig(options);
  const broker = await driver.create(config, { logger: silentLogger, status() {} });
  try {
    const producer = await broker.openProducer('race-t', { driverOptions: {} });
    const consumer = await broker.openConsumer('race-t', {
      group: 'g',
      filter: {},
      prefetch: 10,
      visibilityTimeoutMs: undefined,
      startFrom: 'earliest',
      deadLetter: undefined,
      driverOptions: {},
    });
    await producer.sendBatch([message('once')]);
    const got = [];
    const deadline = Date.now() + 15_000;
    while (got.length === 0 && Date.now() < deadline) got.push(...(await consumer.receiveBatch(10, 1_000)));
    expect(got).toHaveLength(1);
    const nacks = new CopyNacks(consumer, {
      transport: (operation) => operation(),
      ack: (delivery) => consumer.ack([delivery]),
      fellBack() {},
    });
    const [delivery] = got;
    await Promise.all([nacks.give(delivery!, 1), nacks.give(delivery!, 1)]);
    // Asked again after the copy was confirmed (a retried nack): acked again, never copied again.
    await nacks.give(delivery!, 1);
    const retry = retryTopicName(qualifyTopic('race-t', CLUSTER, 'race'), 'g');
    const topic = env.emulator.engines.pulsar.topic(CLUSTER, 'race', retry.topicName);
    const copies = topic.parts.reduce((n, part) => n + part.entries.length, 0);
    expect(copies).toBe(1);
    await consumer.close();
    await producer.close();
  } finally {
    await broker.close();
  }
});
