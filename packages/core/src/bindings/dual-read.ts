// Dual-read for migrations: one consumer over two sources (old and new broker). Messages are the
// sources' own Message objects, so ack / nack / extend / deadLetter go back to the broker the
// message came from; `originOf(message)` names it.
//
// Two modes, one at a time (like a core Consumer): run(handler) runs both sources' run() with the
// same handler (concurrency applies per source); receive() and `for await` merge the two sources
// through a small pull pump per source. Either way each source holds at most its `prefetch`
// messages, and close() closes both: whatever was taken but not settled is given back to its
// broker (a redelivery at worst, never a loss).

import type { Consumer, Handler } from '../consumer.js';
import { ClosedError, InvalidArgumentError, type SwitchyardError, toSwitchyardError } from '../errors.js';
import type { Message } from '../message.js';

/** What a binding consumer offers: the consuming part of a core Consumer. */
export interface BindingConsumer extends AsyncIterable<Message> {
  readonly source: string;
  readonly group: string;
  readonly closed: boolean;
  run(handler: Handler, options?: { signal?: AbortSignal; concurrency?: number }): Promise<void>;
  receive(options?: { max?: number; waitMs?: number }): Promise<Message[]>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const origins = new WeakMap<Message, string>();

/** The name of the source a message came from in a dual-read consumer (undefined otherwise). */
export function originOf(message: Message): string | undefined {
  return origins.get(message);
}

const DEFAULT_WAIT_MS = 5_000;

export class DualReadConsumer implements BindingConsumer {
  readonly source: string;
  readonly group: string;
  readonly names: readonly string[];
  readonly #sources: readonly Consumer[];
  readonly #buffer: Message[] = [];
  readonly #waiters = new Set<() => void>();
  #mode: 'run' | 'pull' | undefined;
  #pumps: Promise<void>[] = [];
  #active = 0;
  #fatal: SwitchyardError | undefined;
  #closing: Promise<void> | undefined;

  constructor(sources: readonly Consumer[], names: readonly string[] = sources.map((_, i) => `source${i}`)) {
    if (sources.length === 0) throw new InvalidArgumentError('dual-read needs at least one source');
    this.#sources = sources;
    this.names = names;
    this.source = sources[0]!.source;
    this.group = sources[0]!.group;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  run(handler: Handler, options: { signal?: AbortSignal; concurrency?: number } = {}): Promise<void> {
    if (this.#mode === 'pull') {
      return Promise.reject(
        new InvalidArgumentError(
          'this dual-read consumer is used with receive()/for await; run() is not available',
        ),
      );
    }
    if (this.#mode === 'run')
      return Promise.reject(new InvalidArgumentError('run() is already active on this consumer'));
    this.#mode = 'run';
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (options.signal?.aborted) stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const runs = this.#sources.map((source, i) =>
      source
        .run((message) => handler(this.#tag(message, i)), {
          signal: stop.signal,
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        })
        .catch((error: unknown) => {
          // One source failed for good: stop the other too, then report.
          stop.abort();
          throw error;
        }),
    );
    return Promise.allSettled(runs).then((results) => {
      this.#mode = undefined;
      options.signal?.removeEventListener('abort', onAbort);
      const failure = results.find((r) => r.status === 'rejected');
      if (failure !== undefined) throw toSwitchyardError((failure as PromiseRejectedResult).reason);
    });
  }

  async receive(options: { max?: number; waitMs?: number } = {}): Promise<Message[]> {
    const max = options.max ?? 1;
    const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    if (!Number.isInteger(max) || max < 1)
      throw new InvalidArgumentError(`max must be a whole number ≥ 1, got ${max}`);
    if (!Number.isInteger(waitMs) || waitMs < 0)
      throw new InvalidArgumentError(`waitMs must be a whole number ≥ 0, got ${waitMs}`);
    if (this.#closing !== undefined)
      throw new ClosedError(`dual-read consumer of "${this.source}" is closed`);
    this.#startPull();
    if (this.#buffer.length === 0 && this.#fatal === undefined && this.#active > 0 && waitMs > 0) {
      await this.#wait(waitMs);
    }
    if (this.#buffer.length === 0 && this.#fatal !== undefined) throw this.#fatal;
    return this.#buffer.splice(0, max);
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    this.#startPull();
    return {
      next: async (): Promise<IteratorResult<Message>> => {
        for (;;) {
          const message = this.#buffer.shift();
          if (message !== undefined) return { value: message, done: false };
          if (this.#fatal !== undefined) throw this.#fatal;
          if (this.#active === 0) return { value: undefined, done: true };
          await this.#wait(60_000);
        }
      },
      return: async (): Promise<IteratorResult<Message>> => ({ value: undefined, done: true }),
    };
  }

  /** Closes every source; messages taken but not settled go back to their own broker. */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#sources.map((s) => s.close(options)));
      await Promise.allSettled(this.#pumps);
      this.#wake();
    })();
    return this.#closing;
  }

  #tag(message: Message, index: number): Message {
    origins.set(message, this.names[index] ?? String(index));
    return message;
  }

  #startPull(): void {
    if (this.#mode === 'run') throw new InvalidArgumentError('run() is active on this consumer');
    if (this.#mode === 'pull') return;
    this.#mode = 'pull';
    this.#active = this.#sources.length;
    this.#pumps = this.#sources.map(async (source, i) => {
      try {
        // The core consumer bounds what it hands out by its prefetch, so this buffer stays bounded.
        for await (const message of source) {
          this.#buffer.push(this.#tag(message, i));
          this.#wake();
        }
      } catch (error) {
        if (!this.closed) this.#fatal ??= toSwitchyardError(error);
      } finally {
        this.#active--;
        this.#wake();
      }
    });
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(waiter, ms);
      this.#waiters.add(waiter);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
