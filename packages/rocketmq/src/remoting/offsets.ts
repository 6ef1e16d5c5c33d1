// What a queue may commit: the next offset to consume, i.e. the lowest offset still in flight
// (pulled but not yet acked or sent back), or, with none in flight, the offset after the last
// pulled. Committing past an unacked message would lose it if this client died (sheet §4.4).
//
// The offsets in flight are kept in the order pulled — ascending, as a queue's pulls return them —
// with a settled flag each, and a head at the lowest one still in flight: a pull adds to the end,
// an ack finds its offset by binary search, and nothing is allocated per message (a Set here
// grew and shrank its table with every pull of 32: ≈ 90 B and ≈ 0.2 µs per message).

export class QueueOffsets {
  /** Pulled offsets, ascending, from `#head` on; those before `#head` are settled. */
  #offsets: number[] = noOffsets();
  #settled: boolean[] = noFlags();
  #head = 0;
  #inFlight = 0;
  #next: number;
  #committed: number;

  constructor(start: number) {
    this.#next = start;
    this.#committed = start;
  }

  /** A pull returned these offsets and will continue from `nextBeginOffset`. */
  pulled(offsets: readonly number[], nextBeginOffset: number): void {
    for (let i = 0; i < offsets.length; i++) this.#add(offsets[i] as number);
    this.#pulledTo(nextBeginOffset);
  }

  /**
   * A pull returned these messages (their `queueOffset`s) and will continue from
   * `nextBeginOffset`: as pulled(), without an array of their offsets made per pull.
   */
  pulledMessages(messages: readonly { readonly queueOffset: number }[], nextBeginOffset: number): void {
    for (let i = 0; i < messages.length; i++) this.#add((messages[i] as { queueOffset: number }).queueOffset);
    this.#pulledTo(nextBeginOffset);
  }

  #add(o: number): void {
    const list = this.#offsets;
    if (list.length === 0 || o > (list[list.length - 1] as number)) {
      list.push(o);
      this.#settled.push(false);
      this.#inFlight++;
    } else this.#insert(o);
  }

  #pulledTo(nextBeginOffset: number): void {
    const list = this.#offsets;
    this.#next = nextBeginOffset;
    // Behind one message held long (a slow handler, a held ordering key) the settled ones pile
    // up: kept to the ones in flight once they are a quarter of the list.
    if (list.length >= 1_024 && this.#inFlight * 4 <= list.length) this.#keepInFlight();
  }

  /** The pull cursor was moved (offset illegal, reset). */
  moveTo(offset: number): void {
    this.#next = offset;
  }

  /** A message is settled (acked, sent back, filtered out): it no longer holds the commit back. */
  done(offset: number): void {
    // Acks come mostly in pull order, so the head is looked at before a binary search of the list.
    const head = this.#head;
    const at = head < this.#offsets.length && this.#offsets[head] === offset ? head : this.#find(offset);
    if (at < 0 || this.#settled[at]) return;
    this.#settled[at] = true;
    this.#inFlight--;
    if (at !== this.#head) return;
    const list = this.#offsets;
    let next = at + 1;
    while (next < list.length && this.#settled[next]) next++;
    if (next === list.length) {
      list.length = 0;
      this.#settled.length = 0;
      this.#head = 0;
    } else {
      this.#head = next;
      // Settled entries at the front are dropped once they are most of the list.
      if (next >= 1_024 && next * 2 >= list.length) this.#compact();
    }
  }

  get nextPull(): number {
    return this.#next;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The offset safe to commit now. */
  committable(): number {
    // The head is the lowest offset still in flight (or the end: none is).
    return this.#head < this.#offsets.length ? (this.#offsets[this.#head] as number) : this.#next;
  }

  /** The committable offset when it moved since the last call, else undefined. */
  takeCommit(): number | undefined {
    const offset = this.committable();
    if (offset === this.#committed) return undefined;
    this.#committed = offset;
    return offset;
  }

  /** Index of `offset` at or after the head, or −1. */
  #find(offset: number): number {
    const list = this.#offsets;
    let lo = this.#head;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length && list[lo] === offset ? lo : -1;
  }

  /**
   * An offset at or below one already pulled (the cursor was moved back while messages were in
   * flight): in flight again if it is there, else put in its place.
   */
  #insert(offset: number): void {
    this.#compact();
    const at = this.#find(offset);
    if (at >= 0) {
      if (this.#settled[at]) {
        this.#settled[at] = false;
        this.#inFlight++;
      }
      return;
    }
    let lo = 0;
    while (lo < this.#offsets.length && (this.#offsets[lo] as number) < offset) lo++;
    this.#offsets.splice(lo, 0, offset);
    this.#settled.splice(lo, 0, false);
    this.#inFlight++;
  }

  /** Drops every settled entry. */
  #keepInFlight(): void {
    const offsets = noOffsets();
    const settled = noFlags();
    for (let i = this.#head; i < this.#offsets.length; i++)
      if (!this.#settled[i]) {
        offsets.push(this.#offsets[i] as number);
        settled.push(false);
      }
    this.#offsets = offsets;
    this.#settled = settled;
    this.#head = 0;
  }

  /** Drops the settled entries before the head, and any settled ones at the new front. */
  #compact(): void {
    let head = this.#head;
    while (head < this.#offsets.length && this.#settled[head]) head++;
    this.#offsets.splice(0, head);
    this.#settled.splice(0, head);
    this.#head = 0;
  }
}

// Empty arrays already of the kind that holds offsets (the codec reads them as doubles) and
// booleans, so a push never changes their kind: with `[]` each new queue's first push did, and
// pulled()'s push then called the push builtin for every message (≈ 124 instructions each,
// callgrind) instead of being inlined. Two literals: one site for both would make both general.
function noOffsets(): number[] {
  const out = [0.5];
  out.length = 0;
  return out;
}

function noFlags(): boolean[] {
  const out = [false];
  out.length = 0;
  return out;
}
