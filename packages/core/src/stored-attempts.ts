// A consumer's side of its AttemptStore: counts each receive's deliveries in one store call before
// any is handed out, turns a store failure into a retryable receive failure, and forgets the keys
// of settled messages in batches (forgetting is best effort: the store's TTL ends what it misses).

import { type AttemptStore, attemptStoreKey, countAttempts } from './attempt-store.js';
import type { ConsumerSettings } from './consumer-settings.js';
import { InvalidArgumentError, UnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';

/** How long forgotten keys wait for company before one store call drops them all. */
const FORGET_DELAY_MS = 10;

export class StoredAttempts {
  readonly #store: AttemptStore;
  readonly #source: string;
  readonly #group: string;
  readonly #driverName: string;
  readonly #logger: Logger;
  #forgotten: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  /** The consumer's, when its settings name an attempt store. */
  static of(settings: ConsumerSettings, driverName: string, logger: Logger): StoredAttempts | undefined {
    const store = settings.attemptStore;
    return store && new StoredAttempts(store, settings.source, settings.group, driverName, logger);
  }

  constructor(store: AttemptStore, source: string, group: string, driverName: string, logger: Logger) {
    this.#store = store;
    this.#source = source;
    this.#group = group;
    this.#driverName = driverName;
    this.#logger = logger;
  }

  /**
   * Each delivery's attempt (undefined where it has no attemptKey). Rejects UNAVAILABLE (retryable)
   * when the store fails, INVALID_ARGUMENT when it answers something that is not one count per key.
   */
  async count(deliveries: readonly Delivery[]): Promise<(number | undefined)[]> {
    // Forgets first: a message acked just before a crash may come again (RocketMQ commits offsets
    // now and then, an ack may not reach the broker), and must not come back with its old count.
    // Nothing is handed out after an ack until that ack's forget is in the store.
    await this.flush();
    try {
      return await countAttempts(this.#store, deliveries, this.#source, this.#group);
    } catch (error) {
      const what = `the attempt store failed to count ${deliveries.length} deliveries from "${this.#source}" (group "${this.#group}")`;
      const after = 'they go back to the broker unhandled and come again';
      if (error instanceof TypeError) {
        throw new InvalidArgumentError(`${what}: ${error.message}; ${after}`, {
          driver: this.#driverName,
          cause: error,
        });
      }
      throw new UnavailableError(
        `${what}: ${(error as Error)?.message ?? String(error)}; ${after} — check that the store (Redis, PostgreSQL) is reachable`,
        { driver: this.#driverName, cause: error },
      );
    }
  }

  /** The intake's `count`: on a failure, `uncounted` gives the deliveries back before the rejection. */
  counter(
    uncounted: (deliveries: readonly Delivery[]) => void,
  ): (deliveries: Delivery[]) => Promise<(number | undefined)[]> {
    return (deliveries) =>
      this.count(deliveries).catch((error: unknown) => {
        uncounted(deliveries);
        throw error;
      });
  }

  /** The message is settled for good: its count can go. */
  forget(delivery: Delivery): void {
    if (delivery.attemptKey === undefined) return;
    this.#forgotten.push(attemptStoreKey(this.#source, this.#group, delivery.attemptKey));
    this.#timer ??= setTimeout(() => void this.flush(), FORGET_DELAY_MS);
  }

  /** Forgets the delivery's count once `moved` (a dead-letter move) has succeeded. */
  forgetOnceDone(moved: Promise<void>, delivery: Delivery): void {
    moved.then(() => this.forget(delivery)).catch(() => {});
  }

  /** Sends the forgets waiting; resolves (never rejects) once the store answered. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const keys = this.#forgotten;
    if (keys.length === 0) return this.#flushing;
    this.#forgotten = [];
    this.#flushing = this.#flushing.then(() =>
      this.#store
        .forget(keys)
        .catch((error: unknown) =>
          this.#logger.warn(
            { source: this.#source, keys: keys.length, error: (error as Error)?.message },
            "attempt store forget failed; the counts stay until the store's TTL ends them",
          ),
        ),
    );
    return this.#flushing;
  }
}
