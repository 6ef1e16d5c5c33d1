import type { Handler, Message } from '@switchyard/core';
import { checkedKey } from './key.js';
import { MemoryDedupeStore } from './memory-store.js';
import type { DedupeStore } from './store.js';

export interface IdempotentOptions {
  /** Where claims and done marks live; a process-local memory store by default (tests only). */
  readonly store?: DedupeStore;
  /**
   * The key a copy shares with the original: the message id by default. During a migration
   * copies across flavours have different ids: give the business key (an order id, a header).
   */
  readonly key?: (message: Message) => string;
  /** How long a handled key stays done, so copies within it are acked unhandled (default 24 h). */
  readonly windowMs?: number;
  /**
   * How long a claim lives without renewal (default 30 s): a process that dies mid-handler frees
   * its keys after this. A running handler's claim is renewed every third of it.
   */
  readonly leaseMs?: number;
  /** How long a copy waits (nack delay) while another consumer holds its key (default 1 s). */
  readonly busyDelayMs?: number;
}

export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_BUSY_DELAY_MS = 1_000;

/**
 * Wraps a `consumer.run()` handler so each key is handled at most once within the window:
 * claim → handle → commit, then core acks. A copy of a done key is acked unhandled; one whose key
 * another consumer holds is nacked with `busyDelayMs`, so it comes back once that one finished
 * or died. When the store fails, the handler is not called and the error (UNAVAILABLE,
 * retryable) goes to core, which nacks the message: nothing is acked that was not handled.
 *
 * The effect and the done mark are two writes: a process that dies between them has its key
 * handled again after the lease. Where the effect is in PostgreSQL, `transactional()` closes that gap.
 */
export function idempotent(handler: Handler, options: IdempotentOptions = {}): Handler {
  const store = options.store ?? new MemoryDedupeStore();
  const keyOf = checkedKey(options.key);
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const busyDelayMs = options.busyDelayMs ?? DEFAULT_BUSY_DELAY_MS;
  const renewer = new Renewer(store, leaseMs);
  return async (message) => {
    const key = keyOf(message);
    const claim = await store.claim(key, leaseMs);
    if (claim.status === 'done') return;
    if (claim.status === 'busy') return nackLater(message, busyDelayMs);
    const held = renewer.hold(key, claim.token);
    try {
      await handler(message);
    } catch (error) {
      renewer.drop(held);
      // Freed so the redelivery core sends is handled at once; if the store is down, the lease
      // frees it instead, and the handler's error is the one that matters.
      await store.release(key, claim.token).catch(() => {});
      throw error;
    }
    renewer.drop(held);
    // The handler gave the message back itself (nack, dead-letter): not handled, free the key.
    if (message.state === 'nacked' || message.state === 'dead-lettered') {
      await store.release(key, claim.token).catch(() => {});
      return;
    }
    await store.commit(key, claim.token, windowMs);
  };
}

interface Held {
  readonly key: string;
  readonly token: string;
  readonly since: number;
}

/**
 * Renews the claims of running handlers: one timer per wrapper, ticking every third of the lease
 * while any claim is held, instead of a timer per message (the hot path). A claim is renewed
 * once it has lived a third of its lease, so short handlers cost no renewal at all.
 */
class Renewer {
  readonly #held = new Set<Held>();
  readonly #store: DedupeStore;
  readonly #leaseMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(store: DedupeStore, leaseMs: number) {
    this.#store = store;
    this.#leaseMs = leaseMs;
  }

  hold(key: string, token: string): Held {
    const held = { key, token, since: Date.now() };
    this.#held.add(held);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#leaseMs / 3)));
      this.#timer.unref();
    }
    return held;
  }

  drop(held: Held): void {
    this.#held.delete(held);
    if (this.#held.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #renew(): void {
    const due = Date.now() - this.#leaseMs / 3;
    for (const held of this.#held) {
      // A failed renewal is retried next tick; if the store stays down the lease runs out and
      // another consumer may take the key, which commit() then overwrites as done.
      if (held.since <= due) void this.#store.renew(held.key, held.token, this.#leaseMs).catch(() => {});
    }
  }
}

/** Nacks with a delay where the broker (or core's emulation) can, at once where it cannot. */
export async function nackLater(message: Message, delayMs: number): Promise<void> {
  try {
    await message.nack({ delayMs });
  } catch {
    // Unsupported delay: the message is still pending, so this plain nack is the one that counts.
    await message.nack();
  }
}
