import type { Message } from './message.js';
import { anchorShape } from './shape-anchor.js';

/**
 * The keys of a message's place in its consumer's intake: the Arrival it came in (undefined once
 * it is released, or when it never was held) and its index there. Symbols, so no key or JSON shows
 * them.
 */
export const HELD_IN: unique symbol = Symbol('heldIn');
export const HELD_AT: unique symbol = Symbol('heldAt');

/**
 * The messages one receive brought (a push take, a pull receive; or one message handed out alone),
 * in their order: those before `taken` are handed out, the rest buffered. A released message's
 * slot is emptied, so what it holds (its body) is not kept for its neighbours.
 */
export class Arrival {
  readonly messages: Array<Message | undefined>;
  /** The next buffered message's index. */
  taken = 0;
  /** Messages not yet released, buffered or handed out; the arrival is let go at 0. */
  held = 0;
  older: Arrival | undefined = undefined;
  newer: Arrival | undefined = undefined;

  constructor(size: number) {
    this.messages = new Array<Message | undefined>(size);
  }
}

// One kept for good, so the class's hidden class outlives the bursts that use it (shape-anchor.ts):
// between bursts a consumer holds no arrival, and a mark-compact then would throw away the code
// made for them.
anchorShape(new Arrival(0));

/**
 * What a consumer holds: the messages buffered for a taker and those handed out (run, receive,
 * iterator) and not yet settled, which close() gives back. Kept by arrival, not by message: the
 * consumer lives long (old space) and a message is young, so every store of a message into a
 * structure of the consumer's is a write barrier's slow call (≈ 58 instructions). A buffer of
 * messages and a list of those handed out made two such stores per message, and the list's links
 * more; an arrival (made young, with its messages) is linked once per receive, and a message only
 * records where it is (docs/bench-profiles.md).
 */
export class Held {
  /** Arrivals with messages not yet released, linked newest to oldest (`older`) and back. */
  #newest: Arrival | undefined;
  /** The oldest arrival with buffered messages (takes go in arrival order). */
  #reading: Arrival | undefined;
  #buffered = 0;

  get buffered(): number {
    return this.#buffered;
  }

  /** An arrival for up to `size` messages: put() them, then end() it. */
  open(size: number): Arrival {
    return new Arrival(size);
  }

  put(arrival: Arrival, message: Message): void {
    const at = arrival.held++;
    message[HELD_IN] = arrival;
    message[HELD_AT] = at;
    arrival.messages[at] = message;
  }

  /** Buffers the messages put into `arrival`, after any buffered before (none: nothing happens). */
  end(arrival: Arrival): void {
    const count = arrival.held;
    if (count === 0) return;
    if (count < arrival.messages.length) arrival.messages.length = count;
    this.#link(arrival);
    if (this.#reading === undefined) this.#reading = arrival;
    this.#buffered += count;
  }

  /** A message handed out at once, never buffered (to be dead-lettered or given back). */
  handOut(message: Message): void {
    const arrival = new Arrival(1);
    this.put(arrival, message);
    arrival.taken = 1;
    this.#link(arrival);
  }

  /** The next buffered message, now handed out; undefined when none is buffered. */
  take(): Message | undefined {
    const arrival = this.#reading;
    if (arrival === undefined) return undefined;
    const message = arrival.messages[arrival.taken++];
    if (arrival.taken === arrival.messages.length) this.#reading = this.#nextToRead(arrival.newer);
    this.#buffered--;
    return message;
  }

  /** Every buffered message, now handed out. */
  drain(): Message[] {
    const out = new Array<Message>(this.#buffered);
    for (let i = 0; i < out.length; i++) out[i] = this.take()!;
    return out;
  }

  /** `message` leaves (settled, or waiting elsewhere): false when it was not held here. */
  remove(message: Message): boolean {
    const arrival = message[HELD_IN];
    if (arrival === undefined) return false;
    message[HELD_IN] = undefined;
    arrival.messages[message[HELD_AT]] = undefined;
    if (--arrival.held === 0) this.#unlink(arrival);
    return true;
  }

  /** The messages handed out and not released, in the order they came. */
  outstanding(): Message[] {
    let oldest = this.#newest;
    while (oldest?.older !== undefined) oldest = oldest.older;
    const out: Message[] = [];
    for (let arrival = oldest; arrival !== undefined; arrival = arrival.newer) {
      for (let i = 0; i < arrival.taken; i++) {
        const message = arrival.messages[i];
        if (message !== undefined) out.push(message);
      }
    }
    return out;
  }

  #link(arrival: Arrival): void {
    const newest = this.#newest;
    arrival.older = newest;
    if (newest !== undefined) newest.newer = arrival;
    this.#newest = arrival;
  }

  #unlink(arrival: Arrival): void {
    const { older, newer } = arrival;
    if (older !== undefined) older.newer = newer;
    if (newer === undefined) this.#newest = older;
    else newer.older = older;
    arrival.older = undefined;
    arrival.newer = undefined;
  }

  /** From `arrival` on, the first with buffered messages (an arrival handed out alone has none). */
  #nextToRead(arrival: Arrival | undefined): Arrival | undefined {
    while (arrival !== undefined && arrival.taken === arrival.messages.length) arrival = arrival.newer;
    return arrival;
  }
}
