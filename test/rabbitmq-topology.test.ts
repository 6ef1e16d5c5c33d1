// Joining a topology Switchyard did not make, on the real broker: exchanges of any type and
// durability and named queues with their own arguments are used as they are; only what is missing
// is declared, with the settings the user chose; errors name the exchange or queue and the fix.

import { type Broker, connect } from '@switchyard/core';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROKER_HOST,
  BROKER_PORT,
  createTestVhost,
  rabbitmqctl,
  type TestVhost,
} from './rabbitmq-helpers.js';

let test: TestVhost;
let admin: amqp.ChannelModel;
let ch: amqp.Channel;
const brokers: Broker[] = [];

beforeAll(async () => {
  test = await createTestVhost('topology');
  admin = await amqp.connect(test.url);
  ch = await admin.createChannel();
});
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  await admin?.close().catch(() => {});
  await test?.cleanup();
});

async function open(extra: Record<string, unknown> = {}): Promise<Broker> {
  const broker = await connect({
    driver: 'rabbitmq',
    host: BROKER_HOST,
    port: BROKER_PORT,
    username: test.user,
    password: test.password,
    vhost: test.vhost,
    ...extra,
  });
  brokers.push(broker);
  return broker;
}

/** rabbitmqctl rows for one name: what the broker really holds. */
async function row(what: 'exchanges' | 'queues', name: string, ...columns: string[]) {
  const out = await rabbitmqctl(`list_${what}`, '-p', test.vhost, 'name', ...columns, '--no-table-headers');
  const cols = out
    .split('\n')
    .map((l) => l.split('\t'))
    .find((c) => c[0] === name);
  return cols === undefined ? undefined : Object.fromEntries(columns.map((c, i) => [c, cols[i + 1]]));
}

async function bindingsOf(queue: string): Promise<string[]> {
  const out = await rabbitmqctl(
    'list_bindings',
    '-p',
    test.vhost,
    'source_name',
    'destination_name',
    'routing_key',
    '--no-table-headers',
  );
  return out
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((c) => c[1] === queue && c[0] !== '')
    .map((c) => `${c[0]}:${c[2]}`)
    .sort();
}

describe('what exists is used as it is', () => {
  it('an exchange of another type and durability, with arguments, is joined by producers and consumers', async () => {
    await ch.assertExchange('ae-target', 'fanout', { durable: false });
    await ch.assertExchange('legacy', 'fanout', {
      durable: false,
      autoDelete: false,
      arguments: { 'alternate-exchange': 'ae-target' },
    });
    const broker = await open(); // topic, durable: would fail 406 if it redeclared
    const consumer = await broker.consumer('legacy', { group: 'g' });
    const producer = await broker.producer('legacy');
    await producer.send({ body: 'joined', routingKey: 'any.key' });
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('joined');
    await m?.ack();
    expect(await row('exchanges', 'legacy', 'type', 'durable')).toEqual({ type: 'fanout', durable: 'false' });
  });

  it('a named queue with its own arguments is consumed as it is, bound only when asked', async () => {
    await ch.assertQueue('their-queue', { durable: false, arguments: { 'x-max-length': 100 } });
    const broker = await open({ queueType: 'quorum' }); // would be refused 406 if it redeclared
    const consumer = await broker.consumer('orders', { driverOptions: { queue: 'their-queue' } });
    expect(await bindingsOf('their-queue')).toEqual([]);
    ch.sendToQueue('their-queue', Buffer.from('direct to the queue'));
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('direct to the queue');
    await m?.ack();
    await consumer.close();

    // With routing keys the user asked for a binding: made, and the exchange declared if missing.
    const bound = await broker.consumer('orders', {
      filter: { routingKeys: ['order.created'] },
      driverOptions: { queue: 'their-queue' },
    });
    expect(await bindingsOf('their-queue')).toEqual(['orders:order.created']);
    const producer = await broker.producer('orders');
    await producer.send({ body: 'routed', routingKey: 'order.created' });
    const [r] = await bound.receive({ waitMs: 5_000 });
    expect(r?.text()).toBe('routed');
    await r?.ack();
    expect(await row('queues', 'their-queue', 'durable', 'arguments')).toMatchObject({ durable: 'false' });
  });

  it('a queue exclusive to another connection can be published to, not consumed', async () => {
    // The seed consumer's kind of queue: exclusive to the connection that declared it.
    const owner = await admin.createChannel();
    await owner.assertQueue('owned', { exclusive: true, durable: true });
    const got = new Promise<string>((resolve) => {
      void owner.consume('owned', (msg) => msg && resolve(msg.content.toString()), { noAck: true });
    });
    const broker = await open();
    const producer = await broker.producer('owned', { driverOptions: { queue: true } });
    await producer.send('to the owner');
    expect(await got).toBe('to the owner');
    const error = await broker.consumer('x', { driverOptions: { queue: 'owned' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PERMISSION_DENIED',
      details: { resourceLocked: true, queue: 'owned' },
    });
    await owner.close();
  });

  it('check mode consumes an existing named queue (no <exchange>.<group> queue needed)', async () => {
    await ch.assertQueue('console-queue', { durable: true });
    const broker = await open({ topology: 'check' });
    const consumer = await broker.consumer('nowhere', { driverOptions: { queue: 'console-queue' } });
    ch.sendToQueue('console-queue', Buffer.from('hello'));
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('hello');
    await m?.ack();
    expect(await row('queues', 'nowhere.default')).toBeUndefined();

    const error = await broker
      .consumer('nowhere', { driverOptions: { queue: 'no-such-queue' } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false, details: { queue: 'no-such-queue' } });
    expect((error as Error).message).toMatch(/queue "no-such-queue" does not exist.*driverOptions/);
  });
});

describe('what is missing is declared with the chosen settings', () => {
  it('exchange and group queue durability, auto-delete and arguments come from the config', async () => {
    const broker = await open({
      exchangeDurable: false,
      exchangeArguments: { 'alternate-exchange': 'nowhere-ae' },
      queueDurable: false,
      queueArguments: { 'x-max-length': 7 },
    });
    const consumer = await broker.consumer('chosen', { group: 'g' });
    expect(await row('exchanges', 'chosen', 'type', 'durable', 'arguments')).toEqual({
      type: 'topic',
      durable: 'false',
      arguments: '[{"alternate-exchange","nowhere-ae"}]',
    });
    const q = await row('queues', 'chosen.g', 'durable', 'auto_delete', 'arguments');
    expect(q).toMatchObject({ durable: 'false', auto_delete: 'false' });
    expect(q?.arguments).toContain('{"x-max-length",7}');
    expect(q?.arguments).toContain('{"x-queue-type","classic"}');
    await consumer.close();

    // A named queue that is missing gets the same settings.
    await broker.consumer('chosen', { driverOptions: { queue: 'made-for-me' } });
    expect(await row('queues', 'made-for-me', 'durable')).toEqual({ durable: 'false' });
  });

  it('the group queue with other settings fails ALREADY_EXISTS naming the queue, not the exchange, and the fix', async () => {
    await ch.assertQueue('strict.g', { durable: false });
    const broker = await open();
    const error = await broker.consumer('strict', { group: 'g' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ALREADY_EXISTS', retryable: false, details: { queue: 'strict.g' } });
    expect((error as Error).message).toMatch(
      /declare queue "strict.g": queue "strict.g" already exists with other settings: consume it as it is with driverOptions: \{ queue: "strict.g" \}, set .*queueDurable/,
    );
  });
});

describe('AMQP names are at most 255 bytes', () => {
  it('longer ones fail INVALID_ARGUMENT naming the limit, and nothing is declared', async () => {
    const broker = await open();
    const long = 'é'.repeat(128); // 128 characters, 256 bytes
    for (const attempt of [
      () => broker.producer(long),
      () => broker.producer(long, { driverOptions: { queue: true } }),
      () => broker.consumer('short', { group: 'g'.repeat(300) }),
      () => broker.consumer('short', { group: 'g', filter: { routingKeys: ['k'.repeat(256)] } }),
      () =>
        broker.consumer(long, {
          group: 'g',
          driverOptions: { queue: 'q-ok' },
          filter: { routingKeys: ['a'] },
        }),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, details: { limit: 255 } });
      expect((error as Error).message).toMatch(/at most 255 bytes/);
    }
    expect(await row('exchanges', 'short')).toBeUndefined();
    expect(await row('queues', 'q-ok')).toBeUndefined();
  });

  it('a routing key or header name over 255 bytes fails that send INVALID_ARGUMENT; the rest of the batch goes', async () => {
    const broker = await open();
    const consumer = await broker.consumer('wire-names', { group: 'g' });
    const producer = await broker.producer('wire-names');
    const long = 'é'.repeat(200); // 200 characters (core's limits count characters), 400 bytes
    for (const message of [
      { body: 'bad key', routingKey: long },
      { body: 'bad header', headers: { [long]: 'v' } },
    ]) {
      const error = await producer.send(message).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, details: { limit: 255 } });
      expect((error as Error).message).toMatch(/at most 255 bytes/);
    }
    const sent = await Promise.allSettled([
      producer.send({ body: 'fine', routingKey: 'k' }),
      producer.send({ body: 'too long', routingKey: long }),
    ]);
    expect(sent.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
    const [m] = await consumer.receive({ waitMs: 10_000 });
    expect(m?.text()).toBe('fine');
    await m?.ack();
    await broker.close();
  });
});
