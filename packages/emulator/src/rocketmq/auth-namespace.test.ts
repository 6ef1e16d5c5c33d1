// Authentication, namespaces and topic existence with the real client: a wrong secret or an
// unknown access key is UNAUTHORIZED (UnauthorizedException 40100), namespaces select
// `<ns>%<name>` resources (TDMQ 4.x full names reach the same ones), and with autoCreate off an
// unknown topic is TOPIC_NOT_FOUND (NotFoundException 40402) until created through the admin API.

import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { afterEach, describe, expect, it } from 'vitest';
import { AK, clientOptions, rawClient, SK, startTestServer, teardown } from '../../test-kit/rocketmq.js';
import type { RocketMqServer } from './server.js';

let server: RocketMqServer | undefined;
const clients: { shutdown(): Promise<unknown> }[] = [];
afterEach(() => teardown(server, clients));

function producer(s: RocketMqServer, extra: Record<string, unknown> = {}) {
  const p = new Producer({ ...clientOptions(s), ...extra });
  clients.push(p);
  return p;
}

async function consumer(
  s: RocketMqServer,
  group: string,
  topic: string,
  extra: Record<string, unknown> = {},
) {
  const c = new SimpleConsumer({
    ...clientOptions(s),
    consumerGroup: group,
    subscriptions: new Map([[topic, '*']]),
    awaitDuration: 300,
    ...extra,
  });
  clients.push(c);
  await c.startup();
  return c;
}

describe('authentication', () => {
  it('rejects a wrong secret and an unknown access key with UnauthorizedException', async () => {
    server = await startTestServer();
    // No topics: startup is local, the first send does QueryRoute and surfaces the status.
    const wrong = producer(server, { sessionCredentials: { accessKey: AK, accessSecret: 'not-the-secret' } });
    await wrong.startup();
    await expect(wrong.send({ topic: 'T1', body: Buffer.from('x') })).rejects.toMatchObject({
      name: 'UnauthorizedException',
      code: 40100,
    });
    const unknown = producer(server, { sessionCredentials: { accessKey: 'AK-nobody', accessSecret: SK } });
    await unknown.startup();
    await expect(unknown.send({ topic: 'T1', body: Buffer.from('x') })).rejects.toThrow(
      /access key AK-nobody does not exist/,
    );
    expect(server.engine.getTopic('T1')).toBeUndefined();
    // The right pair works.
    const good = producer(server);
    await good.startup();
    await expect(good.send({ topic: 'T1', body: Buffer.from('x') })).resolves.toMatchObject({
      messageId: expect.any(String),
    });
  });

  it('a Telemetry stream with a bad signature gets a status-only UNAUTHORIZED and is ended', async () => {
    server = await startTestServer();
    const raw = rawClient(server.endpoint, {
      authorization: `MQv2-HMAC-SHA1 Credential=${AK}, SignedHeaders=x-mq-date-time, Signature=00`,
      'x-mq-date-time': '20260101T000000Z',
    });
    try {
      const { items, ended } = await raw.telemetry([{ settings: { client_type: 'PRODUCER' } }]);
      expect(ended).toBe(true);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ status: { code: 'UNAUTHORIZED' } });
      expect(items[0]?.settings).toBeUndefined();
    } finally {
      raw.close();
    }
  });

  it('anonymous calls are rejected by default and accepted with allowAnonymous: true', async () => {
    server = await startTestServer();
    const { sessionCredentials: _, ...anonymous } = clientOptions(server);
    const p = new Producer({ ...anonymous });
    clients.push(p);
    await p.startup();
    await expect(p.send({ topic: 'T1', body: Buffer.from('x') })).rejects.toMatchObject({ code: 40100 });
    await p.shutdown();
    clients.length = 0;
    await server.close();

    server = await startTestServer({ allowAnonymous: true });
    const open = new Producer({ ...clientOptions(server), sessionCredentials: undefined });
    clients.push(open);
    await open.startup();
    await expect(open.send({ topic: 'T1', body: Buffer.from('x') })).resolves.toMatchObject({
      messageId: expect.any(String),
    });
  });
});

describe('namespaces', () => {
  it('a namespaced client reaches <ns>%<name>; TDMQ full names reach the same resources', async () => {
    server = await startTestServer();
    const ns = 'rocketmq-abc|ns1';
    const nsConsumer = await consumer(server, 'G1', 'T1', { namespace: ns });
    const fullConsumer = await consumer(server, `${ns}%G2`, `${ns}%T1`);
    const plainConsumer = await consumer(server, 'G3', 'T1');
    const p = producer(server, { namespace: ns, topics: ['T1'] });
    await p.startup();
    const { messageId } = await p.send({ topic: 'T1', body: Buffer.from('namespaced') });
    expect(server.engine.getTopic(`${ns}%T1`)?.messages).toBe(1);
    expect(server.engine.getGroup(`${ns}%G1`)).toBeDefined();
    const [a] = await nsConsumer.receive(32, 15_000);
    expect(a?.messageId).toBe(messageId);
    expect(a?.topic).toBe('T1');
    await nsConsumer.ack(a!);
    const [b] = await fullConsumer.receive(32, 15_000);
    expect(b?.messageId).toBe(messageId);
    await fullConsumer.ack(b!);
    // The un-namespaced `T1` is another topic.
    expect(await plainConsumer.receive(32, 15_000)).toEqual([]);
  });

  it("namespaceMode 'ignore' copies the Apache proxy: one topic whatever the namespace", async () => {
    server = await startTestServer({ namespaceMode: 'ignore' });
    const c = await consumer(server, 'G1', 'T1');
    const p = producer(server, { namespace: 'ns1', topics: ['T1'] });
    await p.startup();
    await p.send({ topic: 'T1', body: Buffer.from('x') });
    expect((await c.receive(32, 15_000)).map((m) => m.body.toString())).toEqual(['x']);
  });
});

describe('topic existence', () => {
  it('with autoCreate off an unknown topic is TOPIC_NOT_FOUND until it is created', async () => {
    server = await startTestServer({ engineOptions: { autoCreate: false } });
    const p = producer(server);
    await p.startup();
    await expect(p.send({ topic: 'Missing', body: Buffer.from('x') })).rejects.toMatchObject({
      name: 'NotFoundException',
      code: 40402,
    });
    server.engine.createTopic('Missing', { type: 'NORMAL' });
    await expect(p.send({ topic: 'Missing', body: Buffer.from('x') })).resolves.toMatchObject({
      messageId: expect.stringMatching(/^[0-9A-F]{34}$/),
    });
  });

  it('with autoCreate off an unknown group fails the consumer at startup', async () => {
    server = await startTestServer({ engineOptions: { autoCreate: false } });
    server.engine.createTopic('T1');
    const c = new SimpleConsumer({
      ...clientOptions(server),
      consumerGroup: 'NoSuchGroup',
      subscriptions: new Map([['T1', '*']]),
      awaitDuration: 300,
    });
    clients.push(c);
    await expect(c.startup()).rejects.toThrow(/NotFoundException: .*response-code=40403/);
  });
});
