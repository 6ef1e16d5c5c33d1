/** Connection status a driver reports; the broker re-emits it to `onStatus` listeners. */
export type StatusEvent =
  | { readonly type: 'connected'; readonly driver: string; readonly detail?: string }
  | {
      readonly type: 'reconnecting';
      readonly driver: string;
      readonly attempt: number;
      readonly error?: Error;
    }
  /**
   * The broker stopped reading what this connection publishes (RabbitMQ memory or disk alarm):
   * sends wait, up to their deadline. A 'connected' event follows when it lifts.
   */
  | { readonly type: 'blocked'; readonly driver: string; readonly reason: string }
  /**
   * The credential provider fetched a new credential (`refreshed`), or could not
   * (`refresh-failed`: the old one stays in use until `expiresAt`; see docs/credentials.md).
   */
  | {
      readonly type: 'credentials';
      readonly driver: string;
      readonly state: 'refreshed' | 'refresh-failed';
      readonly expiresAt?: number;
      readonly error?: Error;
    }
  | { readonly type: 'closed'; readonly driver: string; readonly error?: Error };

export type StatusListener = (event: StatusEvent) => void;

/** A tiny listener set; status events must never throw into a driver. */
export class StatusEmitter {
  readonly #listeners = new Set<StatusListener>();
  #last: StatusEvent | undefined;

  get last(): StatusEvent | undefined {
    return this.#last;
  }

  /** Listeners subscribed now (onStatus callbacks and status() iterations). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  on(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: StatusEvent): void {
    // The driver reports a closed connection and the broker reports its own close: say it once.
    if (event.type === 'closed' && this.#last?.type === 'closed') return;
    this.#last = event;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not break the connection logic that reported the event.
      }
    }
  }
}

/** How many status events a status() iteration holds between reads by default. */
export const DEFAULT_STATUS_BUFFER = 64;

/**
 * `for await (const event of broker.status())`: the listener is added when the iteration starts
 * (the current status replayed first, as onStatus does) and removed when it ends — after the
 * 'closed' event, or when the loop exits (break, return, throw). Events wait in a buffer of
 * `bufferSize` between reads; when a slow reader lets it fill, the oldest is dropped (the status
 * that holds now is always kept) and `dropped` counts them.
 */
export class StatusStream implements AsyncIterableIterator<StatusEvent> {
  readonly #buffer: StatusEvent[] = [];
  readonly #bufferSize: number;
  #off: (() => void) | undefined;
  /** next() calls waiting for an event (more than one when a caller does not await each). */
  readonly #readers: Array<(result: IteratorResult<StatusEvent>) => void> = [];
  #ended = false;
  #dropped = 0;

  constructor(emitter: StatusEmitter, bufferSize = DEFAULT_STATUS_BUFFER) {
    this.#bufferSize = bufferSize;
    const last = emitter.last;
    if (last !== undefined) this.#push(last);
    // Already closed: the replayed 'closed' is the whole story; no listener to leave behind.
    if (!this.#ended) this.#off = emitter.on((event) => this.#push(event));
  }

  /** Events dropped because the buffer was full when they came. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The next event: a buffered one at once, else the next to come; done once the stream ended. */
  next(): Promise<IteratorResult<StatusEvent>> {
    const event = this.#buffer.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve(done());
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  /** Ends the stream (a `for await` loop's break calls it): removes its listener, drops the buffer. */
  return(): Promise<IteratorResult<StatusEvent>> {
    this.#end();
    this.#buffer.length = 0;
    for (const reader of this.#readers.splice(0)) reader(done());
    return Promise.resolve(done());
  }

  /** The stream is its own iterator: `for await (const event of broker.status())`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  #push(event: StatusEvent): void {
    if (this.#ended) return;
    const reader = this.#readers.shift();
    if (event.type === 'closed') {
      this.#end();
      // Readers past the first learn the end: nothing comes after 'closed'.
      for (const later of this.#readers.splice(0)) later(done());
    }
    if (reader !== undefined) {
      reader({ value: event, done: false });
      return;
    }
    if (this.#buffer.length >= this.#bufferSize) {
      this.#buffer.shift();
      this.#dropped++;
    }
    this.#buffer.push(event);
  }

  #end(): void {
    this.#ended = true;
    this.#off?.();
    this.#off = undefined;
  }
}

function done(): IteratorResult<StatusEvent> {
  return { value: undefined, done: true };
}
