// A delivery's settle handle, and the window of a channel's deliveries in tag order that lets one
// multiple-ack (basic.ack with multiple=true) settle a run of them in one frame.

import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * A delivery's settle handle: which channel it came on, whether it is settled, its carried count.
 * The consumer's deliveries are their own handles (AmqpDelivery, properties.ts).
 */
export interface Handle {
  /** Undefined for a delivery that is never settled (a reply). */
  readonly channel: Channel | undefined;
  readonly message: ConsumeMessage;
  /**
   * Deliveries counted before this one (the carried count): what a copy that gives the message
   * back unseen carries. One more than the header for a redelivery that could not be checkpointed.
   */
  previous: number;
  settled: boolean;
  /** Set while an ack() call settles it, so one multiple-ack can cover a run of them. */
  acking: boolean;
}

/** Every delivery of the current channel in tag order, from the oldest unsettled one on. */
export class AckWindow<H extends Handle = Handle> {
  /**
   * Slots [#low, #end) hold the window; passed slots are emptied at once (a settled handle holds
   * its body, up to 1 MiB or more). Written by index up to the array's high-water length, which is
   * kept when the window empties: an array emptied and grown again per socket read reallocated its
   * backing store every few dozen deliveries.
   */
  readonly #window: Array<H | undefined> = [];
  #low = 0;
  #end = 0;

  push(handle: H): void {
    this.#window[this.#end++] = handle;
  }

  /** Moves past settled deliveries; returns the last of them an ack() call is settling now. */
  advance(): H | undefined {
    let last: H | undefined;
    const window = this.#window;
    while (this.#low < this.#end && window[this.#low]!.settled) {
      const handle = window[this.#low]!;
      window[this.#low++] = undefined;
      if (handle.acking) last = handle;
    }
    if (this.#low === this.#end) this.#low = this.#end = 0;
    else if (this.#low > 1024 && this.#low * 2 > this.#end) {
      // Never all settled (a delivery held long): move the live part down, in place.
      window.copyWithin(0, this.#low, this.#end);
      window.fill(undefined, this.#end - this.#low, this.#end);
      this.#end -= this.#low;
      this.#low = 0;
    }
    return last;
  }

  /** The channel is gone: its tags mean nothing any more. */
  clear(): void {
    this.#window.length = 0;
    this.#low = this.#end = 0;
  }
}
