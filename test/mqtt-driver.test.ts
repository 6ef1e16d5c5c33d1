// The MQTT driver's own behaviour on the real Mosquitto, beyond the portable suite: PUBACK waits
// for the handler's ack (a consumer that dies leaves its unacknowledged messages in its session,
// and the next consumer under its client id gets them with what arrived meanwhile), a nack's copy
// reaches only its own group's Switchyard consumers, and bad input fails typed before anything
// reaches the broker.

import { Socket } from 'node:net';
import { type Broker, connect, errorCode, type Message } from '@switchyard/core';
import { ATTEMPTS_PROPERTY, GROUP_PROPERTY } from '@switchyard/mqtt';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { freshTopic, MQTT_URL, startPrivateMosquitto } from './mqtt-helpers.js';

let broker: Broker;

beforeAll(async () => {
  broker = await connect(`${MQTT_URL}?clientIdPrefix=drv-${process.pid}-`);
});
afterAll(async () => {
  await broker?.close();
});

type Consumer = Awaited<ReturnType<Broker['consumer']>>;

async function take(consumer: Consumer, n: number, ack = true): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < n && Date.now() < deadline) {
    for (const m of await consumer.receive({ max: n - got.length, waitMs: 500 })) {
      if (ack) await m.ack();
      got.push(m);
    }
  }
  return got;
}

it('PUBACK waits for the ack: a consumer that dies leaves its unacked messages, and what arrives meanwhile, to the next one under its client id', async () => {
  const topic = freshTopic('session');
  const clientId = `drv-session-${process.pid}-${Date.now()}`;
  const first = await broker.consumer(topic, { group: 'g', prefetch: 10, driverOptions: { clientId } });
  const producer = await broker.producer(topic);
  await producer.send(['m0', 'm1', 'm2']);
  const held = await take(first, 3, false);
  expect(held.map((m) => m.text()).sort()).toEqual(['m0', 'm1', 'm2']);
  const acked = held.find((m) => m.text() === 'm0')!;
  await acked.ack();
  // Let the ack's PUBACK reach the broker: a plain subscriber on the same connection's order would
  // not tell; a round trip through the broker on the consumer's own connection does.
  const native = first.unwrap() as MqttClient;
  await native.subscribeAsync(`${topic}/ping`, { qos: 1 });
  // The process dies: the socket drops without DISCONNECT, nothing is acknowledged any more.
  const closed = new Promise<void>((resolve) => native.once('close', () => resolve()));
  native.end(true);
  await closed;
  await producer.send(['m3', 'm4']); // arrive while the consumer is away
  await first.close({ timeoutMs: 1_000 });
  const next = await broker.consumer(topic, { group: 'g', prefetch: 10, driverOptions: { clientId } });
  const got = await take(next, 4);
  expect(got.map((m) => m.text()).sort()).toEqual(['m1', 'm2', 'm3', 'm4']);
  expect(await next.receive({ waitMs: 300 })).toEqual([]);
  await next.close();
});

it('a nack republishes the message on its topic for its own group: the group gets it again, another group does not', async () => {
  const topic = freshTopic('nack');
  const mine = await broker.consumer(topic, { group: 'mine' });
  const others = await broker.consumer(topic, { group: 'others' });
  const plain = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
  const plainSeen: Array<Record<string, string | string[]>> = [];
  plain.on('message', (_t, _p, packet) => plainSeen.push(packet.properties?.userProperties ?? {}));
  await plain.subscribeAsync(topic, { qos: 1 });
  try {
    const producer = await broker.producer(topic);
    await producer.send({ body: 'retry me', headers: { kept: 'yes' } });
    const [m] = await take(mine, 1, false);
    await m!.nack();
    const [again] = await take(mine, 1);
    expect(again!.text()).toBe('retry me');
    expect(again!.deliveryAttempt).toBe(2);
    expect(again!.id).toBe(m!.id);
    expect(again!.headers).toEqual({ kept: 'yes' });
    const theirs = await take(others, 1);
    expect(theirs.map((x) => x.deliveryAttempt)).toEqual([1]);
    expect(await others.receive({ waitMs: 500 })).toEqual([]);
    // A plain subscriber sees the copy too, marked with its group and count (documented).
    const copies = plainSeen.filter((p) => p[GROUP_PROPERTY] !== undefined);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ [GROUP_PROPERTY]: 'mine', [ATTEMPTS_PROPERTY]: '1', kept: 'yes' });
  } finally {
    await plain.endAsync();
  }
});

it('bad input fails typed, naming what was wrong, before it reaches the broker', async () => {
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'expected a rejection').toBeInstanceOf(Error);
    return { code: errorCode(error), message: (error as Error).message };
  };
  expect(await failure(connect('mqtt://127.0.0.1:1883/some/path'))).toMatchObject({
    code: 'CONFIG',
    message: expect.stringMatching(/has no path/),
  });
  expect(await failure(connect('mqtt://127.0.0.1:1883?sessionExpiry=5'))).toMatchObject({
    code: 'CONFIG',
    message: expect.stringMatching(/sessionExpiry/),
  });
  expect(await failure(connect('mqtt://127.0.0.1:1883?protocolVersion=9'))).toMatchObject({
    code: 'CONFIG',
    message: expect.stringMatching(/protocolVersion/),
  });
  expect(await failure(broker.producer('a/+/b'))).toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/must not contain \+ #/),
  });
  expect(await failure(broker.producer('$SYS/x'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  const topic = freshTopic('bad');
  expect(await failure(broker.consumer(topic, { group: 'a/b' }))).toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/shared-subscription name/),
  });
  expect(
    await failure(broker.consumer(topic, { group: 'g', filter: { routingKeys: ['a.#.b'] } })),
  ).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/"#" only as the last word/) });
  expect(await failure(broker.consumer(topic, { group: 'g', driverOptions: { queue: 'x' } }))).toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/driverOptions/),
  });
  const watcher = await broker.consumer(topic, { group: 'watch' });
  const producer = await broker.producer(topic);
  expect(await failure(producer.send({ body: 'x', routingKey: 'a/b' }))).toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/routingKey "a\/b"/),
  });
  expect(await failure(producer.send({ body: 'x', delayMs: 1_000 }))).toMatchObject({ code: 'UNSUPPORTED' });
  expect(await watcher.receive({ waitMs: 300 })).toEqual([]);
  const clientId = `drv-dup-${process.pid}`;
  const holder = await broker.consumer(topic, { group: 'g', driverOptions: { clientId } });
  expect(await failure(broker.consumer(topic, { group: 'g', driverOptions: { clientId } }))).toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/in use/),
  });
  await holder.close();
});

it('a broker that is not listening fails connect with UNAVAILABLE (retryable)', async () => {
  const error = await connect('mqtt://127.0.0.1:1?connectTimeoutMs=500').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(errorCode(error)).toBe('UNAVAILABLE');
  expect((error as { retryable?: boolean }).retryable).toBe(true);
});

it('MQTT 3.1.1 carries the body alone: headers are refused, bodies round-trip', async () => {
  const old = await connect(`${MQTT_URL}?protocolVersion=3.1.1&clientIdPrefix=drv311-${process.pid}-`);
  try {
    expect(old.capabilities.headers).toBe('none');
    const topic = freshTopic('v311');
    const consumer = await old.consumer(topic, { group: 'g' });
    const producer = await old.producer(topic);
    expect(errorCode(await producer.send({ body: 'x', headers: { a: 'b' } }).catch((e: unknown) => e))).toBe(
      'UNSUPPORTED',
    );
    await producer.send({ body: new Uint8Array([1, 2, 255]), routingKey: 'r.s' });
    const [m] = await take(consumer, 1);
    expect([...m!.body]).toEqual([1, 2, 255]);
    expect(m!.routingKey).toBe('r.s');
  } finally {
    await old.close();
  }
});

it('ws:// (MQTT over WebSocket) carries the same messages as TCP, on a private Mosquitto with a WebSocket listener', async () => {
  const { createServer } = await import('node:net');
  const wsPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const mosquitto = await startPrivateMosquitto([`listener ${wsPort} 127.0.0.1`, 'protocol websockets']);
  const ws = await connect(`ws://127.0.0.1:${wsPort}/mqtt?clientIdPrefix=drv-ws-`);
  const tcp = await connect(`${mosquitto.url}?clientIdPrefix=drv-tcp-`);
  try {
    const topic = freshTopic('ws');
    const overWs = await ws.consumer(topic, { group: 'g' });
    await (await tcp.producer(topic)).send({ body: 'over tcp', headers: { via: 'tcp' } });
    const [m] = await take(overWs, 1);
    expect(m!.text()).toBe('over tcp');
    expect(m!.headers.via).toBe('tcp');
  } finally {
    await ws.close();
    await tcp.close();
    await mosquitto.stop();
  }
});

it("a consumer's socket sends without Nagle's delay (TCP_NODELAY), again after a reconnect; the publishing connection keeps Nagle", async () => {
  // With Nagle on, the first request after a PUBACK write (close's SUBSCRIBE and drain markers, a
  // nack's copy) waited for the broker's delayed ACK, ≈ 40 ms (docs/bench-profiles.md §23.3).
  const setNoDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
  const promptly = () =>
    setNoDelay.mock.contexts.filter((_socket, i) => setNoDelay.mock.calls[i]![0] === true);
  const local = await connect(`${MQTT_URL}?clientIdPrefix=drv-nodelay-${process.pid}-`);
  try {
    const topic = freshTopic('nodelay');
    const consumer = await local.consumer(topic, { group: 'g' });
    const native = consumer.unwrap() as MqttClient;
    expect(promptly()).toContain(native.stream);
    expect(promptly()).not.toContain((local.unwrap() as MqttClient).stream);
    // The connection drops; MQTT.js reconnects on a new socket, which is switched the same way.
    const first = native.stream;
    const reconnected = new Promise<void>((resolve) => native.once('connect', () => resolve()));
    first.destroy();
    await reconnected;
    expect(native.stream).not.toBe(first);
    expect(promptly()).toContain(native.stream);
    await (await local.producer(topic)).send('after the reconnect');
    const [m] = await take(consumer, 1);
    expect(m!.text()).toBe('after the reconnect');
    await consumer.close();
  } finally {
    setNoDelay.mockRestore();
    await local.close();
  }
});
