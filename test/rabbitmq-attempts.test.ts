// Delivery attempts on RabbitMQ classic queues are carried with the message (x-switchyard-attempts
// on a checkpoint copy of each redelivered message), never counted per message id: distinct
// messages with the same body or the same message_id each get their own count. A message that
// crashes its consumer process is dead-lettered after exactly maxDeliveries runs, across restarts,
// on classic queues (the carried count) and quorum queues (the broker's x-delivery-limit); these
// and the shared-id run are rows of docs/reliability.md's crash table.

import { type Broker, connect, type Message } from '@switchyard/core';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectBounded,
  expectHealthy,
  MAX as MAX_CRASHES,
  runCrashLoop,
  runHealthySharedId,
} from './crash-loop-scenarios.js';
import { BROKER_HOST, BROKER_PORT, createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

const MAX = 2;

let test: TestVhost;
let plain: amqp.ChannelModel;
let channel: amqp.ConfirmChannel;
let broker: Broker;

beforeAll(async () => {
  test = await createTestVhost('attempts');
  plain = await amqp.connect({
    hostname: BROKER_HOST,
    port: BROKER_PORT,
    username: test.user,
    password: test.password,
    vhost: encodeURIComponent(test.vhost),
  });
  channel = await plain.createConfirmChannel();
  broker = await connect(test.url);
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 5_000 });
  await plain?.close().catch(() => {});
  await test?.cleanup();
});

function publish(exchange: string, routingKey: string, body: Buffer, options: amqp.Options.Publish = {}) {
  return new Promise<void>((resolve, reject) =>
    channel.publish(exchange, routingKey, body, options, (e) => (e ? reject(e) : resolve())),
  );
}

let ready = -1;

async function until(
  predicate: () => boolean,
  ms: number,
  what: string,
  refresh: () => Promise<void> = async () => {},
): Promise<void> {
  const deadline = Date.now() + ms;
  await refresh();
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await refresh();
  }
}

/** Plain messages with one body, told apart only by a header; each fails once, then succeeds. */
async function identicalMessages(source: string, messageId: (n: number) => string | undefined) {
  const dlq = `${source}-dlq`;
  const dead = await broker.consumer(dlq, { group: 'reader' });
  const consumer = await broker.consumer(source, {
    group: 'workers',
    maxDeliveries: MAX,
    deadLetter: dlq,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
  });
  const n = 20;
  for (let i = 0; i < n; i++) {
    const id = messageId(i);
    await publish(source, 'same.key', Buffer.from('same body'), {
      headers: { n: String(i) },
      ...(id === undefined ? {} : { messageId: id }),
    });
  }
  const attempts = new Map<string, number[]>();
  const done = new Set<string>();
  const stop = new AbortController();
  const run = consumer.run(
    (m: Message) => {
      const key = m.headers.n!;
      const seen = attempts.get(key) ?? [];
      seen.push(m.deliveryAttempt);
      attempts.set(key, seen);
      if (seen.length === 1) throw new Error('first try fails');
      done.add(key);
    },
    { signal: stop.signal },
  );
  // Each message is either handled or dead-lettered, so all handled means none was dead-lettered.
  await until(() => done.size === n, 30_000, `${n} messages handled`);
  stop.abort();
  await run;
  await consumer.close();
  const deadLettered = await dead.receive({ max: n, waitMs: 200 });
  await dead.close();
  return { n, attempts, deadLettered };
}

describe('rabbitmq classic queue: attempts are carried with each message', () => {
  it('messages with the same body and no message_id each get their own count', async () => {
    const { n, attempts, deadLettered } = await identicalMessages('same-body', () => undefined);
    expect(deadLettered).toHaveLength(0);
    expect([...attempts.values()]).toEqual(Array.from({ length: n }, () => [1, 2]));
  });

  it('messages sharing one message_id each get their own count', async () => {
    const { n, attempts, deadLettered } = await identicalMessages('same-id', () => 'order-1');
    expect(deadLettered).toHaveLength(0);
    expect([...attempts.values()]).toEqual(Array.from({ length: n }, () => [1, 2]));
  });

  it('a message Switchyard nacks goes back to its queue, where a plain consumer takes it intact', async () => {
    const consumer = await broker.consumer('nacked', { group: 'g', prefetch: 1 });
    await publish('nacked', 'eu.new', Buffer.from('give it back'), {
      headers: { tenant: 'acme', n: 7 },
      contentType: 'text/plain',
      correlationId: 'corr-1',
    });
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('give it back');
    await m!.nack();
    await consumer.close();
    // Switchyard may have taken it again before its close (then it left its checkpoint copy): in
    // both cases exactly one message waits in the queue, with what the sender wrote.
    const queue = 'nacked.g';
    const got = await channel.get(queue, { noAck: true });
    expect(got).not.toBe(false);
    const msg = got as amqp.GetMessage;
    expect(msg.content.toString()).toBe('give it back');
    expect(msg.properties.contentType).toBe('text/plain');
    expect(msg.properties.correlationId).toBe('corr-1');
    expect(msg.properties.headers).toMatchObject({ tenant: 'acme', n: 7 });
    const routingKey =
      msg.fields.exchange === ''
        ? msg.properties.headers?.['x-switchyard-routing-key']
        : msg.fields.routingKey;
    expect(routingKey).toBe('eu.new');
    expect(await channel.get(queue, { noAck: true })).toBe(false);
  });

  it('messages prefetched but never handed out go back on close uncounted', async () => {
    const first = await broker.consumer('unseen', { group: 'g', prefetch: 5 });
    const producer = await broker.producer('unseen');
    await producer.send(['m0', 'm1', 'm2', 'm3', 'm4']);
    const [taken] = await first.receive({ waitMs: 5_000 });
    await taken!.ack();
    // Every message is delivered to `first` (none left ready in the queue) before it closes, so
    // the rest are given back from its buffers, not just never delivered.
    await until(
      () => ready === 0,
      10_000,
      'all messages delivered to the first consumer',
      async () => {
        ready = (await channel.checkQueue('unseen.g')).messageCount;
      },
    );
    await first.close();
    const second = await broker.consumer('unseen', { group: 'g' });
    const got: Message[] = [];
    while (got.length < 4) {
      const batch = await second.receive({ max: 4, waitMs: 5_000 });
      if (batch.length === 0) break;
      got.push(...batch);
    }
    for (const m of got) await m.ack();
    await second.close();
    await producer.close();
    expect(got.map((m) => m.text()).sort()).toEqual(
      ['m0', 'm1', 'm2', 'm3', 'm4'].filter((b) => b !== taken!.text()),
    );
    expect(got.map((m) => m.deliveryAttempt)).toEqual([1, 1, 1, 1]);
  });

  it('20 healthy messages sharing one message_id are never dead-lettered (report row)', async () => {
    const source = 'healthy-shared';
    // The group's queue exists (and is bound) before anything is sent to it.
    await (await broker.consumer(source, { group: 'svc' })).close();
    const run = await runHealthySharedId({ broker, source, group: 'svc', deadLetter: `${source}-dlq` });
    await expectHealthy(
      'rabbitmq (classic queues)',
      run,
      'one message_id; the count is carried with each message',
    );
  });
});

for (const queueType of ['classic', 'quorum'] as const) {
  describe(`rabbitmq ${queueType} queue: a message that crashes its consumer process`, () => {
    it('is dead-lettered after exactly maxDeliveries crashes, across restarts', {
      // Up to maxDeliveries + 2 children of at most 60 s each, on a loaded machine.
      timeout: 420_000,
    }, async () => {
      const url = queueType === 'classic' ? test.url : `${test.url}?queueType=quorum`;
      const own = await connect(url);
      try {
        const run = await runCrashLoop({
          broker: own,
          url,
          source: `crash-${queueType}`,
          group: 'svc',
          deadLetter: `crash-${queueType}-dlq`,
          runs: MAX_CRASHES + 2,
        });
        await expectBounded(
          `rabbitmq (${queueType} queues)`,
          run,
          queueType === 'classic'
            ? 'the count is carried (x-switchyard-attempts on a checkpoint copy of each redelivered message); the 4th delivery is dead-lettered before any handler'
            : 'x-delivery-limit = maxDeliveries − 1 on the queue',
          queueType === 'classic' ? 'the portable layer' : 'the broker',
        );
        const [copy] = run.result.deadLettered;
        expect(copy!.headers).toMatchObject({ kind: 'bad' });
      } finally {
        await own.close({ timeoutMs: 5_000 });
      }
    });
  });
}
