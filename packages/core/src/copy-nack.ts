// Nack by copy, once for every driver: where the broker cannot nack (capabilities.nack 'emulated')
// or cannot delay a nack, the message goes back as a copy on its own source that carries its
// delivery count, and only then is the original acked. The wire format of the copy is the
// driver's (DriverConsumer.requeueCopy); the order of the steps, what happens when one fails and
// the guarantee of one copy per delivery are kept here.

import type { DriverConsumer } from './driver.js';
import { ErrorCode, errorCode, InternalError } from './errors.js';
import type { Delivery } from './message-types.js';

export interface CopyNackSteps {
  /** Runs a driver call with the portable layer's retry of retryable failures. */
  transport<T>(operation: () => Promise<T>): Promise<T>;
  /** Acks an original whose copy the broker confirmed. */
  ack(delivery: Delivery): Promise<void>;
  /**
   * Gives back an original whose copy failed, where the broker has a nack of its own (a delayed
   * nack by copy on a broker with plain nack): the message returns at once instead of after the
   * delay. Absent where nack is emulated: the original then returns after its visibility timeout.
   */
  nack?(delivery: Delivery): Promise<void>;
  /** Reports a copy that failed but whose original `nack` gave back. */
  fellBack(delivery: Delivery, error: unknown): void;
}

/**
 * One copy per delivery, whoever asks: a second request for a delivery whose copy is in flight
 * (a driver-kept lease expiring while a handler's nack is still copying) joins the first, and a
 * delivery whose copy is confirmed is only acked again, never copied again. On failure the
 * original is never acked, so it is never lost; a crash between copy and ack leaves a duplicate.
 */
export class CopyNacks {
  readonly #driver: DriverConsumer;
  readonly #steps: CopyNackSteps;
  readonly #inFlight = new Map<Delivery, Promise<void>>();
  readonly #copied = new WeakSet<Delivery>();

  constructor(driver: DriverConsumer, steps: CopyNackSteps) {
    if (driver.requeueCopy === undefined)
      throw new InternalError('CopyNacks needs a driver consumer with requeueCopy');
    this.#driver = driver;
    this.#steps = steps;
  }

  /**
   * Copies `delivery` back to its source carrying `attempts` (its deliveries so far that should
   * count: one less for a delivery no handler saw), visible after `delayMs`, then acks it.
   */
  give(delivery: Delivery, attempts: number, delayMs?: number): Promise<void> {
    let work = this.#inFlight.get(delivery);
    if (work === undefined) {
      work = this.#copyThenAck(delivery, attempts, delayMs).finally(() => this.#inFlight.delete(delivery));
      this.#inFlight.set(delivery, work);
    }
    return work;
  }

  /** Resolves once every copy under way is acked or failed, or after `ms`. */
  async idle(ms: number): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight.values()]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  async #copyThenAck(delivery: Delivery, attempts: number, delayMs: number | undefined): Promise<void> {
    const steps = this.#steps;
    if (!this.#copied.has(delivery)) {
      try {
        await steps.transport(async () => {
          const [result] = await this.#driver.requeueCopy!([{ delivery, attempts }], delayMs);
          if (result === undefined) throw new InternalError('driver returned no result for a requeued copy');
          if (result !== true) throw result;
        });
      } catch (error) {
        if (steps.nack !== undefined) {
          await steps.nack(delivery);
          steps.fellBack(delivery, error);
          return;
        }
        // The driver cannot copy this one (a foreign body the copy would change): like a nack
        // where the broker has none, it comes back unchanged after its visibility timeout.
        if (errorCode(error) === ErrorCode.UNSUPPORTED) return;
        throw error;
      }
      this.#copied.add(delivery);
    }
    await steps.ack(delivery);
  }
}
