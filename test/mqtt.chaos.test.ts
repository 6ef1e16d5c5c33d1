// Chaos on MQTT: 5,000 messages at QoS 1 through a producer and two consumers of one shared-
// subscription group while every client connection is cut three times (the sockets destroyed
// under MQTT.js, which reconnects by itself) and the broker restarts once (SIGTERM, which
// persists sessions and queued messages, then a new process on the same port). The broker is a
// private Mosquitto on a port of its own (test/mqtt-helpers.ts), never the shared one on 1883.
// Nothing may be lost; duplicates are allowed (at least once: a PUBACK lost in a cut, a resent
// PUBLISH) and counted.

import { type Broker, connect } from '@switchyard/core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeliveryLog, sleep } from './chaos-support.js';
import { type PrivateMosquitto, startPrivateMosquitto } from './mqtt-helpers.js';

const TOTAL = 5_000;
const BATCH = 50;
const PACE_MS = 20;
const DISRUPTIONS = [
  { at: 800, kind: 'cut' },
  { at: 1_600, kind: 'cut' },
  { at: 2_400, kind: 'restart' },
  { at: 3_400, kind: 'cut' },
] as const;
const TAIL = 1_000;

let mosquitto: PrivateMosquitto;
const brokers: Broker[] = [];

beforeAll(async () => {
  // Mosquitto drops QoS 1 messages beyond max_queued_messages (1000 by default) per session, as
  // configured, when consumers fall behind during an outage: unlimited here (docs/naming.md says so).
  mosquitto = await startPrivateMosquitto(['max_queued_messages 0']);
});
afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
  await mosquitto?.stop();
});

it('loses nothing at QoS 1 through three connection cuts and a broker restart; clients resume by themselves', {
  timeout: 180_000,
}, async () => {
  // unroutable=error: a send the broker dropped for want of subscribers (after its restart, until
  // the consumers have subscribed again) fails retryable, and the portable layer sends it again.
  const url = `${mosquitto.url}?reconnectPeriodMs=200&unavailableTimeoutMs=30000&unroutable=error`;
  const producerBroker = await connect(`${url}&clientIdPrefix=chaos-p-`);
  const consumerBroker = await connect(`${url}&clientIdPrefix=chaos-c-`);
  brokers.push(producerBroker, consumerBroker);
  const reconnects = { producer: 0, consumer: 0 };
  producerBroker.onStatus((e) => {
    if (e.type === 'reconnecting') reconnects.producer++;
  });
  consumerBroker.onStatus((e) => {
    if (e.type === 'reconnecting') reconnects.consumer++;
  });
  const consumers = await Promise.all([
    consumerBroker.consumer('chaos', { group: 'workers', prefetch: 50 }),
    consumerBroker.consumer('chaos', { group: 'workers', prefetch: 50 }),
  ]);
  const producer = await producerBroker.producer('chaos');
  const log = new DeliveryLog(TOTAL);
  const stop = new AbortController();
  const runs = consumers.map((c) =>
    c.run(
      async (m) => {
        await sleep(1); // unacked deliveries are out when a disruption comes
        log.delivered(m.text());
      },
      { signal: stop.signal, concurrency: 8 },
    ),
  );
  for (const r of runs) r.catch(() => {});

  let confirmed = 0;
  let producing = true;
  let lastIssued = false;
  const failures: unknown[] = [];
  const production = (async () => {
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < TOTAL; i += BATCH) {
      while (i >= TOTAL - TAIL && !lastIssued) await sleep(10);
      const batch = Array.from({ length: BATCH }, (_, j) => ({ body: `m-${i + j}`, id: `m-${i + j}` }));
      sends.push(
        producer.send(batch).then(
          () => {
            confirmed += batch.length;
          },
          (error: unknown) => {
            failures.push(error);
          },
        ),
      );
      await sleep(PACE_MS);
      while (i + BATCH - confirmed - failures.length * BATCH > 1_000) await sleep(10);
    }
    producing = false;
    await Promise.all(sends);
  })();

  const natives = () => [
    producerBroker.unwrap() as MqttClient,
    ...consumers.map((c) => c.unwrap() as MqttClient),
  ];
  try {
    for (const { at, kind } of DISRUPTIONS) {
      await log.waitFor(at, 60_000);
      expect(producing, 'the producer is still sending at each disruption').toBe(true);
      if (kind === 'cut') for (const client of natives()) client.stream.destroy();
      else await mosquitto.restart();
      const before = log.distinct;
      // The next disruption only once messages flow again.
      await log.waitFor(before + 100, 60_000);
    }
  } finally {
    lastIssued = true;
  }
  await production;
  const all = await log.waitFor(TOTAL, 60_000);
  stop.abort();
  await Promise.all(runs);
  const lost = log.missing(Array.from({ length: TOTAL }, (_, i) => `m-${i}`));
  console.log(
    `mqtt chaos: sent ${confirmed}/${TOTAL}, received ${log.received}, distinct ${log.distinct}, ` +
      `duplicates ${log.duplicates}, lost ${lost.length}, send failures ${failures.length}, ` +
      `reconnects producer ${reconnects.producer} consumer ${reconnects.consumer}, longest gap ${log.longestGapMs} ms`,
  );
  expect(failures).toEqual([]);
  expect(confirmed).toBe(TOTAL);
  expect(lost).toEqual([]);
  expect(all).toBe(true);
  expect(reconnects.producer).toBeGreaterThanOrEqual(DISRUPTIONS.length);
  expect(reconnects.consumer).toBeGreaterThanOrEqual(DISRUPTIONS.length);
});
