import { createHash } from 'node:crypto';
import {
  type Delivery,
  type DriverCloseOptions,
  type DriverConsumer,
  isAborted,
  type Logger,
  type RequeueCopy,
  UnsupportedError,
  Waiters,
} from '@switchyard/core/driver';
import type { IPublishPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import { Checkpoints } from './checkpoint.js';
import { watchClient } from './client-watch.js';
import { endClient } from './connection.js';
import { publishCopy } from './copy.js';
import { DRIVER, mapError } from './errors.js';
import { InFlight, type InFlightEntry, PUBACK_NOW } from './in-flight.js';
import { ATTEMPTS_PROPERTY, GROUP_PROPERTY, ID_PROPERTY, toDelivery, userProperty } from './properties.js';
import { routingKeyOf } from './topics.js';

// One consumer is one MQTT session: its own connection, a shared subscription
// `$share/<group>/<filter>` per filter, and MQTT 5 Receive Maximum = prefetch, so the broker sends
// at most `prefetch` unacknowledged messages. MQTT.js acknowledges a QoS 1 message as soon as it is
// read; here the PUBACK waits for the portable layer's ack (handleMessage passes MQTT.js an error,
// which makes it skip its own PUBACK), and is written with MQTT.js's packet codec.

/** Passed to MQTT.js's handleMessage callback so that it does not acknowledge the message itself. */
const HELD = Object.freeze(new Error('held until the handler acknowledges it'));

/** Times a closing consumer hands one message back at most (a safety bound on a copy loop). */
const MAX_HAND_BACKS = 10;
/** Markers a closing consumer waits for while its share keeps coming (a busy topic), before it unsubscribes. */
const MARKER_ROUNDS = 5;

/** A private topic each consumer marks the end of its session's queue with, at close. */
export const DRAIN_TOPIC = 'switchyard/drain';
const DRAIN_PREFIX = `${DRAIN_TOPIC}/`;

export interface ConsumerSettings {
  readonly source: string;
  readonly group: string;
  readonly filters: readonly string[];
  readonly version: 4 | 5;
  readonly logger: Logger;
  /** MQTT 3.1.1: ends the session under this consumer's client id (false when it could not). */
  readonly endSession: (deadline: number) => Promise<boolean>;
  readonly release: () => void;
}

export class MqttConsumer implements DriverConsumer {
  readonly #settings: ConsumerSettings;
  #client: MqttClient | undefined;
  readonly #inFlight = new InFlight();
  readonly #buffer: Delivery[] = [];
  /** A receiveBatch waiting for deliveries (or the close): core's Waiters, one timer for all waits. */
  readonly #arrivals = new Waiters();
  /** The portable layer's push listener (onReady): called per delivery instead of waking #arrivals. */
  #ready: (() => void) | undefined;
  /** Closing: what arrives is kept in the session (or handed back), not handed out. */
  #holding = false;
  #markers = 0;
  readonly #markerWaiters = new Map<string, () => void>();
  #subscribed = false;
  /** The drain topic's SUBACK at open: undefined when it was not asked for then (see drainTopic). */
  #drainGranted: boolean | undefined;
  #closing = false;
  /** Resent messages (DUP) new to this process, republished with their count + 1 (MQTT 5). */
  readonly #checkpoints: Checkpoints;
  /**
   * Checkpoints waiting for the group's subscription on this connection: a copy published before
   * it (a session resumed after its predecessor unsubscribed at close, or restored by a restarted
   * Mosquitto without its shared subscriptions) would match nothing and be dropped.
   */
  #unsubscribed: Array<() => void> | undefined = [];

  constructor(settings: ConsumerSettings) {
    this.#settings = settings;
    this.#checkpoints = new Checkpoints(this, {
      logger: settings.logger,
      // Closing: a message whose copy failed stays in the session for the next consumer.
      handOut: (delivery) => {
        if (this.#holding) return;
        this.#buffer.push(delivery);
        this.#arrived();
      },
    });
  }

  get native(): MqttClient | undefined {
    return this.#client;
  }

  /** Installs the message hook on a client before its first CONNACK. */
  attach(client: MqttClient): void {
    this.#client = client;
    watchClient(client); // PUBACK 0x10 on a copy: see requeueCopy
    client.handleMessage = (packet, callback) => {
      try {
        this.#onPublish(packet);
      } finally {
        callback(packet.qos === 1 ? HELD : undefined);
      }
    };
    client.on('connect', (connack) => {
      this.#unsubscribed ??= [];
      // Subscribe again after every reconnect, even to a session the broker says it kept:
      // Mosquitto 2.0.11 restores a session from its persistence file after a restart without its
      // shared subscriptions (sessionPresent, yet nothing arrives). Subscribing again is harmless:
      // it replaces the subscription, and shared subscriptions get no retained messages.
      if (this.#subscribed && !this.#closing) {
        this.subscribe().catch((error: unknown) =>
          this.#settings.logger.warn(
            { clientId: client.options.clientId, error: String(error) },
            'mqtt: subscribing again after a reconnect failed',
          ),
        );
      }
      const stale = this.#inFlight.reconnected(connack.sessionPresent);
      if (stale > 0) {
        this.#settings.logger.warn(
          { clientId: client.options.clientId, held: stale },
          'mqtt: the session expired while disconnected; messages being handled can no longer be acknowledged',
        );
      }
    });
  }

  async subscribe(): Promise<void> {
    const client = this.#client!;
    const { group, filters, version } = this.#settings;
    const what = `subscribe group "${group}" to ${filters.join(', ')}`;
    try {
      // The map form with `resubscribe`: otherwise MQTT.js skips filters it believes subscribed.
      const entries: Array<[string, { qos: 1 }]> = filters.map((f) => [`$share/${group}/${f}`, { qos: 1 }]);
      // The close's drain topic rides in the same SUBSCRIBE: at close it is then one round trip
      // shorter (it was a SUBSCRIBE of its own, answered before the first marker could go; the
      // bench's end-to-end rows pay a close per phase; docs/bench-profiles.md, mqtt).
      const drain = drainTopic(client);
      if (drain !== undefined) entries.push([drain, { qos: 1 }]);
      const map = { ...Object.fromEntries(entries), resubscribe: true } as unknown as ISubscriptionMap;
      const granted = await client.subscribeAsync(map);
      const refused = granted.find((g) => g.qos > 2 && g.topic !== drain);
      if (refused !== undefined) {
        throw Object.assign(new Error(`SUBACK refused ${refused.topic}`), { code: refused.qos });
      }
      // Refused (an ACL): the close knows nothing of what is in flight and keeps the session.
      if (drain !== undefined) this.#drainGranted = !granted.some((g) => g.topic === drain && g.qos > 2);
      this.#subscribed = true;
      const waiting = this.#unsubscribed ?? [];
      this.#unsubscribed = undefined;
      if (!this.#holding) for (const checkpoint of waiting) checkpoint();
    } catch (error) {
      throw mapError(error, what, version);
    }
  }

  #onPublish(packet: IPublishPacket): void {
    const id = packet.messageId;
    if (packet.topic.startsWith(DRAIN_PREFIX)) {
      if (id !== undefined) this.#puback(id);
      this.#markerWaiters.get(packet.payload.toString())?.();
      return;
    }
    if (packet.qos === 1 && id !== undefined) {
      const target = this.#settings.version === 5 ? userProperty(packet, GROUP_PROPERTY) : undefined;
      if (target !== undefined && target !== this.#settings.group) {
        // A nack's copy for another group: MQTT delivers it to every group; it is not ours.
        this.#puback(id);
        return;
      }
      const entry = this.#inFlight.arrived(id, packet);
      if (entry === PUBACK_NOW) this.#puback(id);
      // A resend of one being handled, or of one acked meanwhile: nothing to hand out.
      if (typeof entry === 'number') return;
      // DUP on a message this process has not seen: an earlier connection of the session had it
      // and never acknowledged it (killed, crashed, or closed keeping its session). It counts.
      const resent = packet.dup && this.#settings.version === 5;
      if (this.#holding) {
        if (this.#settings.version === 5) this.#handBack(entry, resent ? 1 : 0);
        return;
      }
      if (resent) {
        const checkpoint = () => this.#checkpoints.checkpoint(id, this.#delivery(packet, entry));
        if (this.#unsubscribed === undefined) checkpoint();
        else this.#unsubscribed.push(checkpoint);
      } else this.#push(packet, entry);
      return;
    }
    // QoS 0: no handle, nothing to acknowledge.
    if (!this.#holding) this.#push(packet, undefined);
  }

  #push(packet: IPublishPacket, handle: InFlightEntry | undefined): void {
    this.#buffer.push(this.#delivery(packet, handle));
    this.#arrived();
  }

  #arrived(): void {
    const ready = this.#ready;
    if (ready !== undefined) ready();
    else this.#arrivals.wakeAll();
  }

  #delivery(packet: IPublishPacket, handle: InFlightEntry | undefined): Delivery {
    return toDelivery(packet, routingKeyOf(this.#settings.source, packet.topic), handle);
  }

  #puback(messageId: number): void {
    this.#pubacks([messageId]);
  }

  /** One write for the PUBACKs of an ack batch: a socket write per message cost as much as the rest of the ack. */
  #pubacks(messageIds: readonly number[]): void {
    const client = this.#client;
    if (messageIds.length === 0 || client?.connected !== true) return;
    client.stream.write(pubackBytes(messageIds));
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#buffer.length === 0 && waitMs > 0 && !isAborted(signal)) {
      await this.#arrivals.wait(waitMs, signal);
    }
    return this.takeReady(max);
  }

  /** Push mode (core calls it once): `ready` is called per delivery pushed into the buffer. */
  onReady(ready: () => void): void {
    this.#ready = ready;
    if (this.#buffer.length > 0) ready();
  }

  /** Up to `max` buffered deliveries, now (this consumer never stops for good: it reconnects). */
  takeReady(max: number): Delivery[] {
    return this.#buffer.splice(0, max);
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const connected = this.#client?.connected === true;
    const pubacks: number[] = [];
    for (const delivery of deliveries) {
      // The message's InFlight entry; none for QoS 0, which has nothing to acknowledge.
      const entry = delivery.handle as InFlightEntry | undefined;
      if (entry !== undefined && this.#inFlight.ack(entry, connected)) pubacks.push(entry.id);
    }
    this.#pubacks(pubacks);
  }

  async nack(): Promise<void> {
    // capabilities.nack is 'emulated': the portable layer nacks through requeueCopy.
    throw new UnsupportedError('MQTT has no negative acknowledgement; nack goes through requeueCopy', {
      driver: DRIVER,
    });
  }

  async requeueCopy(copies: readonly RequeueCopy[]): Promise<Array<true | Error>> {
    const { group, version } = this.#settings;
    return Promise.all(
      copies.map(({ delivery, attempts }) =>
        publishCopy(this.#client!, delivery.native as IPublishPacket, attempts, group, version),
      ),
    );
  }

  /**
   * Gives back what the session holds, then ends it. MQTT has no way to hand a member's messages
   * to the rest of its group, and Mosquitto keeps routing a member's share to its session whether
   * or not it reads it. So from the start of a close every message the session holds or receives
   * is handed back: a copy (with its attempt count) goes to its topic for the group, then the
   * original is acknowledged. Other members get the copies; a member alone gets every copy back,
   * two rounds running, and then stops. Markers on the session's private drain
   * topic tell when everything routed here has arrived (the broker queues a session's messages in
   * order, and our copies are published before each marker). With other members: rounds until a
   * marker finds nothing more to hand back, UNSUBSCRIBE, a last marker, and the session ends.
   * Alone (or without the drain topic, or past the deadline): UNSUBSCRIBE and the session is kept
   * (DISCONNECT without ending it) for sessionExpirySeconds with what it holds; the next consumer
   * under this client id (same clientIdPrefix and slot, or driverOptions.clientId) resumes it.
   */
  async close(options?: DriverCloseOptions): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    this.#closing = true;
    this.#holding = true;
    const deadline = options?.deadline ?? Date.now() + 10_000;
    const { filters, group, version } = this.#settings;
    let drained = false;
    try {
      if (client.connected && Date.now() < deadline && version === 5) {
        // Received but never taken by the portable layer: handed back like the rest.
        this.#buffer.length = 0;
        // A checkpoint under way ends in its copy and ack (or, failing, leaves the original here).
        await within(deadline, this.#checkpoints.idle());
        for (const held of this.#inFlight.held()) {
          if (!this.#checkpoints.has(held.id)) this.#handBack(held);
        }
        let others = false;
        let aloneRounds = 0;
        for (let r = 0; r < MARKER_ROUNDS && Date.now() < deadline && !this.#isAlone; r++) {
          // Close round r: later copies belong to r + 1; the marker follows r's copies.
          const round = this.#round++;
          await within(deadline, Promise.all(this.#copying.get(round) ?? []));
          if ((await within(deadline, this.#drain(client))) !== true) break;
          const sent = this.#sent.get(round) ?? 0;
          const back = this.#returned.get(round) ?? 0;
          if (sent === 0 && (this.#copying.get(this.#round)?.size ?? 0) === 0) break;
          if (back < sent) others = true;
          else if (sent > 0 && !others && ++aloneRounds >= 2) this.#isAlone = true;
        }
        await within(deadline, client.unsubscribeAsync(filters.map((f) => `$share/${group}/${f}`)));
        if (!this.#isAlone) {
          drained = (await within(deadline, this.#drain(client))) === true;
          for (const copies of this.#copying.values()) await within(deadline, Promise.all(copies));
        }
      } else if (client.connected && Date.now() < deadline) {
        // MQTT 3.1.1 cannot mark a copy for its group: nothing is handed back.
        await within(deadline, client.unsubscribeAsync(filters.map((f) => `$share/${group}/${f}`)));
        drained = (await within(deadline, this.#drain(client))) === true;
      }
    } catch (error) {
      this.#settings.logger.warn(
        { group, error: String(error) },
        'mqtt: could not drain the session at close',
      );
    }
    const keep = !drained || this.#inFlight.size > 0;
    if (keep && this.#inFlight.size > 0) {
      this.#settings.logger.info(
        { clientId: client.options.clientId, unacknowledged: this.#inFlight.unacked() },
        'mqtt: the session keeps unacknowledged messages for the next consumer under this client id',
      );
    }
    await endClient(client, deadline, version === 5 && !keep ? { sessionExpiryInterval: 0 } : undefined);
    // MQTT 3.1.1 has no session expiry: a session with nothing left in it would stay on the broker
    // (persistent_client_expiration) unless a clean connection under the same id ends it.
    if (version === 4 && !keep && !(await this.#settings.endSession(deadline))) {
      this.#settings.logger.warn(
        { clientId: client.options.clientId },
        'mqtt: could not end the MQTT 3.1.1 session at close; it stays until a consumer under this client id resumes it or the broker expires it (persistent_client_expiration)',
      );
    }
    this.#arrivals.wakeAll();
    this.#settings.release();
  }

  /** Close rounds: copies being published, copies sent and copies that came back, per round. */
  #round = 0;
  readonly #copying = new Map<number, Set<Promise<void>>>();
  readonly #sent = new Map<number, number>();
  readonly #returned = new Map<number, number>();
  /** Per message (by id, or topic and payload): the round of its last copy and how many it had. */
  readonly #copies = new Map<string, { round: number; times: number }>();
  #isAlone = false;

  /**
   * Closing: copies one held message back to its topic for the group, then acknowledges it;
   * `counted` is 1 for a resend (DUP) new to this process, which counts as a delivery.
   */
  #handBack(held: InFlightEntry, counted = 0): void {
    const client = this.#client!;
    const { packet } = held;
    const key = `${packet.topic}\0${userProperty(packet, ID_PROPERTY) ?? createHash('sha1').update(packet.payload).digest('hex')}`;
    const last = this.#copies.get(key);
    if (last !== undefined) this.#returned.set(last.round, (this.#returned.get(last.round) ?? 0) + 1);
    // Alone in the group (every copy came back), or a message that keeps coming back: it stays
    // in the session for the next consumer under this client id.
    if (this.#isAlone || (last?.times ?? 0) >= MAX_HAND_BACKS) return;
    const round = this.#round;
    this.#copies.set(key, { round, times: (last?.times ?? 0) + 1 });
    this.#sent.set(round, (this.#sent.get(round) ?? 0) + 1);
    const attempts = (Number(userProperty(packet, ATTEMPTS_PROPERTY) ?? 0) || 0) + counted;
    const copying = this.#copying.get(round) ?? new Set<Promise<void>>();
    this.#copying.set(round, copying);
    // The original is acknowledged only once the broker has the copy for a subscription: a copy it
    // dropped (PUBACK 0x10: the group has no member left subscribed) or refused leaves the original
    // in the session for the next consumer under this client id.
    const copy: Promise<void> = publishCopy(client, packet, attempts, this.#settings.group, 5)
      .then((sent) => {
        if (sent === true && this.#inFlight.ack(held, client.connected)) this.#puback(held.id);
      })
      .finally(() => copying.delete(copy));
    copying.add(copy);
  }

  /** Waits for a fresh marker through the session: false when the broker refuses the drain topic. */
  async #drain(client: MqttClient): Promise<boolean> {
    const topic = `${DRAIN_TOPIC}/${client.options.clientId}`;
    if (this.#drainGranted === false) return false; // no permission: nothing known
    const marker = String(++this.#markers);
    const arrived = new Promise<void>((resolve) => this.#markerWaiters.set(marker, resolve));
    try {
      // Subscribed with the group's filters at open, unless the client id cannot be a topic level.
      if (this.#drainGranted === undefined && this.#markers === 1) {
        const granted = await client.subscribeAsync(topic, { qos: 1 });
        if (granted.some((g) => g.qos > 2)) return false; // no permission: nothing known
      }
      await client.publishAsync(topic, Buffer.from(marker), { qos: 1 });
      await arrived;
      return true;
    } finally {
      this.#markerWaiters.delete(marker);
    }
  }
}

/**
 * PUBACKs with reason Success, back to back: fixed header 0x40, remaining length 2, packet id. The
 * same bytes in MQTT 3.1.1 and 5 (MQTT 5 §3.4.2.1: reason code and properties may be omitted for
 * Success without properties), as mqtt-packet writes them.
 */
export function pubackBytes(messageIds: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(4 * messageIds.length);
  for (let i = 0; i < messageIds.length; i++) {
    bytes[4 * i] = 0x40;
    bytes[4 * i + 1] = 2;
    bytes.writeUInt16BE(messageIds[i]!, 4 * i + 2);
  }
  return bytes;
}

/**
 * This consumer's drain topic, to subscribe with the group's filters at open; undefined when its
 * client id (driverOptions.clientId is the user's) holds a wildcard or NUL, which MQTT.js would
 * refuse for the whole SUBSCRIBE: the close then subscribes it alone, as before.
 */
function drainTopic(client: MqttClient): string | undefined {
  const id = client.options.clientId ?? '';
  return /[+#\0]/.test(id) ? undefined : `${DRAIN_PREFIX}${id}`;
}

/** Resolves with the promise, or false when the deadline passes first. */
async function within<T>(deadline: number, promise: Promise<T>): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  promise.catch(() => {});
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
