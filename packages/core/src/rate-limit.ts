// `maxPerSecond` for consumers (handler starts) and producers (messages sent): a token bucket that
// holds one second's worth of permits, so a burst after a quiet spell is at most `perSecond`, and
// the long-run rate never exceeds it. One implementation for both sides, with the clock passed in
// so tests drive it without waiting.

import { InvalidArgumentError } from './errors.js';

export class RateLimiter {
  readonly perSecond: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;
  /** The last acquire() in line: the next one waits for it. */
  #tail: Promise<void> = Promise.resolve();

  constructor(perSecond: number, now: () => number = Date.now) {
    if (!(typeof perSecond === 'number' && perSecond > 0 && Number.isFinite(perSecond))) {
      throw new InvalidArgumentError(`maxPerSecond must be a finite number > 0, got ${perSecond}`);
    }
    this.perSecond = perSecond;
    // At least one whole permit, or a limit below 1/s could never let anything through.
    this.#capacity = Math.max(1, perSecond);
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#at = now();
  }

  /**
   * Takes `count` permits and returns 0, or takes nothing and returns how many ms to wait before
   * asking again. More than the bucket holds goes once it is full, leaving a debt the next callers
   * wait out: a batch larger than one second's worth is never refused, only spaced.
   */
  take(count = 1): number {
    this.#refill();
    const need = Math.min(count, this.#capacity);
    if (this.#tokens >= need) {
      this.#tokens -= count;
      return 0;
    }
    // The epsilon keeps float dust (0.996 + 0.004 tokens) from adding a whole ms.
    return Math.max(1, Math.ceil(((need - this.#tokens) * 1000) / this.perSecond - 1e-9));
  }

  /**
   * Resolves once `count` permits are taken; rejects with `signal`'s reason when it aborts first.
   * Callers are served in call order (a producer's batches keep their order), and each wait's one
   * timer and listener are removed whichever way it ends.
   */
  acquire(count = 1, signal?: AbortSignal): Promise<void> {
    const turn = this.#tail.then(() => this.#wait(count, signal));
    this.#tail = turn.catch(() => {});
    return turn;
  }

  async #wait(count: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const wait = this.take(count);
      if (wait === 0) return;
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          resolve();
        };
        const aborted = () => {
          clearTimeout(timer);
          reject(signal!.reason);
        };
        const timer = setTimeout(done, wait);
        signal?.addEventListener('abort', aborted, { once: true });
      });
    }
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#at;
    if (elapsed <= 0) return;
    this.#at = now;
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.perSecond) / 1000);
  }
}

/**
 * A rate-limited producer's batches hold at most one second's worth, so one batch never sends a
 * burst larger than the limit allows.
 */
export function rateLimitedBatchSize(maxBatchSize: number, maxPerSecond: number | undefined): number {
  return maxPerSecond === undefined
    ? maxBatchSize
    : Math.max(1, Math.min(maxBatchSize, Math.floor(maxPerSecond)));
}

/** Waits for `count` permits; false when `signal` aborted first (the batch is then not sent). */
export function throttle(limiter: RateLimiter, count: number, signal: AbortSignal): Promise<boolean> {
  return limiter.acquire(count, signal).then(
    () => true,
    () => false,
  );
}
