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
  #first: Message | undefined;
  #last: Message | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(message: Message): void {
    const last = this.#last;
    message[HANDED_OUT_PREV] = last;
    message[HANDED_OUT_NEXT] = undefined;
    if (last === undefined) this.#first = message;
    else last[HANDED_OUT_NEXT] = message;
    this.#last = message;
    this.#size++;
  }

  /** Removes `message`; false when it was not here (settled already, or never handed out). */
  remove(message: Message): boolean {
    const prev = message[HANDED_OUT_PREV];
    if (prev === null || (prev === undefined && this.#first !== message)) return false;
    const next = message[HANDED_OUT_NEXT];
    if (prev === undefined) this.#first = next;
    else prev[HANDED_OUT_NEXT] = next;
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
    let i = 0;
    for (let m = this.#first; m !== undefined; m = m[HANDED_OUT_NEXT]) out[i++] = m;
    return out;
  }
}
