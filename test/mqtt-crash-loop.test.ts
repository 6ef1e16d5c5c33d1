// Crash loops and shared ids on MQTT 5 (Mosquitto on 127.0.0.1:1883), as test/crash-loop.test.ts
// runs them on the other flavours: test/fixtures/crashing-consumer.ts in a child process, SIGKILLed
// by the poison message and restarted, every child the same consumer of the group, so each resumes
// the session the one before it left (same clientIdPrefix, slot 0). Mosquitto resends the
// unacknowledged message there marked DUP; the driver checkpoints a DUP it never handed out (a
// copy with x-switchyard-attempts + 1, then the original acked), so the count survives the crash
// and the 4th delivery is dead-lettered before any handler. The rows go to docs/reliability.md.

import { randomUUID } from 'node:crypto';
import { type Broker, type Consumer, connect } from '@switchyard/core';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type CrashLoopRun,
  expectBounded,
  expectHealthy,
  GOOD,
  MAX,
  runHealthySharedId,
} from './crash-loop-scenarios.js';
import { crashLoop, POISON, unhandled, wronglyDeadLettered } from './crash-loop-support.js';
import { freshTopic, MQTT_URL } from './mqtt-helpers.js';

// Up to maxDeliveries + 2 children of at most 60 s each (crashLoop's runMs), on a loaded machine.
const TIMEOUT = { timeout: 420_000 };
const FLAVOUR = 'mqtt (MQTT 5, Mosquitto 2.0, shared subscription)';

const run = randomUUID().slice(0, 6);
/** The children's client ids: `<prefix><group>-0`, one session every child resumes. */
const CHILD_PREFIX = `sy-crash-${run}-`;
let broker: Broker;

beforeAll(async () => {
  // The test process's own consumers (the dead-letter reader) under a prefix of their own.
  broker = await connect(`${MQTT_URL}?clientIdPrefix=${encodeURIComponent(`sy-crash-test-${run}-`)}`);
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 5_000 });
});

/** A plain MQTT 5 client on the children's session: persistent, or clean to end it. */
function sessionClient(clientId: string, clean: boolean): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(MQTT_URL, {
    clientId,
    clean,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: clean ? 0 : 300 },
    reconnectPeriod: 0,
  });
}

/**
 * runCrashLoop for MQTT. A shared subscription exists only in the sessions of its members, and a
 * message no subscription matches is dropped: so the children's session subscribes the group
 * before the sends (a plain client subscribes under the children's client id and leaves, the way
 * a crashed child leaves it), and the first child resumes it and gets the messages.
 */
async function runMqttCrashLoop(source: string, group: string, deadLetter: string): Promise<CrashLoopRun> {
  const clientId = `${CHILD_PREFIX}${group}-0`;
  const dead = await broker.consumer(deadLetter, { group: 'reader' });
  const setup = await sessionClient(clientId, false);
  await setup.subscribeAsync(`$share/${group}/${source}/#`, { qos: 1 });
  await setup.endAsync();
  const producer = await broker.producer(source);
  await producer.send([{ body: POISON, headers: { kind: 'bad' } }, ...GOOD.map((body) => ({ body }))]);
  await producer.close();
  const result = await crashLoop({
    url: `${MQTT_URL}?clientIdPrefix=${encodeURIComponent(CHILD_PREFIX)}`,
    source,
    group,
    deadLetter,
    maxDeliveries: MAX,
    runs: MAX + 2,
    good: GOOD,
    dead,
  });
  await dead.close();
  // What the children never settled is still in their session (or lost): resume it in this
  // process, without maxDeliveries, so nothing here can dead-letter it.
  const missing = new Set(unhandled(result, GOOD));
  if (!result.deadLettered.some((m) => m.text() === POISON)) missing.add(POISON);
  const rescued = new Set<string>();
  if (missing.size > 0) {
    const rescue = await broker.consumer(source, { group, driverOptions: { clientId } });
    for (const body of await take(rescue, (m) => missing.has(m), missing.size)) rescued.add(body);
    await rescue.close();
  }
  // End the session (and what a failed run left in it).
  await (await sessionClient(clientId, true)).endAsync();
  return {
    result,
    poisonKept: rescued.has(POISON),
    rescuedGood: GOOD.filter((body) => rescued.has(body)).length,
    lost: [...missing].filter((body) => !rescued.has(body)).length,
    wrong: wronglyDeadLettered(result).length,
  };
}

/** Receives (acking everything) until `n` distinct matching bodies arrived or 30 s passed. */
async function take(c: Consumer, match: (body: string) => boolean, n: number): Promise<Set<string>> {
  const taken = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (taken.size < n && Date.now() < deadline) {
    for (const m of await c.receive({ max: 10, waitMs: 500 })) {
      await m.ack();
      if (match(m.text())) taken.add(m.text());
    }
  }
  return taken;
}

describe('mqtt 5: a resent (DUP) message new to the process is checkpointed with its count', () => {
  it('a crashing poison message is dead-lettered after exactly maxDeliveries crashes', TIMEOUT, async () => {
    const source = freshTopic('crash');
    const outcome = await runMqttCrashLoop(source, 'svc', `${source}-dlq`);
    await expectBounded(
      FLAVOUR,
      outcome,
      'the session outlives each crash and Mosquitto resends its unacked message marked DUP; a DUP the process never handed out is republished with x-switchyard-attempts + 1 and acked, and the copy handed out; the 4th delivery is dead-lettered before any handler',
      'the portable layer',
    );
  });

  it('20 healthy messages sharing one id are never dead-lettered', TIMEOUT, async () => {
    const source = freshTopic('healthy');
    const outcome = await runHealthySharedId({
      broker,
      source,
      group: 'svc',
      deadLetter: `${source}-dlq`,
    });
    await expectHealthy(FLAVOUR, outcome, 'one sender id; the count travels in the nack copy');
  });
});
