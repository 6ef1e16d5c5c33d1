import type { Message } from './message.js';

/** The key of a Message's index in its consumer's HandedOut list; a symbol, so no key or JSON shows it. */
export const HANDED_OUT_AT: unique symbol = Symbol('handedOutAt');

/**
 * The messages a consumer has handed out and not yet settled, for close() to give back. Each
 * message holds its index here, so adding and removing one is an array write with no hashing: a
 * Set's insert and delete (and its rehashing as it grew and shrank with every burst) were a
 * visible share of a consumer's per-message CPU (docs/bench-profiles.md).
 */
export class HandedOut {
  #messages: Message[] = [];

  get size(): number {
    return this.#messages.length;
  }

  add(message: Message): void {
    message[HANDED_OUT_AT] = this.#messages.length;
    this.#messages.push(message);
  }

  /** Removes `message`; false when it was not here (settled already, or never handed out). */
  remove(message: Message): boolean {
    const at = message[HANDED_OUT_AT];
    const messages = this.#messages;
    if (at < 0 || messages[at] !== message) return false;
    // The last one moves into the gap: order does not matter, close() gives them all back.
    const last = messages.pop()!;
    if (last !== message) {
      messages[at] = last;
      last[HANDED_OUT_AT] = at;
    }
    message[HANDED_OUT_AT] = -1;
    // Emptied, the array lets its room go (pop keeps it): a thousand idle consumers would otherwise
    // each hold what their last burst needed (+9 MiB in the 1,000-destination heap bench).
    if (messages.length === 0) this.#messages = [];
    return true;
  }

  all(): Message[] {
    return this.#messages.slice();
  }
}
