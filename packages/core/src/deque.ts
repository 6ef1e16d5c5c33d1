/** Slots of a deque's first chunk; each further chunk doubles, up to MAX_CHUNK. */
const FIRST_CHUNK = 16;
const MAX_CHUNK = 1024;

interface Chunk<T> {
  readonly items: Array<T | undefined>;
  next: Chunk<T> | undefined;
}

const chunk = <T>(size: number): Chunk<T> => ({ items: new Array<T | undefined>(size), next: undefined });

/**
 * FIFO queue with O(1) push and shift (Array#shift is O(n) on large arrays), kept in a list of
 * fixed-size chunks: a growing queue never copies what it holds (an array doubling did, and a
 * queue compacted by slicing copied it again), and a burst of n items allocates about n slots.
 * An emptied queue keeps only a first-size chunk: thousands of idle ones (one per destination)
 * hold next to nothing, whatever their last burst needed.
 */
export class Deque<T> {
  /** The largest chunk an emptied queue keeps (FIRST_CHUNK unless the owner asks for more). */
  readonly #keep: number;
  #first: Chunk<T> | undefined;
  #last: Chunk<T> | undefined;
  /** Next read in #first, next write in #last. */
  #head = 0;
  #tail = 0;
  #length = 0;

  /**
   * `keep`: an emptied queue keeps its last chunk when it has at most this many slots (at least
   * FIRST_CHUNK). For a queue that fills and empties in bursts of a bounded size (a consumer's
   * intake, never more than its prefetch): each burst would otherwise allocate its chunks again.
   */
  constructor(keep = FIRST_CHUNK) {
    this.#keep = Math.max(FIRST_CHUNK, keep);
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    let last = this.#last;
    if (last === undefined) {
      last = chunk<T>(FIRST_CHUNK);
      this.#first = this.#last = last;
    } else if (this.#tail === last.items.length) {
      const next = chunk<T>(Math.min(MAX_CHUNK, last.items.length * 2));
      last.next = next;
      this.#last = last = next;
      this.#tail = 0;
    }
    last.items[this.#tail++] = item;
    this.#length++;
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#first!.items[this.#head];
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const first = this.#first!;
    const items = first.items;
    const item = items[this.#head];
    items[this.#head++] = undefined;
    if (--this.#length === 0) this.#emptied();
    else if (this.#head === items.length) {
      this.#first = first.next;
      this.#head = 0;
    }
    return item as T;
  }

  /** Items front to back, left in place (a read-only look, such as an admin peek). */
  *[Symbol.iterator](): IterableIterator<T> {
    let left = this.#length;
    for (let c = this.#first, i = this.#head; c !== undefined && left > 0; c = c.next, i = 0) {
      for (; i < c.items.length && left > 0; i++, left--) yield c.items[i] as T;
    }
  }

  /** Removes and returns everything. */
  drain(): T[] {
    const out = new Array<T>(this.#length);
    for (let i = 0; i < out.length; i++) out[i] = this.shift()!;
    return out;
  }

  #emptied(): void {
    const last = this.#last!;
    if (last.items.length <= this.#keep) {
      // Emptied by shifts, so every slot before #head is already cleared.
      last.next = undefined;
      this.#first = last;
    } else {
      this.#first = this.#last = undefined;
    }
    this.#head = 0;
    this.#tail = 0;
  }
}
