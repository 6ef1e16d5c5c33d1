// MQTT 3.1.1 (Mosquitto on 127.0.0.1:1883): a consumer process killed (SIGKILL) while it holds an
// unacknowledged message of its shared subscription loses nothing. 3.1.1 consumers keep a
// persistent session (clean=false) under their slot client id `<clientIdPrefix><group>-<slot>`;
// the next consumer of the group under that id resumes it and Mosquitto resends the message
// (DUP). A close that still holds an unsettled message keeps the session the same way; a clean
// close with nothing held ends it (3.1.1 has no session expiry).

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type Broker, connect } from '@switchyard/core';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshTopic, MQTT_URL } from './mqtt-helpers.js';

const PREFIX = `sy-k311-${randomUUID().slice(0, 6)}-`;
const URL_311 = `${MQTT_URL}?protocolVersion=3.1.1&clientIdPrefix=${encodeURIComponent(PREFIX)}`;
const GROUP = 'svc';
/** The slot id the child and, after it, this process's consumer take: one session. */
const CLIENT_ID = `${PREFIX}${GROUP}-0`;
let broker: Broker;

beforeAll(async () => {
  broker = await connect(URL_311);
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 5_000 });
  // Whatever a failed run left under the slot id goes with a clean session.
  const cleanup = await mqtt.connectAsync(MQTT_URL, { clientId: CLIENT_ID, clean: true, protocolVersion: 4 });
  await cleanup.endAsync();
});

/** Whether the broker kept a session under `clientId` (connecting persistent, as a consumer would). */
function sessionPresent(clientId: string): Promise<boolean> {
  const probe = mqtt.connect(MQTT_URL, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
  return new Promise<boolean>((resolve, reject) => {
    probe.once('error', reject);
    probe.once('connect', (connack) => probe.end(false, {}, () => resolve(connack.sessionPresent)));
  });
}

/** Runs test/fixtures/kill-on-first-message.ts; resolves its output lines once it has died. */
function killedConsumer(source: string): {
  ready: Promise<void>;
  died: Promise<{ lines: string[]; killed: boolean }>;
} {
  const child = spawn(
    'node_modules/.bin/tsx',
    ['--conditions=switchyard-source', 'test/fixtures/kill-on-first-message.ts', source, GROUP],
    { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWITCHYARD_URL: URL_311 } },
  );
  const lines: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  let rest = '';
  const collect = (chunk: Buffer) => {
    rest += chunk.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('ready')) onReady();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const died = new Promise<{ lines: string[]; killed: boolean }>((resolve) =>
    // tsx runs the fixture in a child of its own and exits with 128 + 9 when that one is killed.
    child.on('exit', (code, signal) => resolve({ lines, killed: signal === 'SIGKILL' || code === 137 })),
  );
  return {
    ready: Promise.race([
      ready,
      died.then(({ lines: l }) => Promise.reject(new Error(`child exited before ready:\n${l.join('\n')}`))),
    ]),
    died,
  };
}

it('a 3.1.1 consumer killed holding an unacknowledged message: the next consumer of the group gets it', {
  timeout: 90_000,
}, async () => {
  const source = freshTopic('kill311');
  const child = killedConsumer(source);
  await child.ready;
  const producer = await broker.producer(source);
  await producer.send([{ body: 'held-by-the-dead' }]);
  await producer.close();
  const { lines, killed } = await child.died;
  expect(killed, lines.join('\n')).toBe(true);
  expect(lines).toContain('got held-by-the-dead');

  // The next consumer of the group in this process takes slot 0: the session the child left.
  const consumer = await broker.consumer(source, { group: GROUP });
  const bodies: string[] = [];
  const deadline = Date.now() + 30_000;
  while (bodies.length === 0 && Date.now() < deadline) {
    for (const m of await consumer.receive({ max: 10, waitMs: 1_000 })) {
      bodies.push(m.text());
      await m.ack();
    }
  }
  await consumer.close();
  expect(bodies, `lost: the child's unacknowledged message never came back\n${lines.join('\n')}`).toEqual([
    'held-by-the-dead',
  ]);

  // A clean close with nothing held ends the session: none is left under the slot id.
  expect(await sessionPresent(CLIENT_ID)).toBe(false);
});

it('a 3.1.1 consumer closed while a message it received is unsettled keeps its session for the next one', {
  timeout: 60_000,
}, async () => {
  const source = freshTopic('close311');
  const first = await broker.consumer(source, { group: GROUP, prefetch: 1 });
  const producer = await broker.producer(source);
  await producer.send([{ body: 'held-at-close' }]);
  await producer.close();
  const held = await first.receive({ max: 1, waitMs: 30_000 });
  expect(held.map((m) => m.text())).toEqual(['held-at-close']);
  // No ack: 3.1.1 has no nack to give it back with, so it stays unacknowledged in the session.
  await first.close({ timeoutMs: 2_000 });

  const next = await broker.consumer(source, { group: GROUP });
  const again = await next.receive({ max: 1, waitMs: 30_000 });
  for (const m of again) await m.ack();
  await next.close();
  expect(again.map((m) => m.text())).toEqual(['held-at-close']);
  expect(await sessionPresent(CLIENT_ID)).toBe(false);
});
