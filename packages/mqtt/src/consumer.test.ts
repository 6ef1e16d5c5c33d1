// The consumer's close on the real Mosquitto (127.0.0.1:1883, and a private one with an ACL):
// which packets it sends.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@switchyard/core';
import mqtt, { type MqttClient } from 'mqtt';
import { expect, it } from 'vitest';

const URL = process.env.SWITCHYARD_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

type Consumer = Awaited<ReturnType<Awaited<ReturnType<typeof connect>>['consumer']>>;

/** The packets a consumer's close sends, a PUBLISH on its drain topic named `marker`. */
async function closePackets(consumer: Consumer): Promise<string[]> {
  const sent: string[] = [];
  (consumer.unwrap() as MqttClient).on('packetsend', (packet) => {
    const to = (packet as { topic?: string }).topic;
    sent.push(packet.cmd === 'publish' && to?.startsWith('switchyard/drain/') ? 'marker' : packet.cmd);
  });
  await consumer.close();
  return sent;
}

/** Whether the broker holds a session for `clientId` (ended, if it did, on the way out). */
async function sessionPresent(url: string, clientId: string): Promise<boolean> {
  const client = mqtt.connect(url, { protocolVersion: 5, clientId, clean: false });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      client.once('connect', (connack) => resolve(connack.sessionPresent));
      client.once('error', reject);
    });
  } finally {
    await client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
  }
}

it("subscribes the close's drain topic with the group's filters at open: the close sends no SUBSCRIBE, and its markers still end the session", async () => {
  // The close's first marker used to wait for a SUBSCRIBE of its own: one round trip per close,
  // which the bench's end-to-end rows paid every phase (docs/bench-profiles.md, mqtt).
  const broker = await connect(`${URL}?clientIdPrefix=sy-test-drain-${process.pid}-`);
  const topic = `sy-test/drain-open-${randomUUID().slice(0, 8)}`;
  const clientId = `sy-test-drain-${process.pid}-${Date.now()}`;
  try {
    const consumer = await broker.consumer(topic, { group: 'g', prefetch: 10, driverOptions: { clientId } });
    await (await broker.producer(topic)).send('one');
    const [message] = await consumer.receive({ waitMs: 10_000 });
    expect(message?.text()).toBe('one');
    await message!.ack();
    expect(await closePackets(consumer)).toEqual(['marker', 'unsubscribe', 'marker', 'disconnect']);
    // Drained with nothing held: the close ended the session, so the client id comes back to none.
    expect(await sessionPresent(URL, clientId)).toBe(false);
  } finally {
    await broker.close();
  }
});

it('opens, consumes and closes keeping its session when an ACL denies the drain topic', async () => {
  // The drain topic now rides in the open's SUBSCRIBE: a broker that will not let the consumer use
  // it must not fail the open. Mosquitto 2.0.11 grants the SUBSCRIBE and refuses the marker's
  // PUBLISH; a refused SUBACK is handled the same way (the close then sends no marker at all).
  const dir = await mkdtemp(join(tmpdir(), 'sy-mqtt-acl-'));
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  await writeFile(join(dir, 'acl'), 'topic readwrite sy-test/#\n');
  await writeFile(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `acl_file ${join(dir, 'acl')}`,
      // Started as root, Mosquitto would switch to the mosquitto user, who cannot read here.
      `user ${process.env.USER ?? 'root'}`,
      'log_dest none',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], {
    stdio: 'ignore',
  });
  try {
    const url = `mqtt://127.0.0.1:${port}`;
    // Up once a client gets its CONNACK.
    for (let up = false; !up; ) {
      up = await mqtt
        .connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
        .then((c) => c.endAsync().then(() => true))
        .catch(() => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)));
    }
    const broker = await connect(`${url}?clientIdPrefix=sy-test-acl-`);
    try {
      const topic = `sy-test/acl-${randomUUID().slice(0, 8)}`;
      const consumer = await broker.consumer(topic, { group: 'g' });
      await (await broker.producer(topic)).send('one');
      const [message] = await consumer.receive({ waitMs: 10_000 });
      expect(message?.text()).toBe('one');
      await message!.ack();
      const clientId = (consumer.unwrap() as MqttClient).options.clientId!;
      // The refused marker: nothing is known of what is in flight, so the session is kept as it is.
      expect(await closePackets(consumer)).toEqual(['marker', 'disconnect']);
      expect(await sessionPresent(url, clientId)).toBe(true);
    } finally {
      await broker.close();
    }
  } finally {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
});

it('keeps a held message in its session at close when the broker drops the hand-back copy (PUBACK 0x10), instead of acknowledging it away', async () => {
  // A session's earlier connection (a raw MQTT.js client here) received a message on topic A,
  // never acknowledged it, unsubscribed and went away. A consumer resuming that session under its
  // client id, for topic B, gets the message resent; no subscription matches A any more, so the
  // close's hand-back copy is dropped by the broker (PUBACK 0x10). Acknowledging the original then
  // would delete the only copy; it must stay in the session for the next consumer under this id.
  const id = randomUUID().slice(0, 8);
  const topicA = `sy-test/handback-a-${id}`;
  const clientId = `sy-test-handback-${process.pid}-${id}`;
  const earlier = await mqtt.connectAsync(URL, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 300 },
  });
  // A client that never acknowledges (one that crashed while handling): its PUBACKs are not sent.
  const raw = earlier as unknown as { _sendPacket: (packet: { cmd: string }, ...rest: unknown[]) => void };
  const sendPacket = raw._sendPacket.bind(earlier);
  raw._sendPacket = (packet, ...rest) => {
    if (packet.cmd === 'puback') (rest[0] as (() => void) | undefined)?.();
    else sendPacket(packet, ...rest);
  };
  const arrived = new Promise<void>((resolve) => earlier.once('message', () => resolve()));
  await earlier.subscribeAsync(`$share/g/${topicA}`, { qos: 1 });
  const publisher = await mqtt.connectAsync(URL, { protocolVersion: 5 });
  await publisher.publishAsync(topicA, 'held', { qos: 1 });
  await publisher.endAsync();
  await arrived;
  await earlier.unsubscribeAsync(`$share/g/${topicA}`);
  await earlier.endAsync(true); // gone without a DISCONNECT: the session keeps its message

  const broker = await connect(`${URL}?clientIdPrefix=sy-test-handback-`, { retry: { maxAttempts: 1 } });
  try {
    const consumer = await broker.consumer(`sy-test/handback-b-${id}`, {
      group: 'g',
      driverOptions: { clientId },
    });
    const [message] = await consumer.receive({ waitMs: 10_000 });
    expect(message?.text()).toBe('held');
    // Held by this caller, the message is given back at close: that copy is dropped too (and, with
    // one attempt, not retried), and the driver's hand-back then finds the message still in flight.
    await consumer.close();
  } finally {
    await broker.close();
  }

  // The next connection of the session gets the message again: the broker resends it right after
  // the CONNACK, so the listener is on before the connection; a marker published through the
  // session afterwards stands for "nothing came first".
  const next = mqtt.connect(URL, { protocolVersion: 5, clientId, clean: false });
  const first = new Promise<string>((resolve) =>
    next.on('message', (_topic, payload) => resolve(payload.toString())),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      next.once('connect', () => resolve());
      next.once('error', reject);
    });
    const marker = `sy-test/handback-marker-${id}`;
    await next.subscribeAsync(marker, { qos: 1 });
    await next.publishAsync(marker, 'none', { qos: 1 });
    expect(await first).toBe('held');
  } finally {
    await next.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
  }
});
