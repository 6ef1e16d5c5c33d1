import { randomUUID } from 'node:crypto';
import type { Driver, DriverReplyInbox } from './driver.js';
import {
  ClosedError,
  InvalidArgumentError,
  SwitchyardError,
  TimeoutError,
  toSwitchyardError,
} from './errors.js';
import type { Logger } from './logger.js';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';

/** The portable headers of request-reply; drivers map them to native fields (AMQP reply_to, correlation_id). */
export const REPLY_TO_HEADER = 'reply-to';
export const CORRELATION_ID_HEADER = 'correlation-id';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Timed-out correlation ids remembered to tell a late reply from a stray one; oldest forgotten first. */
const REMEMBERED_TIMEOUTS = 10_000;

export interface RequestOptions {
  /** How long to wait for the reply, sending included (default 30 s); then TIMEOUT. */
  readonly timeoutMs?: number;
  /** Aborting rejects the request with the signal's reason (or CLOSED); a later reply is late. */
  readonly signal?: AbortSignal;
}

/** Who waits for a reply: the producer that asked, so late replies are counted on it. */
export interface ReplyWaiter {
  lateReply(): void;
}

interface Pending {
  /** Ends the request: with its reply, or with the error it failed on. */
  readonly finish: (error: Error | undefined, reply?: Message) => void;
}

/** A reply is settled by its inbox before anyone sees it: settling it again is a no-op. */
const SETTLED: Settler = {
  ack: () => Promise.resolve(),
  nack: () => Promise.resolve(),
  extend: () => Promise.resolve(),
  deadLetter: () => Promise.resolve(),
};

/**
 * The broker's side of request-reply: one reply inbox per broker, opened on the first request, a
 * map from correlation id to the request waiting for it, timeouts, and the count of replies that
 * came after their request gave up (dropped: nobody can take them any more). Drivers only carry
 * replies to the inbox; everything here is the same on every flavour.
 */
export class Replies {
  readonly #driver: Driver;
  readonly #logger: Logger;
  readonly #pending = new Map<string, Pending>();
  /** Correlation ids whose request gave up, oldest first (a Map keeps insertion order). */
  readonly #gaveUp = new Map<string, ReplyWaiter>();
  #inbox: Promise<DriverReplyInbox> | undefined;
  #closed = false;
  /** Replies that matched no request this broker ever made (another process's, or forged). */
  unmatched = 0;

  constructor(driver: Driver, logger: Logger) {
    this.#driver = driver;
    this.#logger = logger;
  }

  /** Requests waiting for their reply now. */
  get waiting(): number {
    return this.#pending.size;
  }

  /** The inbox, opened once; a failed open is tried again by the next request. */
  inbox(): Promise<DriverReplyInbox> {
    if (this.#closed)
      return Promise.reject(new ClosedError('the broker is closed', { driver: this.#driver.name }));
    const open = this.#driver.openReplyInbox;
    if (open === undefined) {
      return Promise.reject(
        new SwitchyardError('UNSUPPORTED', `the ${this.#driver.name} driver has no reply inbox`, {
          driver: this.#driver.name,
        }),
      );
    }
    this.#inbox ??= open
      .call(this.#driver, (delivery) => this.#arrived(delivery))
      .catch((error: unknown) => {
        this.#inbox = undefined;
        throw toSwitchyardError(error, this.#driver.name);
      });
    return this.#inbox;
  }

  /**
   * Waits for the reply correlated by `correlationId` while `send` sends the request. Resolves with
   * the reply; rejects with TIMEOUT after `timeoutMs`, with the send's error if it failed, or with
   * the abort reason. Whatever way it ends, the correlation id is forgotten, so a reply after
   * that is counted late on `waiter`.
   */
  wait(
    correlationId: string,
    waiter: ReplyWaiter,
    describe: string,
    options: RequestOptions,
    send: () => Promise<unknown>,
  ): Promise<Message> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(
        new InvalidArgumentError(`request timeoutMs must be a whole number of ms > 0, got ${timeoutMs}`),
      );
    }
    if (this.#pending.has(correlationId)) {
      return Promise.reject(
        new InvalidArgumentError(
          `correlation id "${correlationId}" is already waiting for a reply; leave the correlation-id header out to get a fresh one`,
        ),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal, this.#driver.name));
    return new Promise<Message>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | undefined, reply?: Message) => {
        if (!this.#pending.delete(correlationId)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) return resolve(reply!);
        this.#rememberGaveUp(correlationId, waiter);
        reject(error);
      };
      const onAbort = () => finish(abortError(signal!, this.#driver.name));
      this.#pending.set(correlationId, { finish });
      timer = setTimeout(
        () =>
          finish(
            new TimeoutError(`no reply to ${describe} within ${timeoutMs} ms`, { driver: this.#driver.name }),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      send().catch((error: unknown) => finish(toSwitchyardError(error, this.#driver.name)));
    });
  }

  /** Fresh correlation id. */
  static correlationId(): string {
    return randomUUID();
  }

  /** Rejects what still waits (CLOSED) and closes the inbox. */
  async close(deadline: number): Promise<void> {
    this.#closed = true;
    const error = new ClosedError('the broker closed before the reply came', { driver: this.#driver.name });
    for (const pending of [...this.#pending.values()]) pending.finish(error);
    const inbox = this.#inbox;
    this.#inbox = undefined;
    if (inbox !== undefined) await (await inbox.catch(() => undefined))?.close({ deadline });
  }

  #arrived(delivery: Delivery): void {
    const id = delivery.headers[CORRELATION_ID_HEADER];
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (pending !== undefined) {
      pending.finish(undefined, new Message(delivery, 1, SETTLED));
      return;
    }
    const waiter = id === undefined ? undefined : this.#gaveUp.get(id);
    if (waiter !== undefined) {
      this.#gaveUp.delete(id!);
      waiter.lateReply();
      this.#logger.debug({ correlationId: id }, 'reply came after its request gave up; dropped');
    } else {
      this.unmatched++;
      this.#logger.debug({ correlationId: id }, 'reply matches no request of this process; dropped');
    }
  }

  #rememberGaveUp(id: string, waiter: ReplyWaiter): void {
    this.#gaveUp.set(id, waiter);
    if (this.#gaveUp.size > REMEMBERED_TIMEOUTS) this.#gaveUp.delete(this.#gaveUp.keys().next().value!);
  }
}

function abortError(signal: AbortSignal, driver: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof SwitchyardError) return reason;
  return new ClosedError('the request was aborted by its signal before the reply came', {
    driver,
    cause: reason,
  });
}
