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

interface Entry {
  packet: IPublishPacket;
  readonly token: number;
  /** The connection the broker (re)sent it on last. */
  connection: number;
  acked: boolean;
}

/**
 * What `arrived` says to do with a message: a token (a positive number) to hand it out under, or
 * one of these. A number rather than an object: one arrives per delivery (issue 18).
 */
export type Arrival = number;
/** A resend of one still being handled: nothing to hand out. */
export const HELD = 0;
/** A resend of one acknowledged meanwhile: write its PUBACK now. */
export const PUBACK_NOW = -1;

export class InFlight {
  readonly #entries = new Map<number, Entry>();
  #token = 0;
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

  nextToken(): number {
    return ++this.#token;
  }

  arrived(id: number, packet: IPublishPacket): Arrival {
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
    const token = ++this.#token;
    this.#entries.set(id, { packet, token, connection: this.#connection, acked: false });
    return token;
  }

  /** The portable layer acked it: true when the PUBACK may be written now (the entry is gone). */
  ack(id: number, token: number, connected: boolean): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.token !== token) return false; // acked before, or stale
    if (connected && entry.connection === this.#connection) {
      this.#entries.delete(id);
      return true;
    }
    entry.acked = true;
    return false;
  }

  /** Entries the portable layer has not acked. */
  unacked(): number {
    return this.held().length;
  }

  /** The messages not acked, with what acknowledging each takes. */
  held(): Array<{ readonly id: number; readonly packet: IPublishPacket; readonly token: number }> {
    const out = [];
    for (const [id, e] of this.#entries) if (!e.acked) out.push({ id, packet: e.packet, token: e.token });
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
