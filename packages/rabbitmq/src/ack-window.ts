// A delivery's settle handle, and the window of a channel's deliveries in tag order that lets one
// multiple-ack (basic.ack with multiple=true) settle a run of them in one frame.

import type { Delivery } from '@switchyard/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';

/** A delivery's settle handle: which channel it came on, whether it is settled, its lease. */
export interface Handle {
  readonly channel: Channel;
  readonly message: ConsumeMessage;
  /**
   * Deliveries counted before this one (the carried count): what a copy that gives the message
   * back unseen carries. One more than the header for a redelivery that could not be checkpointed.
   */
  previous: number;
  settled: boolean;
  /** Set while an ack() call settles it, so one multiple-ack can cover a run of them. */
  acking: boolean;
  /** The one Delivery of this handle, whoever asks to copy it (CopyNacks keys by it). */
  delivery: Delivery | undefined;
}

/** Every delivery of the current channel in tag order, from the oldest unsettled one on. */
export class AckWindow {
  /** Passed slots are emptied at once: a settled handle holds its body (up to 1 MiB or more). */
  #window: Array<Handle | undefined> = [];
  #low = 0;

  push(handle: Handle): void {
    this.#window.push(handle);
  }

  /** Moves past settled deliveries; returns the last of them an ack() call is settling now. */
  advance(): Handle | undefined {
    let last: Handle | undefined;
    const window = this.#window;
    while (this.#low < window.length && window[this.#low]!.settled) {
      const handle = window[this.#low]!;
      window[this.#low++] = undefined;
      if (handle.acking) last = handle;
    }
    if (this.#low > 1024 && this.#low * 2 > window.length) {
      this.#window = window.slice(this.#low);
      this.#low = 0;
    }
    return last;
  }

  /** The channel is gone: its tags mean nothing any more. */
  clear(): void {
    this.#window = [];
    this.#low = 0;
  }
}
