// A token bucket for `bridge --rate`. Its waits end on the interrupt signal without leaving a
// listener on it (core's sleep): one per wait used to pile up for the whole run.

import { sleep } from '@switchyard/core';

/** A token bucket of `perSecond` tokens (burst: one second's worth). */
export class RateLimiter {
  readonly #perSecond: number;
  #tokens: number;
  #last = Date.now();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
    this.#tokens = Math.min(perSecond, 1);
  }

  /** Waits for at least one token and takes up to `want`; 0 when `signal` aborted first. */
  async take(want: number, signal: AbortSignal): Promise<number> {
    for (;;) {
      const now = Date.now();
      this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
      this.#last = now;
      if (this.#tokens >= 1) {
        const granted = Math.min(want, Math.floor(this.#tokens));
        this.#tokens -= granted;
        return granted;
      }
      if (signal.aborted) return 0;
      // sleep() removes its abort listener when the timer fires and rejects on abort (checked above).
      await sleep(Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000), signal).catch(() => {});
    }
  }
}
