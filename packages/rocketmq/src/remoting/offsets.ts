// What a queue may commit: the next offset to consume, i.e. the lowest offset still in flight
// (pulled but not yet acked or sent back), or, with none in flight, the offset after the last
// pulled. Committing past an unacked message would lose it if this client died (sheet §4.4).

export class QueueOffsets {
  readonly #inFlight = new Set<number>();
  #next: number;
  #committed: number;

  constructor(start: number) {
    this.#next = start;
    this.#committed = start;
  }

  /** A pull returned these offsets and will continue from `nextBeginOffset`. */
  pulled(offsets: readonly number[], nextBeginOffset: number): void {
    for (const o of offsets) this.#inFlight.add(o);
    this.#next = nextBeginOffset;
  }

  /** The pull cursor was moved (offset illegal, reset). */
  moveTo(offset: number): void {
    this.#next = offset;
  }

  /** A message is settled (acked, sent back, filtered out): it no longer holds the commit back. */
  done(offset: number): void {
    this.#inFlight.delete(offset);
  }

  get nextPull(): number {
    return this.#next;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The offset safe to commit now. */
  committable(): number {
    let lowest = this.#next;
    for (const o of this.#inFlight) if (o < lowest) lowest = o;
    return lowest;
  }

  /** The committable offset when it moved since the last call, else undefined. */
  takeCommit(): number | undefined {
    const offset = this.committable();
    if (offset === this.#committed) return undefined;
    this.#committed = offset;
    return offset;
  }
}
