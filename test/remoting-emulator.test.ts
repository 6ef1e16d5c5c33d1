// The emulator's Remoting name server and broker against an independent RocketMQ 4.x client:
// ali-ons (Alibaba's pure-JS Remoting client) produces and consumes through it with TDMQ names,
// tags, keys, ACL signatures and broker-side retry; and its store is the gRPC side's, so a plain
// rocketmq-client-nodejs (5.x gRPC) program reads what ali-ons sent and the reverse.

import { createRequire } from 'node:module';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { Producer as GrpcProducer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../packages/emulator/test-kit/within.js';

/** The parts of ali-ons these tests use (it ships no types). */
interface OnsMessage {
  topic: string;
  delayTimeLevel: number;
  setStartDeliverTime(epochMs: number): void;
  tags: string;
  /** Space-separated on a consumed message. */
  keys: string | string[];
  body: Buffer;
  msgId: string;
  reconsumeTimes: number;
  properties: Record<string, string>;
}
interface OnsClient {
  ready(): Promise<void>;
  close(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface OnsProducer extends OnsClient {
  send(msg: OnsMessage): Promise<{ sendStatus: string; msgId: string; messageQueue: { queueId: number } }>;
}
interface OnsConsumer extends OnsClient {
  subscribe(topic: string, expression: string, handler: (msg: OnsMessage) => Promise<unknown>): void;
}
interface AliOns {
  Producer: (new (options: object) => OnsProducer) & { defaultProducer?: OnsProducer };
  Consumer: new (options: object) => OnsConsumer;
  Message: new (topic: string, tags: string, body: string | Buffer) => OnsMessage;
}
const ons = createRequire(import.meta.url)('ali-ons') as AliOns;

// TDMQ's order (seed 002): the access key is the role token, the secret key the role name.
const TOKEN = 'eyJrZXlJZCI6InJvY2tldG1xLXRlc3QifQ';
const ROLE = 'remoting-role';
const NAMESPACE = 'rocketmq-emu01|ns_remoting';
const full = (name: string) => `${NAMESPACE}%${name}`;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

let emulator: RunningEmulator;
const clients: OnsClient[] = [];
const grpc: { shutdown(): Promise<unknown> }[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 19,
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { autoCreate: false, allowAnonymous: false, transactionCheckMs: 0 },
    // The broker's messageDelayLevel, shortened: a retry comes back within the test.
    remoting: { delayLevelsMs: Array.from({ length: 18 }, () => 200) },
  });
  // ali-ons makes one process-wide inner producer from the first client's options: give it good ones.
  await producer();
});

afterEach(async () => {
  await Promise.allSettled(grpc.splice(0).map((c) => c.shutdown()));
});

afterAll(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await ons.Producer.defaultProducer?.close();
  await within(emulator.telemetryClosed(), 10_000, 'gRPC clients to shut down');
  await emulator.stop();
});

let instances = 0;

function options(extra: object = {}) {
  return {
    httpclient: {},
    nameSrv: emulator.endpoints.remoting,
    accessKeyId: TOKEN,
    accessKeySecret: ROLE,
    namespace: NAMESPACE,
    // One MQClient per test client: ali-ons shares clients by instance name otherwise.
    instanceName: `t${++instances}`,
    logger: quiet,
    ...extra,
  };
}

async function producer(extra: object = {}): Promise<OnsProducer> {
  const p = new ons.Producer(options({ producerGroup: 'pg', ...extra }));
  p.on('error', () => {});
  clients.push(p);
  await p.ready();
  return p;
}

interface Consumed {
  readonly messages: OnsMessage[];
  close(): Promise<void>;
  /** Resolves once `n` messages were handled. */
  count(n: number): Promise<OnsMessage[]>;
}

/** Woken on every message any test consumer handles. */
const handled = new Set<() => void>();

/** Resolves once `done()` holds, checked after every handled message. */
function until(done: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        handled.delete(check);
        resolve();
      };
      handled.add(check);
      check();
    }),
    20_000,
    what,
  );
}

async function consumer(
  group: string,
  topic: string,
  expression: string,
  handle: (msg: OnsMessage) => Promise<void> = async () => {},
  extra: object = {},
): Promise<Consumed> {
  const c = new ons.Consumer(options({ consumerGroup: group, ...extra }));
  c.on('error', () => {});
  clients.push(c);
  await c.ready();
  const messages: OnsMessage[] = [];
  c.subscribe(topic, expression, async (msg) => {
    messages.push(msg);
    for (const wake of [...handled]) wake();
    await handle(msg);
  });
  return {
    messages,
    close: () => c.close(),
    count: async (n) => {
      await until(() => messages.length >= n, `${n} messages on ${topic}`);
      return messages.slice(0, n);
    },
  };
}

/** A topic and group made in the console first (the emulator does not auto-create here). */
function topology(name: string): { topic: string; group: string } {
  emulator.engines.rocketmq.createTopic(full(`${name}-t`), { type: 'MIXED', queues: 4 });
  emulator.engines.rocketmq.createGroup(full(`${name}-g`));
  return { topic: `${name}-t`, group: `${name}-g` };
}

function grpcOptions() {
  return {
    endpoints: emulator.endpoints.rocketmq,
    namespace: '',
    sessionCredentials: { accessKey: TOKEN, accessSecret: ROLE },
    logger: quiet,
    requestTimeout: 5_000,
  };
}

describe('ali-ons through the Remoting emulator', () => {
  it('sends with tags and keys under TDMQ names, and a tag-filtered consumer gets only its tag', async () => {
    const { topic, group } = topology('tags');
    const p = await producer();
    const wanted = new ons.Message(topic, 'TagA', 'hello from 4.x');
    wanted.keys = ['order-1', 'user-7'];
    const sent = await p.send(wanted);
    await p.send(new ons.Message(topic, 'TagB', 'not for this consumer'));
    expect(sent.sendStatus).toBe('SEND_OK');
    const stored = emulator.engines.rocketmq.messages(full(topic));
    expect(stored.map((m) => [m.tag, m.keys, m.body.toString()])).toEqual([
      ['TagA', ['order-1', 'user-7'], 'hello from 4.x'],
      ['TagB', [], 'not for this consumer'],
    ]);

    const consumed = await consumer(group, topic, 'TagA');
    const [got] = await consumed.count(1);
    expect(got).toMatchObject({
      topic: full(topic),
      tags: 'TagA',
      keys: 'order-1 user-7',
      msgId: sent.msgId,
    });
    expect(got?.body.toString()).toBe('hello from 4.x');
    // The TagB message was filtered by the broker: the consumer's queues move past it.
    await p.send(new ons.Message(topic, 'TagA', 'second'));
    const both = await consumed.count(2);
    expect(both.map((m) => m.body.toString())).toEqual(['hello from 4.x', 'second']);
  });

  it('redelivers a message whose handler failed, from %RETRY%<group> with the reconsume count', async () => {
    const { topic, group } = topology('retry');
    const consumed = await consumer(group, topic, '*', async (msg) => {
      if (msg.reconsumeTimes === 0) throw new Error('first delivery fails on purpose');
    });
    const p = await producer();
    await p.send(new ons.Message(topic, 'TagR', 'try again'));
    const [first, second] = await consumed.count(2);
    expect([first?.reconsumeTimes, second?.reconsumeTimes]).toEqual([0, 1]);
    // The retry copy's topic is restored to the original; the broker kept where it came from.
    expect(second).toMatchObject({ topic: full(topic), tags: 'TagR' });
    expect(second?.properties.RETRY_TOPIC).toBe(full(topic));
    expect(second?.body.toString()).toBe('try again');
    expect(emulator.engines.rocketmq.messages(`%RETRY%${full(group)}`)).toHaveLength(1);
  });

  it('holds a delay-level message and a TDMQ start-deliver-time message until they are due', async () => {
    const { topic, group } = topology('delay');
    const p = await producer();
    const level = new ons.Message(topic, 'D', 'by level');
    level.delayTimeLevel = 1;
    const timed = new ons.Message(topic, 'D', 'by time');
    timed.setStartDeliverTime(Date.now() + 300);
    await p.send(level);
    await p.send(timed);
    const stored = emulator.engines.rocketmq.messages(full(topic));
    expect(stored.map((m) => [m.type, m.deliveryTimestamp !== undefined])).toEqual([
      ['DELAY', true],
      ['DELAY', true],
    ]);
    const consumed = await consumer(group, topic, 'D');
    const got = await consumed.count(2);
    expect(got.map((m) => m.body.toString()).sort()).toEqual(['by level', 'by time']);
    expect(got.find((m) => m.body.toString() === 'by level')?.properties.REAL_TOPIC).toBe(full(topic));
  });

  it('refuses a send signed with the wrong secret key, stores nothing and never echoes the secret', async () => {
    const { topic } = topology('acl');
    const intruder = await producer({ accessKeySecret: 'not-the-role-name' });
    const error = (await intruder.send(new ons.Message(topic, 'T', 'x')).catch((e: unknown) => e)) as {
      code?: number;
      message: string;
    };
    expect(error.code).toBe(1);
    expect(error.message).toContain(`Check signature failed for accessKey=${TOKEN}`);
    expect(error.message).not.toContain('not-the-role-name');
    expect(emulator.engines.rocketmq.messages(full(topic))).toHaveLength(0);
  });
});

describe('ali-ons consumers sharing a group', () => {
  it("split the queues, and the survivor takes over a leaver's queues without losing a message", async () => {
    const { topic, group } = topology('share');
    const fast = { rebalanceInterval: 300, persistConsumerOffsetInterval: 300 };
    const a = await consumer(group, topic, '*', async () => {}, fast);
    const b = await consumer(group, topic, '*', async () => {}, fast);
    const p = await producer();
    // Send until both members have had messages: by then the group is rebalanced across them.
    for (let sent = 0; (a.messages.length === 0 || b.messages.length === 0) && sent < 200; sent++) {
      const before = a.messages.length + b.messages.length;
      await p.send(new ons.Message(topic, 'S', `before-${sent}`));
      await until(() => a.messages.length + b.messages.length > before, `before-${sent} to be handled`);
    }
    expect(a.messages.length).toBeGreaterThan(0);
    expect(b.messages.length).toBeGreaterThan(0);
    await a.close();
    const after = Array.from({ length: 8 }, (_, i) => `after-${i}`);
    for (const body of after) await p.send(new ons.Message(topic, 'S', body));
    const seen = () => new Set(b.messages.map((m) => m.body.toString()));
    await until(
      () => after.every((body) => seen().has(body)),
      'the survivor to get every message sent after the other member left',
    );
  });
});

describe('one store for gRPC and Remoting', () => {
  it('a message a gRPC producer sends is consumed by ali-ons', async () => {
    const { topic, group } = topology('g2r');
    const sender = new GrpcProducer({ ...grpcOptions(), topics: [full(topic)] });
    grpc.push(sender);
    await sender.startup();
    const receipt = await sender.send({
      topic: full(topic),
      tag: 'FromGrpc',
      keys: ['k-grpc'],
      properties: new Map([['origin', 'grpc']]),
      body: Buffer.from('sent over gRPC'),
    });
    const consumed = await consumer(group, topic, 'FromGrpc');
    const [got] = await consumed.count(1);
    expect(got).toMatchObject({ tags: 'FromGrpc', keys: 'k-grpc' });
    expect(got?.body.toString()).toBe('sent over gRPC');
    expect(got?.properties).toMatchObject({ origin: 'grpc', UNIQ_KEY: receipt.messageId });
  });

  it('a message ali-ons sends is received by a gRPC SimpleConsumer', async () => {
    const { topic, group } = topology('r2g');
    const reader = new SimpleConsumer({
      ...grpcOptions(),
      consumerGroup: full(group),
      subscriptions: new Map([[full(topic), 'FromRemoting']]),
      awaitDuration: 500,
    });
    grpc.push(reader);
    await reader.startup();
    const p = await producer();
    const msg = new ons.Message(topic, 'FromRemoting', 'sent over Remoting');
    msg.keys = ['k-remoting'];
    await p.send(msg);
    const views = [];
    const end = Date.now() + 20_000;
    while (views.length === 0 && Date.now() < end) {
      for (const view of await reader.receive(16, 10_000)) {
        views.push(view);
        await reader.ack(view);
      }
    }
    expect(views).toHaveLength(1);
    expect(views[0]?.tag).toBe('FromRemoting');
    expect(views[0]?.keys).toEqual(['k-remoting']);
    expect(Buffer.from(views[0]!.body).toString()).toBe('sent over Remoting');
  });
});
