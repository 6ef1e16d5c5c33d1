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
    const native = consumer.unwrap() as MqttClient;
    const sent: string[] = [];
    native.on('packetsend', (packet) => {
      const to = (packet as { topic?: string }).topic;
      sent.push(packet.cmd === 'publish' && to?.startsWith('switchyard/drain/') ? 'marker' : packet.cmd);
    });
    await consumer.close();
    expect(sent).toEqual(['marker', 'unsubscribe', 'marker', 'disconnect']);
    // Drained with nothing held: the close ended the session, so the client id comes back to none.
    const again = mqtt.connect(URL, { protocolVersion: 5, clientId, clean: false });
    try {
      const present = await new Promise<boolean>((resolve, reject) => {
        again.once('connect', (connack) => resolve(connack.sessionPresent));
        again.once('error', reject);
      });
      expect(present).toBe(false);
    } finally {
      await again.endAsync();
    }
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
      const native = consumer.unwrap() as MqttClient;
      const sent: string[] = [];
      native.on('packetsend', (packet) => sent.push(packet.cmd));
      await consumer.close();
      // The refused marker: nothing is known of what is in flight, so the session is kept as it is.
      expect(sent).toEqual(['publish', 'disconnect']);
      const again = mqtt.connect(url, {
        protocolVersion: 5,
        clientId: native.options.clientId,
        clean: false,
      });
      try {
        const present = await new Promise<boolean>((resolve, reject) => {
          again.once('connect', (connack) => resolve(connack.sessionPresent));
          again.once('error', reject);
        });
        expect(present).toBe(true);
      } finally {
        await again.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      }
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
