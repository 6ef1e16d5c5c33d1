// Ordered subscriptions hand one consumer all of a key's messages in order, but several arrive
// ahead of time (a receive batch, a client's receiver queue). When the portable layer nacks the
// first and handles the next, the order the key promised breaks. So a driver of such a broker
// releases one message per key at a time and holds the rest until that one is settled for good
// (acked or dead-lettered). A nacked head stays the head: its redelivery (same broker id) is let
// through again; a redelivery of a held message replaces the held copy (a fresher handle).
// One implementation for every driver that needs it (RocketMQ FIFO groups, Pulsar Key_Shared,
// Failover and Exclusive); the portable layer's lanes then keep run() handlers in that order.

interface Lane<T> {
  head: string;
  readonly held: T[];
}

export class KeyHold<T> {
  readonly #lanes = new Map<string, Lane<T>>();
  readonly #keyOf: (item: T) => string | undefined;
  readonly #idOf: (item: T) => string;

  /**
   * `keyOf`: the ordering key (message group), undefined or '' for an unordered message.
   * `idOf`: the broker's id of the message, the same on each redelivery.
   */
  constructor(keyOf: (item: T) => string | undefined, idOf: (item: T) => string) {
    this.#keyOf = keyOf;
    this.#idOf = idOf;
  }

  /** Whether a received message may be handed out now; otherwise it is held. */
  admit(item: T): boolean {
    const key = this.#keyOf(item);
    if (!key) return true;
    const id = this.#idOf(item);
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      this.#lanes.set(key, { head: id, held: [] });
      return true;
    }
    if (lane.head === id) return true; // the head again: its redelivery
    const index = lane.held.findIndex((h) => this.#idOf(h) === id);
    if (index >= 0) lane.held[index] = item;
    else lane.held.push(item);
    return false;
  }

  /** Filters a received batch to what may be handed out now. */
  admitAll(items: readonly T[]): T[] {
    return items.filter((item) => this.admit(item));
  }

  /** The head of its key was settled for good: the next held message of that key, if any. */
  settled(item: T): T | undefined {
    const key = this.#keyOf(item);
    if (!key) return undefined;
    const lane = this.#lanes.get(key);
    if (lane === undefined || lane.head !== this.#idOf(item)) return undefined;
    const next = lane.held.shift();
    if (next === undefined) {
      this.#lanes.delete(key);
      return undefined;
    }
    lane.head = this.#idOf(next);
    return next;
  }

  /** Every held message (on close, to hand back to the broker); forgets all lanes. */
  drain(): T[] {
    const all = [...this.#lanes.values()].flatMap((lane) => lane.held);
    this.#lanes.clear();
    return all;
  }

  get heldCount(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.held.length;
    return n;
  }
}
