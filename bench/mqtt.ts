// Switchyard's mqtt driver against raw MQTT.js in the same run, on the same broker (Mosquitto on
// 127.0.0.1:1883), at QoS 1 with 256 B and 16 KiB bodies. Two phases per size and round, the
// contenders' order rotating each round, ratios paired per round:
//   publish:    N messages to a topic nobody subscribes (the broker PUBACKs and drops them), so the
//               phase is the producer's cost alone.
//               raw: MQTT.js publishAsync with 1,000 in flight; Switchyard: 1,000 concurrent send().
//   end to end: N messages published as above while the same side consumes them from a shared
//               subscription with Receive Maximum = PREFETCH.
//               raw: MQTT.js 'message' handler, MQTT.js acknowledging on receipt (its default);
//               Switchyard: run() with a handler, PUBACK after the handler.
// Client CPU per message is this process's CPU over the phase (publisher and consumer both run
// here; the broker is another process).
// Run alone: npx tsx --conditions=switchyard-source bench/mqtt.ts

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { type Broker, connect } from '@switchyard/core';
import mqtt, { type MqttClient } from 'mqtt';
import { alternate, compare, concurrently, measure, printRows, Rounds, sizeLabel } from './measure.js';
import type { BenchRow } from './types.js';

const URL_DEFAULT = 'mqtt://127.0.0.1:1883';
const SIZES = [
  { bytes: 256, count: 5_000 },
  { bytes: 16 * 1024, count: 2_000 },
] as const;
const WINDOW = 1_000;
const PREFETCH = 200;
const ROUNDS = 3;

interface Contender {
  publish(topic: string, body: Buffer, count: number): Promise<void>;
  /** Publishes `count` while its consumer (subscribed first) receives them all. */
  endToEnd(topic: string, body: Buffer, count: number): Promise<void>;
  close(): Promise<void>;
}

async function rawContender(url: string, id: string): Promise<Contender> {
  const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-raw-p-${id}` });
  const publish = (topic: string, body: Buffer, count: number) =>
    concurrently(count, WINDOW, () => publisher.publishAsync(topic, body, { qos: 1 }));
  return {
    publish,
    async endToEnd(topic, body, count) {
      const consumer: MqttClient = await mqtt.connectAsync(url, {
        protocolVersion: 5,
        clientId: `bench-raw-c-${id}`,
        clean: false,
        properties: { sessionExpiryInterval: 60, receiveMaximum: PREFETCH },
      });
      let received = 0;
      const all = new Promise<void>((resolve) =>
        consumer.on('message', () => {
          if (++received === count) resolve();
        }),
      );
      await consumer.subscribeAsync(`$share/bench/${topic}/#`, { qos: 1 });
      await publish(topic, body, count);
      await all;
      await consumer.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
    },
    close: () => publisher.endAsync(),
  };
}

async function switchyardContender(url: string, id: string): Promise<Contender> {
  const broker: Broker = await connect(`${url}?clientIdPrefix=bench-sy-${id}-`);
  const publish = async (topic: string, body: Buffer, count: number) => {
    const producer = await broker.producer(topic);
    await concurrently(count, WINDOW, () => producer.send({ body }));
    await producer.close();
  };
  return {
    publish,
    async endToEnd(topic, body, count) {
      const consumer = await broker.consumer(topic, { group: 'bench', prefetch: PREFETCH });
      let handled = 0;
      const done = new AbortController();
      const running = consumer.run(
        () => {
          if (++handled === count) done.abort();
        },
        { signal: done.signal },
      );
      await publish(topic, body, count);
      await running;
      await consumer.close();
    },
    close: () => broker.close(),
  };
}

export async function benchMqtt(): Promise<BenchRow[]> {
  const url = process.env.SWITCHYARD_URL?.startsWith('mqtt') ? process.env.SWITCHYARD_URL : URL_DEFAULT;
  const id = randomBytes(3).toString('hex');
  const contenders: Record<string, Contender> = {
    raw: await rawContender(url, id),
    sy: await switchyardContender(url, id),
  };
  const rows: BenchRow[] = [];
  try {
    for (const { bytes, count } of SIZES) {
      const body = randomBytes(bytes);
      const publish = new Rounds();
      const e2e = new Rounds();
      let n = 0;
      const sides = Object.fromEntries(
        Object.entries(contenders).map(([key, side]) => [
          key,
          async () => {
            const topic = `bench/${id}/${key}/${n++}`;
            publish.add(key, await measure(count, () => side.publish(`${topic}/nobody`, body, count)));
            e2e.add(key, await measure(count, () => side.endToEnd(topic, body, count)));
          },
        ]),
      );
      await alternate(ROUNDS, sides, [publish, e2e]);
      const size = sizeLabel(bytes);
      // Switchyard's PUBLISH also carries the message id, send time and content type in MQTT 5
      // properties (what a consumer reads back), the raw one the payload alone.
      const note = `${count} × ${size}, QoS 1, median of ${ROUNDS}; Switchyard's PUBLISH carries id, time and content type properties, raw the payload alone`;
      rows.push(
        ...compare({
          label: `mqtt publish ${size}`,
          rounds: publish,
          expert: { key: 'raw', how: `MQTT.js publishAsync, ${WINDOW} in flight` },
          switchyard: { key: 'sy', how: `${WINDOW} concurrent send() calls` },
          note,
        }),
        ...compare({
          label: `mqtt end to end ${size}`,
          rounds: e2e,
          expert: {
            key: 'raw',
            how: `MQTT.js shared subscription, acked on receipt, Receive Maximum ${PREFETCH}`,
          },
          switchyard: { key: 'sy', how: `run(), PUBACK after the handler, prefetch ${PREFETCH}` },
          note,
        }),
      );
    }
  } finally {
    for (const side of Object.values(contenders)) await side.close();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchMqtt());
