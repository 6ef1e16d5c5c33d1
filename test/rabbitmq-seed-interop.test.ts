// The other half of the fleet, unchanged: TDMQ's Python getting-started producer and consumer
// (seed 001, run with Debian's python3-pika) and plain amqplib written the way its tutorials write
// it, beside Switchyard producers and consumers on one exchange or one queue, in either start
// order. Exact bodies and routing keys both ways; what one side leaves unacked or nacks, the other
// gets.

import { type Broker, connect, type Message } from '@switchyard/core';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonWithPika, type SeedConnection, SeedProcess, seedBody, seedEnv } from './pika-helpers.js';
import {
  BROKER_HOST,
  BROKER_PORT,
  createTestVhost,
  rabbitmqctl,
  type TestVhost,
} from './rabbitmq-helpers.js';

const SEED_KEYS = ['aaa.bbb.ccc', 'aaa.bbb.ddd', 'aaa.ccc.zzz', 'xxx.yyy.zzz'];

const vhosts: TestVhost[] = [];
const brokers: Broker[] = [];
const seeds: SeedProcess[] = [];
const plains: amqp.ChannelModel[] = [];

// Each scenario has a vhost of its own (both use the seed's names); made together up front, since
// every rabbitmqctl call takes a second or more.
const hosts = {} as Record<'seedFirst' | 'seedExcl' | 'syFirst' | 'syDurable' | 'shared', TestVhost>;

beforeAll(async () => {
  // Fails (never skips) without pika, with the command that installs it.
  pythonWithPika();
  const labels = ['seedFirst', 'seedExcl', 'syFirst', 'syDurable', 'shared'] as const;
  const made = await Promise.all(labels.map((label) => vhost(label.toLowerCase())));
  labels.forEach((label, i) => {
    hosts[label] = made[i]!;
  });
});
afterAll(async () => {
  await Promise.all(seeds.map((s) => s.stop()));
  await Promise.all(brokers.map((b) => b.close()));
  await Promise.all(plains.map((p) => p.close().catch(() => {})));
  await Promise.all(vhosts.map((v) => v.cleanup()));
});

async function vhost(label: string): Promise<TestVhost> {
  const v = await createTestVhost(label);
  vhosts.push(v);
  return v;
}

function seedConnection(v: TestVhost): SeedConnection {
  return { host: BROKER_HOST, port: BROKER_PORT, vhost: v.vhost, user: v.user, password: v.password };
}

function seed(v: TestVhost, script: 'seed_producer.py' | 'seed_consumer.py', extra = {}): SeedProcess {
  const process = new SeedProcess(script, seedEnv(seedConnection(v), extra));
  seeds.push(process);
  return process;
}

async function open(url: string): Promise<Broker> {
  const broker = await connect(url);
  brokers.push(broker);
  return broker;
}

async function plainConnection(v: TestVhost): Promise<amqp.ChannelModel> {
  const model = await amqp.connect({
    hostname: BROKER_HOST,
    port: BROKER_PORT,
    username: v.user,
    password: v.password,
    vhost: encodeURIComponent(v.vhost),
  });
  plains.push(model);
  return model;
}

/** The exchange as the broker holds it: proves what Switchyard did (not) redeclare. */
async function exchangeInfo(v: TestVhost, name: string): Promise<{ type: string; durable: string }> {
  const out = await rabbitmqctl(
    'list_exchanges',
    '-p',
    v.vhost,
    'name',
    'type',
    'durable',
    '--no-table-headers',
  );
  const row = out
    .split('\n')
    .map((l) => l.split('\t'))
    .find((cols) => cols[0] === name);
  if (row === undefined) throw new Error(`no exchange "${name}" in ${v.vhost}: ${out}`);
  return { type: row[1]!, durable: row[2]! };
}

/** Receives until `count` messages arrived, acking each; fails after a generous deadline. */
async function take(consumer: Awaited<ReturnType<Broker['consumer']>>, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 20_000;
  while (got.length < count && Date.now() < deadline) {
    for (const m of await consumer.receive({ max: count - got.length, waitMs: 1_000 })) {
      got.push(m);
      await m.ack();
    }
  }
  expect(got.length, 'messages received before the deadline').toBe(count);
  return got;
}

function bySeedKey(messages: readonly Message[]) {
  return messages
    .map((m) => ({
      routingKey: m.routingKey,
      body: m.text(),
      attempt: m.deliveryAttempt,
      deliveryMode: m.unwrap<amqp.ConsumeMessage>().properties.deliveryMode,
    }))
    .sort((a, b) => String(a.routingKey).localeCompare(String(b.routingKey)));
}

const expectedFromSeedProducer = SEED_KEYS.map((k) => ({
  routingKey: k,
  body: seedBody(k),
  attempt: 1,
  deliveryMode: 2,
}));

/** Switchyard → the seed consumer: it gets exactly the messages its two keys select. */
async function switchyardToSeedConsumer(v: TestVhost, broker: Broker): Promise<void> {
  const consumer = seed(v, 'seed_consumer.py', { SEED_COUNT: 2 });
  await consumer.waitFor('ready');
  const producer = await broker.producer('direct_exchange');
  await producer.send([
    { body: 'from switchyard: ccc', routingKey: 'aaa.bbb.ccc', id: 'sy-1' },
    { body: 'from switchyard: zzz', routingKey: 'xxx.yyy.zzz', id: 'sy-2' },
    { body: 'from switchyard: ddd', routingKey: 'aaa.bbb.ddd', id: 'sy-3' },
  ]);
  const got = await consumer.waitFor('received', 2);
  await consumer.succeeded();
  expect(got.map((l) => [l.routing_key, l.body, l.message_id, l.delivery_mode, l.redelivered])).toEqual([
    ['aaa.bbb.ccc', 'from switchyard: ccc', 'sy-1', 2, false],
    ['aaa.bbb.ddd', 'from switchyard: ddd', 'sy-3', 2, false],
  ]);
}

// Several Python runs each: a generous budget for a loaded machine.
const SEED_TIMEOUT = { timeout: 90_000 };

describe(
  'seed 001 first: its producer declared direct_exchange with pika defaults (non-durable)',
  SEED_TIMEOUT,
  () => {
    it('Switchyard with default settings joins the exchange as it is, both directions', async () => {
      const v = hosts.seedFirst;
      // The guide's order: the producer runs first and makes the exchange (no queue yet: its four
      // messages are dropped, as they are for the guide's own consumer started later).
      await seed(v, 'seed_producer.py').succeeded();
      expect(await exchangeInfo(v, 'direct_exchange')).toEqual({ type: 'direct', durable: 'false' });

      // Default exchangeDurable (true) differs from the exchange: it is joined, not redeclared.
      const broker = await open(`${v.url}?exchangeType=direct`);
      const consumer = await broker.consumer('direct_exchange', {
        group: 'switchyard',
        filter: { routingKeys: SEED_KEYS },
      });
      await broker.producer('direct_exchange');
      expect(await exchangeInfo(v, 'direct_exchange')).toEqual({ type: 'direct', durable: 'false' });

      await seed(v, 'seed_producer.py').succeeded();
      expect(bySeedKey(await take(consumer, 4))).toEqual(expectedFromSeedProducer);

      await switchyardToSeedConsumer(v, broker);
      // The group's queue is bound to the same keys: it got the Switchyard messages too (fan-out).
      expect((await take(consumer, 3)).map((m) => m.text()).sort()).toEqual([
        'from switchyard: ccc',
        'from switchyard: ddd',
        'from switchyard: zzz',
      ]);
    });

    it("the seed consumer's exclusive queue fails a Switchyard consumer with a typed error naming it", async () => {
      const v = hosts.seedExcl;
      await seed(v, 'seed_producer.py').succeeded();
      const owner = seed(v, 'seed_consumer.py');
      await owner.waitFor('ready');
      const broker = await open(`${v.url}?exchangeType=direct`);
      const error = await broker
        .consumer('direct_exchange', { driverOptions: { queue: 'route_queue1' } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'PERMISSION_DENIED',
        retryable: false,
        details: { resourceLocked: true, queue: 'route_queue1' },
      });
      expect((error as Error).message).toMatch(/queue "route_queue1" is exclusive to another connection/);
      expect((error as Error).message).toMatch(/consumer group/);
      // The seed consumer is undisturbed.
      const producer = await broker.producer('direct_exchange');
      await producer.send({ body: 'still there', routingKey: 'aaa.bbb.ccc' });
      const [line] = await owner.waitFor('received');
      expect(line?.body).toBe('still there');
    });
  },
);

describe('Switchyard first: it declares direct_exchange the way the seed does', SEED_TIMEOUT, () => {
  it('exchangeDurable=false: the seed producer and consumer run unchanged beside it', async () => {
    const v = hosts.syFirst;
    const broker = await open(`${v.url}?exchangeType=direct&exchangeDurable=false`);
    const consumer = await broker.consumer('direct_exchange', {
      group: 'switchyard',
      filter: { routingKeys: SEED_KEYS },
    });
    expect(await exchangeInfo(v, 'direct_exchange')).toEqual({ type: 'direct', durable: 'false' });

    await seed(v, 'seed_producer.py').succeeded();
    expect(bySeedKey(await take(consumer, 4))).toEqual(expectedFromSeedProducer);

    await switchyardToSeedConsumer(v, broker);
    expect(await take(consumer, 3)).toHaveLength(3);
  });

  it('with the default (durable) exchange the unchanged seed producer cannot redeclare it', async () => {
    // Why the setting exists: RabbitMQ refuses a redeclare with other durability.
    const v = hosts.syDurable;
    const broker = await open(`${v.url}?exchangeType=direct`);
    await broker.producer('direct_exchange');
    expect(await exchangeInfo(v, 'direct_exchange')).toEqual({ type: 'direct', durable: 'true' });
    const producer = seed(v, 'seed_producer.py');
    await expect(producer.succeeded()).rejects.toThrow(/PRECONDITION_FAILED.*durable/);
  });
});

describe('a plain amqplib consumer and a Switchyard consumer on one queue', () => {
  let v: TestVhost;
  let channel: amqp.Channel;
  let broker: Broker;

  beforeAll(async () => {
    v = hosts.shared;
    channel = await (await plainConnection(v)).createChannel();
    broker = await open(v.url);
  });

  it('share the work: every message handled once, none lost or stuck', async () => {
    // The "work queues" tutorial: durable queue, persistent messages, prefetch 1, manual ack.
    const queue = 'task_queue';
    await channel.assertQueue(queue, { durable: true });
    await channel.prefetch(1);
    const plainGot: string[] = [];
    const total = 60;
    let done: () => void = () => {};
    const allDone = new Promise<void>((resolve) => (done = resolve));
    const seen = () => {
      if (plainGot.length + switchyardGot.length >= total) done();
    };
    await channel.consume(
      queue,
      (msg) => {
        if (msg === null) return;
        plainGot.push(msg.content.toString());
        channel.ack(msg);
        seen();
      },
      { noAck: false },
    );
    const switchyardGot: string[] = [];
    // The queue exists: used as it is (no redeclare with Switchyard's arguments, no binding).
    const consumer = await broker.consumer('tasks', { prefetch: 1, driverOptions: { queue } });
    const running = consumer.run(async (m) => {
      switchyardGot.push(m.text());
      seen();
    });
    const producer = await broker.producer(queue, { driverOptions: { queue: true } });
    for (let i = 0; i < total / 2; i++) {
      channel.sendToQueue(queue, Buffer.from(`plain-${i}`), { persistent: true });
      await producer.send(`switchyard-${i}`);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allDone,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`stuck: ${plainGot.length + switchyardGot.length}`)),
          30_000,
        );
      }),
    ]);
    clearTimeout(timer);
    await consumer.close();
    await running;
    const all = [...plainGot, ...switchyardGot].sort();
    const expected = Array.from({ length: total / 2 }, (_, i) => [`plain-${i}`, `switchyard-${i}`])
      .flat()
      .sort();
    expect(all).toEqual(expected);
    expect(plainGot.length).toBeGreaterThan(0);
    expect(switchyardGot.length).toBeGreaterThan(0);
    // Nothing left ready or unacked once both are done.
    const check = await (await plainConnection(v)).createChannel();
    expect((await check.checkQueue(queue)).messageCount).toBe(0);
  });

  it('what Switchyard nacks or leaves unacked comes back to the plain consumer', async () => {
    const queue = 'handoff';
    await channel.assertQueue(queue, { durable: true });
    const consumer = await broker.consumer('handoff', { driverOptions: { queue } });
    channel.sendToQueue(queue, Buffer.from('nacked'), { persistent: true, messageId: 'n-1' });
    channel.sendToQueue(queue, Buffer.from('unacked'), { persistent: true, messageId: 'u-1' });
    const got: Message[] = [];
    const deadline = Date.now() + 20_000;
    while (got.length < 2 && Date.now() < deadline) got.push(...(await consumer.receive({ waitMs: 1_000 })));
    expect(got.map((m) => m.text()).sort()).toEqual(['nacked', 'unacked']);
    await got.find((m) => m.text() === 'nacked')!.nack();
    // The other is neither acked nor nacked when its consumer goes away.
    await consumer.close();

    const plainCh = await (await plainConnection(v)).createChannel();
    const received = new Map<string, amqp.ConsumeMessage>();
    const both = new Promise<void>((resolve) => {
      void plainCh.consume(
        queue,
        (msg) => {
          if (msg === null) return;
          received.set(msg.content.toString(), msg);
          plainCh.ack(msg);
          if (received.size === 2) resolve();
        },
        { noAck: false },
      );
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      both,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`plain consumer got ${[...received.keys()]}`)), 20_000);
      }),
    ]);
    clearTimeout(timer);
    expect([...received.keys()].sort()).toEqual(['nacked', 'unacked']);
    expect(received.get('nacked')!.properties.messageId).toBe('n-1');
    expect(received.get('unacked')!.properties.messageId).toBe('u-1');
    // Acked by the plain consumer, it stays acked: nothing is left for anyone.
    expect((await plainCh.checkQueue(queue)).messageCount).toBe(0);
  });
});
