// Ordered subscriptions (Key_Shared, Failover, Exclusive) give one consumer all of a key's
// messages in order, but they arrive ahead of time in the receiver queue: when the portable layer
// nacks the first, the client redelivers it only after the nack delay, behind the later ones
// already here. So on an ordered subscription the driver releases one message per ordering key at
// a time and holds the rest until that one is acked. A nacked head stays the head and is released
// again when its redelivery arrives (the same MessageId); a redelivery of a held message (an ack
// timeout) replaces the held copy.

import type { PulsarMessage } from './native-api.js';

interface Lane {
  head: string;
  readonly held: PulsarMessage[];
}

export class KeyHold {
  readonly #lanes = new Map<string, Lane>();
  readonly #key: (message: PulsarMessage) => string | undefined;

  constructor(key: (message: PulsarMessage) => string | undefined) {
    this.#key = key;
  }

  /** Whether a received message may be handed out now; otherwise it is held. */
  admit(message: PulsarMessage): boolean {
    const key = this.#key(message);
    if (key === undefined) return true;
    const id = message.getMessageId().toString();
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      this.#lanes.set(key, { head: id, held: [] });
      return true;
    }
    if (lane.head === id) return true; // the head again: its redelivery
    const index = lane.held.findIndex((h) => h.getMessageId().toString() === id);
    if (index >= 0) lane.held[index] = message;
    else lane.held.push(message);
    return false;
  }

  /** The head of its key was acked: the next held message of that key, if any, is released. */
  settled(message: PulsarMessage): PulsarMessage | undefined {
    const key = this.#key(message);
    if (key === undefined) return undefined;
    const lane = this.#lanes.get(key);
    if (lane === undefined || lane.head !== message.getMessageId().toString()) return undefined;
    const next = lane.held.shift();
    if (next === undefined) {
      this.#lanes.delete(key);
      return undefined;
    }
    lane.head = next.getMessageId().toString();
    return next;
  }

  get heldCount(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.held.length;
    return n;
  }
}
