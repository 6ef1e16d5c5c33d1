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
  packet: IPublishPacket;
  /** The connection the broker (re)sent it on last. */
  connection: number;
  acked: boolean;
}

/** `arrived`: a resend of one still being handled; nothing to hand out. */
export const HELD = 0;
/** `arrived`: a resend of one acknowledged meanwhile; write its PUBACK now. */
export const PUBACK_NOW = -1;

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
    if (!sessionPresent) this.#entries.clear();
    return stale;
  }

  /** A new message's entry (hand it out with it as the handle), or HELD or PUBACK_NOW for a resend. */
  arrived(id: number, packet: IPublishPacket): InFlightEntry | typeof HELD | typeof PUBACK_NOW {
    const existing = this.#entries.get(id);
    if (existing !== undefined && packet.dup && sameMessage(existing.packet, packet)) {
      existing.packet = packet;
      existing.connection = this.#connection;
      if (!existing.acked) return HELD;
      this.#entries.delete(id);
      return PUBACK_NOW;
    }
    // A first delivery, or the id now names another message: the old entry is stale (its message
    // comes again under another id if the broker still holds it).
    const entry: InFlightEntry = { id, packet, connection: this.#connection, acked: false };
    this.#entries.set(id, entry);
    return entry;
  }

  /** The portable layer acked it: true when the PUBACK may be written now (the entry is gone). */
  ack(entry: InFlightEntry, connected: boolean): boolean {
    if (this.#entries.get(entry.id) !== entry) return false; // acked before, or stale
    if (connected && entry.connection === this.#connection) {
      this.#entries.delete(entry.id);
      return true;
    }
    entry.acked = true;
    return false;
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
