// Coalesces the multiple-acks of a channel's settled prefix across event-loop turns, the way an
// expert amqplib consumer acks (one `multiple` frame per half prefetch). Core's AckBatcher hands
// the driver one ack batch per loop turn, which on a busy consumer is one socket read's worth of
// deliveries (~30 at prefetch 200): one basic.ack frame, and one write syscall, per ~30 messages,
// where the expert writes one per 100. On a loaded machine those writes were the largest single
// cost of consuming (docs/bench-profiles.md §6). basic.ack has no reply, so the frame going out a
// little later changes nothing a caller can see but the crash window (the broker redelivers what
// was not acked: at-least-once, as with any ack lost to a crash).

import type { Handle } from './ack-window.js';
import { writeSoon } from './connection.js';

/** The longest a settled delivery's ack waits for company before its frame goes out. */
export const ACK_DELAY_MS = 10;

export class MultipleAck {
  /** Acks a frame may carry before it goes out at once; half the prefetch, as the expert does. */
  readonly #threshold: number;
  /** The last delivery of the settled prefix not yet acked at the broker. */
  #last: Handle | undefined;
  #count = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(prefetch: number) {
    this.#threshold = Math.max(1, Math.floor(prefetch / 2));
  }

  /**
   * `last` ends the settled prefix; `count` deliveries joined it. The frame (one basic.ack with
   * multiple up to `last`) goes out once half the prefetch is waiting or ACK_DELAY_MS later.
   */
  add(last: Handle, count: number): void {
    this.#last = last;
    this.#count += count;
    if (this.#count >= this.#threshold) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, ACK_DELAY_MS);
      // Like an ack lost to a crash: an exiting process leaves the broker to redeliver.
      this.#timer.unref();
    }
  }

  /** Sends the waiting frame now (close, or the channel is about to be used for cancel/close). */
  flush(): void {
    const last = this.#last;
    this.#reset();
    if (last?.channel === undefined) return;
    const channel = last.channel;
    try {
      channel.ack(last.message, true);
    } catch {
      // The channel closed meanwhile: the broker redelivers; acks of dead channels are dropped.
      return;
    }
    // On the wire in this loop iteration: the broker's credit comes back with it.
    writeSoon(channel);
  }

  /** The channel is gone: its tags mean nothing any more, and its unacked deliveries come back. */
  clear(): void {
    this.#reset();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.flush();
  };

  #reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#last = undefined;
    this.#count = 0;
  }
}
