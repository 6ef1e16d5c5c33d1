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

  on(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
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
