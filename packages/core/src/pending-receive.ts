// For clients whose receive call cannot be cancelled (pulsar-client's receive(), rocketmq-client's
// SimpleConsumer.receive()): at most one call is in flight, a wait that ends first (its time is up,
// its signal aborts, or wake() is called) returns nothing and leaves the call running, and the next
// wait picks its outcome up. So no message the call brings is lost, and no second call piles up.

import { isAborted, offAbort, onAbortOnce } from './aborted.js';

/** What the receive call brought, or how it failed. Never thrown: the caller decides. */
export type ReceiveOutcome<T> = { readonly value: T } | { readonly error: unknown };

export class PendingReceive<T> {
  #inFlight: Promise<ReceiveOutcome<T>> | undefined;
  #wake: (() => void) | undefined;

  /**
   * The outcome of the call in flight — started with `start` when none is — or undefined when
   * `waitMs` passes, `signal` aborts or wake() is called first. `waitMs` −1: only an outcome that
   * is ready by the next turn of the event loop.
   */
  async wait(
    start: () => Promise<T>,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<ReceiveOutcome<T> | undefined> {
    this.#inFlight ??= start().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const inFlight = this.#inFlight;
    if (isAborted(signal)) return undefined;
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let onAbort: (() => void) | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      if (waitMs < 0) immediate = setImmediate(resolve, undefined);
      else timer = setTimeout(resolve, waitMs, undefined);
      onAbort = () => resolve(undefined);
      this.#wake = onAbort;
      if (signal !== undefined) onAbortOnce(signal, onAbort);
    });
    try {
      const outcome = await Promise.race([inFlight, gaveUp]);
      if (outcome !== undefined && this.#inFlight === inFlight) this.#inFlight = undefined;
      return outcome;
    } finally {
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      if (this.#wake === onAbort) this.#wake = undefined;
      if (onAbort !== undefined && signal !== undefined) offAbort(signal, onAbort);
    }
  }

  /** Ends a wait under way at once (messages became ready elsewhere, or the consumer closes). */
  wake(): void {
    this.#wake?.();
  }

  /** Takes the call in flight, if any, away from later waits (close hands its messages back). */
  take(): Promise<ReceiveOutcome<T>> | undefined {
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    return inFlight;
  }
}
