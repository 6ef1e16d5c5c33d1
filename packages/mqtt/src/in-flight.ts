import type { IPublishPacket } from 'mqtt';
import { ID_PROPERTY, userProperty } from './properties.js';

// The unacknowledged QoS 1 messages of one MQTT session, by packet id, and when each PUBACK may be
// written. A packet id names a message only within one connection's view of the session: after a
// reconnect the broker resends what it still holds (DUP set) — under the same ids when it kept
// the session in memory, but not necessarily after it restarted from its persistence file, and it
// may give an id to another message once it considers the first settled. A PUBACK for an id that
// now names another message would settle that message unseen, so an entry from an earlier
// connection is only acknowledged once the broker has resent it on this one with the same content;
// until then an ack is remembered and written when it comes.

/**
 * One unacknowledged message. It is also the delivery's handle: the portable layer acks with it,
 * and it is compared by identity, so an entry replaced by another message under the same id (or
 * dropped with its session) acks nothing. No token or handle object per delivery (issue 18).
 */
export interface InFlightEntry {
  readonly id: number;
  /** RELEASED once the entry has left the table (acknowledged or dropped with its session). */
  packet: IPublishPacket;
  /** The connection the broker (re)sent it on last. */
  connection: number;
  acked: boolean;
}

/** `arrived`: a resend of one still being handled; nothing to hand out. */
export const HELD = 0;
/** `arrived`: a resend of one acknowledged meanwhile; write its PUBACK now. */
export const PUBACK_NOW = -1;

/**
 * What an entry's packet becomes when it leaves the table. V8 keeps a Map's hash table after the
 * Map rehashes it (the old table stays linked to the new one, entries and all), and a table that
 * reached old space is reclaimed only by the next mark-compact: an acknowledged entry's packet —
 * its body, and the socket read that body is a view of — stayed reachable until then. At 16 KiB
 * that kept so many bodies' bytes alive that V8 ran twice raw MQTT.js's mark-compacts for external
 * memory pressure (8–9 against 4 per 18,000 messages; issue 18). An entry that leaves the table
 * keeps only its id: the delivery, not the entry, is what hands the packet to the application.
 */
const RELEASED: IPublishPacket = Object.freeze({
  cmd: 'publish',
  topic: '',
  payload: Buffer.alloc(0),
  qos: 1,
  dup: false,
  retain: false,
}) as IPublishPacket;

export class InFlight {
  readonly #entries = new Map<number, InFlightEntry>();
  #connection = 0;

  get size(): number {
    return this.#entries.size;
  }

  /** A new connection: entries of earlier ones wait for their resend before a PUBACK. */
  reconnected(sessionPresent: boolean): number {
    this.#connection++;
    const stale = sessionPresent ? 0 : this.#entries.size;
    // A new session: the broker forgot every message of the old one.
    if (!sessionPresent) {
      for (const entry of this.#entries.values()) entry.packet = RELEASED;
      this.#entries.clear();
    }
    return stale;
  }

  /** A new message's entry (hand it out with it as the handle), or HELD or PUBACK_NOW for a resend. */
  arrived(id: number, packet: IPublishPacket): InFlightEntry | typeof HELD | typeof PUBACK_NOW {
    const existing = this.#entries.get(id);
    if (existing !== undefined && packet.dup && sameMessage(existing.packet, packet)) {
      existing.packet = packet;
      existing.connection = this.#connection;
      if (!existing.acked) return HELD;
      this.#remove(existing);
      return PUBACK_NOW;
    }
    // A first delivery, or the id now names another message: the old entry is stale (its message
    // comes again under another id if the broker still holds it).
    if (existing !== undefined) existing.packet = RELEASED;
    const entry: InFlightEntry = { id, packet, connection: this.#connection, acked: false };
    this.#entries.set(id, entry);
    return entry;
  }

  /** The portable layer acked it: true when the PUBACK may be written now (the entry is gone). */
  ack(entry: InFlightEntry, connected: boolean): boolean {
    if (this.#entries.get(entry.id) !== entry) return false; // acked before, or stale
    if (connected && entry.connection === this.#connection) {
      this.#remove(entry);
      return true;
    }
    entry.acked = true;
    return false;
  }

  #remove(entry: InFlightEntry): void {
    this.#entries.delete(entry.id);
    entry.packet = RELEASED;
  }

  /** Entries the portable layer has not acked. */
  unacked(): number {
    return this.held().length;
  }

  /** The messages not acked (each acknowledged through `ack`). */
  held(): InFlightEntry[] {
    const out = [];
    for (const entry of this.#entries.values()) if (!entry.acked) out.push(entry);
    return out;
  }
}

function sameMessage(a: IPublishPacket, b: IPublishPacket): boolean {
  return (
    a.topic === b.topic &&
    userProperty(a, ID_PROPERTY) === userProperty(b, ID_PROPERTY) &&
    Buffer.from(a.payload).equals(Buffer.from(b.payload))
  );
}
