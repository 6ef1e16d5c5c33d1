// Switchyard's mqtt driver against raw MQTT.js in the same run, on the same broker (Mosquitto on
// 127.0.0.1:1883), at QoS 1 with 256 B and 16 KiB bodies. Two phases per size and round, the
// contenders' order rotating each round, ratios paired per round:
//   publish:    N messages to a topic nobody subscribes (the broker PUBACKs and drops them), so the
//               phase is the producer's cost alone.
//               raw: MQTT.js publishAsync with 1,000 in flight; Switchyard: 1,000 concurrent send()
//               on one producer per topic, kept across rounds as the raw side keeps its client.
//   end to end: N messages published as above, at most AHEAD in front of the consumer, while the
//               same side consumes them from a shared subscription with Receive Maximum = PREFETCH.
//               raw: MQTT.js 'message' handler, PUBACK after it: MQTT.js (handlers/publish.js)
//               emits 'message', then calls handleMessage, then writes the PUBACK, so with this
//               synchronous handler the PUBACK follows the handler, one socket write per PUBACK
//               (checked: handler 1, PUBACK 1, handler 2, …; 2,001 writes for 2,000 messages);
//               Switchyard: run() with a handler, PUBACK after the handler, one write per ack
//               batch (21 writes for the same 2,000). Same guarantee, same QoS 1, same Receive
//               Maximum: no separate at-least-once expert is needed (docs/bench-profiles.md, MQTT).
// Client CPU per message is this process's CPU over the phase (publisher and consumer both run
// here; the broker is another process).
// Run alone: npx tsx --conditions=switchyard-source bench/mqtt.ts

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { type Broker, type ConnectOptions, connect, type Producer } from '@switchyard/core';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { alternate, compare, concurrently, measure, printRows, Rounds, sizeLabel } from './measure.js';
import type { BenchRow } from './types.js';

const URL_DEFAULT = 'mqtt://127.0.0.1:1883';
const SIZES = [
  { bytes: 256, count: 5_000 },
  { bytes: 16 * 1024, count: 2_000 },
] as const;
const WINDOW = 1_000;
export const PREFETCH = 200;
/**
 * End to end, how far the publisher may run ahead of its consumer. Mosquitto drops QoS 1 messages
 * beyond max_queued_messages (1,000 by default) per session ("Outgoing messages are being dropped"
 * in its log): a consumer that falls 1,000 behind loses messages and the phase never ends. Both
 * sides wait alike, so the row measures a lossless pipeline.
 */
export const AHEAD = 800;
// Five, not three: on 2 cores one round in three often lands on a GC or a scheduling stall of one
// side, and the median of three then moved by up to 0.2× between whole runs of the same code.
const ROUNDS = 5;

export interface Contender {
  publish(topic: string, body: Buffer, count: number): Promise<void>;
  /** Publishes `count` while its consumer (subscribed first) receives them all. */
  endToEnd(topic: string, body: Buffer, count: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a Switchyard PUBLISH carries besides the payload (packages/mqtt/src/properties.ts), made
 * the way core makes it: an id unique across processes (a random prefix drawn once and a counter,
 * as core/src/ids.ts), the send time and the content type. The raw side carries the same, as the
 * RabbitMQ bench's raw side sets Switchyard's AMQP properties: a consumer of either reads back the
 * same message, and the broker stores and forwards the same bytes.
 */
function rawProperties(): () => IClientPublishOptions {
  const prefix = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}-`;
  let counter = 0;
  return () => ({
    qos: 1,
    properties: {
      contentType: 'application/octet-stream',
      userProperties: {
        'x-switchyard-id': prefix + (++counter).toString(36),
        'x-switchyard-published': String(Date.now()),
      },
    },
  });
}

/**
 * Holds the publisher AHEAD messages in front of the consumer (see AHEAD). Each handled message
 * lets exactly one waiting publish go, first come first served. (It used to wake every waiting
 * publish, each of which re-checked and most of which waited again: with 1,000 in flight that was
 * ≈ 200 promise reactions and ≈ 8 KB of garbage per handled message on both sides, most of the
 * harness's cost in the end-to-end rows; docs/bench-profiles.md §25.3.)
 */
class Lag {
  #started = 0;
  #handled = 0;
  readonly #waiting: Array<() => void> = [];

  /** The consumer handled one. */
  handled(): void {
    this.#handled++;
    const next = this.#waiting.shift();
    if (next !== undefined) {
      this.#started++;
      next();
    }
  }

  /** Before a publish: undefined to go on now, or a promise to wait for first. */
  gate(): Promise<void> | undefined {
    if (this.#waiting.length === 0 && this.#started - this.#handled < AHEAD) {
      this.#started++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

/** `count` publishes, `WINDOW` at a time, each after its turn through `lag` when there is one. */
function windowed(count: number, publish: () => Promise<unknown>, lag?: Lag): Promise<void> {
  if (lag === undefined) return concurrently(count, WINDOW, publish);
  return concurrently(count, WINDOW, async () => {
    const wait = lag.gate();
    if (wait !== undefined) await wait;
    await publish();
  });
}

export async function rawContender(url: string, id: string): Promise<Contender> {
  const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-raw-p-${id}` });
  const options = rawProperties();
  const publish = (topic: string, body: Buffer, count: number, lag?: Lag) =>
    windowed(count, () => publisher.publishAsync(topic, body, options()), lag);
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
      const lag = new Lag();
      const all = new Promise<void>((resolve) =>
        consumer.on('message', () => {
          lag.handled();
          if (++received === count) resolve();
        }),
      );
      await consumer.subscribeAsync(`$share/bench/${topic}/#`, { qos: 1 });
      await publish(topic, body, count, lag);
      await all;
      await consumer.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
    },
    close: () => publisher.endAsync(),
  };
}

/** `options`: connect options (bench/profile-mqtt.ts under valgrind gives sends a longer deadline). */
export async function switchyardContender(
  url: string,
  id: string,
  options?: ConnectOptions,
): Promise<Contender> {
  const broker: Broker = await connect(`${url}?clientIdPrefix=bench-sy-${id}-`, options);
  /**
   * One producer per topic, opened at its first phase and kept, as a service keeps its producers and
   * as the raw side keeps its one publishing client (each side publishes to one topic per phase
   * kind, see benchMqtt). Opened and closed every phase, the producer (core's and the driver's)
   * died with its phase: the next mark-compact collected its classes' hidden classes and threw away
   * the optimized code of the whole send path, which the next phase compiled again (8–19
   * functions per GC after a Switchyard publish phase; docs/bench-profiles.md, mqtt).
   */
  const producers = new Map<string, Producer>();
  const publish = async (topic: string, body: Buffer, count: number, lag?: Lag) => {
    let producer = producers.get(topic);
    if (producer === undefined) {
      producer = await broker.producer(topic);
      producers.set(topic, producer);
    }
    const opened = producer;
    await windowed(count, () => opened.send({ body }), lag);
  };
  return {
    publish,
    async endToEnd(topic, body, count) {
      const consumer = await broker.consumer(topic, { group: 'bench', prefetch: PREFETCH });
      let handled = 0;
      const lag = new Lag();
      const done = new AbortController();
      const running = consumer.run(
        () => {
          lag.handled();
          if (++handled === count) done.abort();
        },
        { signal: done.signal },
      );
      await publish(topic, body, count, lag);
      await running;
      await consumer.close();
    },
    async close() {
      for (const producer of producers.values()) await producer.close();
      await broker.close();
    },
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
      const sides = Object.fromEntries(
        Object.entries(contenders).map(([key, side]) => [
          key,
          async () => {
            // One topic per side and phase kind, the same every round: nobody subscribes to the
            // publish phases' topic, and each end-to-end phase consumes all it publishes on its own,
            // on a fresh session that subscribes before the first publish and ends at the close.
            const topic = `bench/${id}/${key}`;
            publish.add(key, await measure(count, () => side.publish(`${topic}/nobody`, body, count)));
            e2e.add(key, await measure(count, () => side.endToEnd(`${topic}/e2e`, body, count)));
          },
        ]),
      );
      await alternate(ROUNDS, sides, [publish, e2e]);
      const size = sizeLabel(bytes);
      // Both PUBLISHes carry the message id, send time and content type in MQTT 5 properties
      // (what a consumer reads back): see rawProperties.
      const note = `${count} × ${size}, QoS 1, median of ${ROUNDS}; both sides' PUBLISH carries id, time and content type properties; end to end, the publisher stays at most ${AHEAD} ahead of the consumer`;
      rows.push(
        ...compare({
          label: `mqtt publish ${size}`,
          rounds: publish,
          expert: { key: 'raw', how: `MQTT.js publishAsync, ${WINDOW} in flight` },
          switchyard: {
            key: 'sy',
            how: `${WINDOW} concurrent send() calls on a producer kept across rounds`,
          },
          note,
          profile:
            "the driver gives MQTT.js a no-op logger (≈ 20 log calls per publish, each an argument array in the debug package): a 256 B publish allocates ≈ 13 KB against raw's ≈ 15.2 KB; the driver alone, fed in core's batch shape, is below raw; core's per-send() path adds ≈ 2 µs (promise, SendGroup, message id, confirm), so Switchyard's client CPU per message is at raw's (paired in one process; docs/bench-profiles.md §22.3)",
        }),
        ...compare({
          label: `mqtt end to end ${size}`,
          rounds: e2e,
          expert: {
            key: 'raw',
            how: `MQTT.js shared subscription, PUBACK after its synchronous 'message' handler (one write per PUBACK), Receive Maximum ${PREFETCH}`,
          },
          switchyard: { key: 'sy', how: `run(), PUBACK after the handler, prefetch ${PREFETCH}` },
          note,
          profile:
            "both sides PUBACK after the handler; the phase includes each side's close: raw's is one DISCONNECT, Switchyard's drains the session (two markers and an UNSUBSCRIBE; the drain topic is subscribed at open), which waited ≈ 40 ms on the broker's delayed ACK until the driver switched Nagle off on consumer connections (most of the gap in the 05:43 run); the driver alone (one PUBACK write per receive against raw's one per message) is below raw on the main thread; core's send and consume path adds ≈ 4 µs main thread per message at 256 B and ≈ 11 µs at 16 KiB (docs/bench-profiles.md §18.7, §23.3); at 16 KiB the driver's in-flight table kept acked packets, bodies included, reachable until a mark-compact (a Map's old hash table), which doubled V8's mark-compacts for external memory; it now lets go of them on ack (docs/bench-profiles.md, mqtt in the twelfth pass)",
        }),
      );
    }
  } finally {
    for (const side of Object.values(contenders)) await side.close();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchMqtt());
