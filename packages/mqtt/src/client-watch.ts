import type { MqttClient } from 'mqtt';

// What a producer needs to know about the shared MQTT.js client, watched once per client rather
// than with listeners per send batch (a busy producer has hundreds of batches in flight).

/** MQTT 5 PUBACK reason: accepted, but no subscription matched the topic. */
const NO_MATCHING_SUBSCRIBERS = 0x10;

export interface ClientWatch {
  /**
   * Packet ids of publishes the broker answered with PUBACK 0x10. MQTT.js resolves a publish with
   * the packet it sent, not the PUBACK, so the reason code is read as the PUBACK arrives (before
   * MQTT.js settles the publish) and looked up when the publish resolves; an id is not reused
   * while its publish is in flight.
   */
  readonly unmatched: PacketIds;
  /** When the connection last came back after a drop (0: never dropped). */
  reconnectedAt: number;
  /** Told with true when the connection drops, false when it is back (a producer's pending batches). */
  readonly outageListeners: Set<OutageListener>;
}

/**
 * A set of MQTT packet ids (1–65535) as a bitmap: no allocation per add or delete. The bench's
 * publish row gets a PUBACK 0x10 for every message, and a Set that one id entered and left per
 * message allocated a new hash table every few messages (≈ 130 B per message; issue 18).
 */
export class PacketIds {
  readonly #bits = new Uint32Array(2_048);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(id: number): void {
    const word = id >>> 5;
    const bit = 1 << (id & 31);
    if ((this.#bits[word]! & bit) === 0) {
      this.#bits[word]! |= bit;
      this.#size++;
    }
  }

  /** True when `id` was in the set (it is not any more). */
  delete(id: number): boolean {
    const word = id >>> 5;
    const bit = 1 << (id & 31);
    if ((this.#bits[word]! & bit) === 0) return false;
    this.#bits[word]! &= ~bit;
    this.#size--;
    return true;
  }
}

/** An object with a method rather than a closure per listener: see producer.ts, PendingPublishes. */
export interface OutageListener {
  outage(offline: boolean): void;
}

const watches = new WeakMap<MqttClient, ClientWatch>();

export function watchClient(client: MqttClient): ClientWatch {
  let watch = watches.get(client);
  if (watch === undefined) {
    const w: ClientWatch = { unmatched: new PacketIds(), reconnectedAt: 0, outageListeners: new Set() };
    let dropped = false;
    watch = w;
    watches.set(client, w);
    // A client watched after it connected has had its first CONNACK already.
    let connacks = client.connected || client.reconnecting ? 1 : 0;
    client.on('packetreceive', (packet) => {
      const p = packet as { cmd: string; messageId?: number; reasonCode?: number };
      if (p.cmd === 'puback' && p.reasonCode === NO_MATCHING_SUBSCRIBERS && p.messageId !== undefined) {
        w.unmatched.add(p.messageId);
      }
      // A later CONNACK is a reconnect, seen before MQTT.js resends its stored publishes: their
      // PUBACKs can arrive before its 'connect' event, and MQTT.js skips 'offline' when a drop
      // finds it already reconnecting, so neither event alone opens the resubscribe grace in time.
      if (p.cmd === 'connack' && connacks++ > 0) w.reconnectedAt = Date.now();
    });
    client.on('offline', () => {
      dropped = true;
      for (const listener of w.outageListeners) listener.outage(true);
    });
    client.on('connect', () => {
      if (dropped) w.reconnectedAt = Date.now();
      for (const listener of w.outageListeners) listener.outage(false);
    });
  }
  return watch;
}
