import type { Message } from './message.js';

/**
 * The keys of a Message's links in its consumer's HandedOut list; symbols, so no key or JSON shows
 * them. PREV is null when the message is not in the list, undefined when it is the first.
 */
export const HANDED_OUT_PREV: unique symbol = Symbol('handedOutPrev');
export const HANDED_OUT_NEXT: unique symbol = Symbol('handedOutNext');

/**
 * The messages a consumer has handed out and not yet settled, for close() to give back: a list
 * linked through the messages themselves, so adding and removing one is a few field writes, with
 * no hashing and no array. A Set's insert and delete (and its rehashing as it grew and shrank with
 * every burst) were a visible share of a consumer's per-message CPU, and an array that let its
 * room go whenever it emptied (so that a thousand idle consumers hold nothing) regrew for every
 * few messages in run(), where the handed-out count goes up and down around zero
 * (docs/bench-profiles.md).
 */
export class HandedOut {
  /**
   * The newest; the list is walked back through PREV. No `first` is kept: HandedOut lives long (old
   * space) and a message is young, so every store of a message here is a write barrier's slow
   * call, and a first end was written twice per message in run() (set by the add to an empty list,
   * moved on by the settle of the oldest; docs/bench-profiles.md).
   */
  #last: Message | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(message: Message): void {
    const last = this.#last;
    message[HANDED_OUT_PREV] = last;
    message[HANDED_OUT_NEXT] = undefined;
    if (last !== undefined) last[HANDED_OUT_NEXT] = message;
    this.#last = message;
    this.#size++;
  }

  /**
   * Removes `message`; false when it was not here (settled already, or never handed out). A
   * message is only ever in its own consumer's list, so PREV alone tells whether it is in it.
   */
  remove(message: Message): boolean {
    const prev = message[HANDED_OUT_PREV];
    if (prev === null) return false;
    const next = message[HANDED_OUT_NEXT];
    if (prev !== undefined) prev[HANDED_OUT_NEXT] = next;
    if (next === undefined) this.#last = prev;
    else next[HANDED_OUT_PREV] = prev;
    message[HANDED_OUT_PREV] = null;
    message[HANDED_OUT_NEXT] = undefined;
    this.#size--;
    return true;
  }

  /** The messages in the order they were handed out. */
  all(): Message[] {
    const out = new Array<Message>(this.#size);
    let i = this.#size;
    for (let m = this.#last; m !== undefined; m = m[HANDED_OUT_PREV] as Message | undefined) out[--i] = m;
    return out;
  }
}
