// Retry-topic mode: a pack gives the driver more messages than the portable layer asked for, and
// the driver holds the surplus. Closing gives that surplus back at once through core's nack by
// copy (copy to the group's retry topic, then ack), uncounted, because no handler saw it. The
// topic's ack timeout is set far beyond the test's run, so only that give-back can bring the held
// messages to the next consumer.

import { outgoing } from '@switchyard/conformance/outgoing';
import { type Delivery, type Outgoing, silentLogger } from '@switchyard/core';
import { driver, qualifyTopic, retryTopicName } from '@switchyard/pulsar-http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLUSTER, type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

const PACK = 5;
let env: PulsarHttpEnv;
beforeAll(async () => {
  env = await startPulsarHttpEnv({ namespace: 'closing', ackTimeoutMs: 3_600_000 });
});
afterAll(() => env?.close());

const message = (body: string): Outgoing =>
  outgoing({
    id: `id-${body}`,
    body: new TextEncoder().encode(body),
    contentType: 'text/plain; charset=utf-8',
    headers: { 'x-n': body },
    publishedAt: Date.now(),
  });

const consumerOptions = {
  group: 'g',
  filter: {},
  prefetch: 1,
  visibilityTimeoutMs: undefined,
  startFrom: 'earliest' as const,
  deadLetter: undefined,
  driverOptions: {},
};

it('close gives back held pack members by copy, uncounted, once each', async () => {
  await env.createTopic('closing-t', 'closing');
  const { driver: _, ...options } = env.config({
    namespace: 'closing',
    mode: 'envelope',
    pack: PACK,
    nackMode: 'retry-topic',
  });
  const broker = await driver.create(driver.parseConfig(options), { logger: silentLogger, status() {} });
  try {
    // The group's subscription exists before the send (a topic keeps messages for subscriptions).
    const first = await broker.openConsumer('closing-t', consumerOptions);
    const producer = await broker.openProducer('closing-t', { driverOptions: {} });
    await producer.sendBatch(['a', 'b', 'c', 'd', 'e'].map(message));
    await producer.close();
    let got: Delivery[] = [];
    while (got.length === 0) got = await first.receiveBatch(1, 1_000);
    expect(got).toHaveLength(1);
    await first.ack(got);
    await first.close();
    // One copy per held member, on the group's retry topic.
    const retry = retryTopicName(qualifyTopic('closing-t', CLUSTER, 'closing'), 'g');
    const topic = env.emulator.engines.pulsar.topic(CLUSTER, 'closing', retry.topicName);
    expect(topic.parts.reduce((n, part) => n + part.entries.length, 0)).toBe(PACK - 1);

    const second = await broker.openConsumer('closing-t', consumerOptions);
    const back: Delivery[] = [];
    while (back.length < PACK - 1) back.push(...(await second.receiveBatch(PACK, 1_000)));
    await second.ack(back);
    await second.close();

    const bodies = back.map((d) => new TextDecoder().decode(d.body));
    expect([...bodies, new TextDecoder().decode(got[0]!.body)].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    // No handler saw them: each comes back as a first delivery, with its id and headers.
    for (const d of back) {
      expect(d.deliveryAttempt).toBe(1);
      expect(d.id).toBe(`id-${new TextDecoder().decode(d.body)}`);
      expect(d.headers['x-n']).toBe(new TextDecoder().decode(d.body));
    }
  } finally {
    await broker.close();
  }
});
