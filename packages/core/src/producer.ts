import { setMaxListeners } from 'node:events';
import { abortedError, isAborted } from './aborted.js';
import type { BackoffPolicy } from './backoff.js';
import type { SendOptions } from './call-options.js';
import { type Capabilities, requireCapability } from './capabilities.js';
import { DeadlineSignals, type SharedDeadlines } from './deadline-signal.js';
import { Deque } from './deque.js';
import type { DriverProducer, DriverReplyInbox } from './driver.js';
import { ClosedError } from './errors.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Outgoing, OutgoingMessage, Receipt } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';
import { type RateLimiter, throttle } from './rate-limit.js';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Replies,
  type ReplyWaiter,
  type RequestOptions,
} from './replies.js';
import { type InboxSend, requestMessage, sendThroughInbox } from './request-send.js';
import { type AttemptContext, SendWindow, sendAttempts } from './send-attempts.js';
import { abortQueued, type Batch, type BatchLimits, SendGroup, sendSignal, takeBatch } from './send-queue.js';
import { checkMessageKeys } from './strict-keys.js';
import type { ProducerTelemetry, SendObservation } from './telemetry/telemetry.js';

export interface ProducerSettings {
  readonly destination: string;
  readonly maxBatchSize: number;
  readonly maxInFlight: number;
  readonly retry: BackoffPolicy;
  /** `maxPerSecond`: messages handed to the driver per second (rate-limit.ts). */
  readonly limiter?: RateLimiter | undefined;
}

export type SendInput = OutgoingMessage | string | Uint8Array;

export type { SendOptions } from './call-options.js';

/**
 * Sends messages to one destination. Concurrent sends are coalesced into driver batches (up to
 * maxBatchSize messages and the driver's maxBatchBytes, maxInFlight batches at once, or as many
 * batches' worth of unconfirmed messages where the driver reports confirms one by one) without
 * waiting when the producer is idle, and retryable failures are retried with backoff. A send
 * resolves only when the broker accepted the message.
 */
export class Producer implements AsyncDisposable {
  readonly destination: string;
  readonly #driver: DriverProducer;
  readonly #capabilities: Capabilities;
  readonly #driverName: string;
  readonly #settings: ProducerSettings;
  /**
   * The settings the send path reads, copied out: the settings object's map varies by where it
   * was made (broker.producer, a reply producer), and its `retry` object's with how often V8's
   * spread clone ran at that site, so an optimised send path reading them saw a "wrong map" after
   * a few new producers and was recompiled (docs/bench-profiles.md §19.1).
   */
  readonly #maxInFlight: number;
  readonly #limiter: RateLimiter | undefined;
  /** Messages per driver batch: the settings' maxBatchSize within the driver's. */
  readonly #maxCount: number;
  /** The driver limits a batch's bytes too (maxBatchBytes): takeBatch measures its messages. */
  readonly #byteLimited: boolean;
  readonly #onClose: () => void;
  readonly #telemetry: ProducerTelemetry | undefined;
  readonly #queue = new Deque<SendGroup>();
  /** Messages queued and not yet in a batch. */
  #unsent = 0;
  #inFlight = 0;
  /**
   * Messages in the batches in flight (`handed`) and, of those, how many the driver already
   * reported confirmed (sendBatch's `confirmed`): counted by sendAttempts as batches end.
   */
  readonly #window: SendWindow;
  /** The refill after early confirms, once per event-loop turn (see #pump). */
  #refill: NodeJS.Immediate | undefined;
  /**
   * A send went straight to the driver in this tick: the tick's later sends are queued, and one
   * pump at its end sends them together (see send()).
   */
  #gathering = false;
  /**
   * close()'s promise; OPEN until then. #idle: resolves close()'s wait for the sends in flight;
   * NO_IDLE until then. Never undefined, and written twice in the constructor: the first close()
   * in a process otherwise changed these fields from undefined to a promise and a function, and
   * from never written to written, and V8 threw away the optimised send() and sendAttempts, which
   * depend on both (the send path recompiled right after the first producer closed;
   * docs/bench-profiles.md §19.1).
   */
  #closing: Promise<void> = OPEN;
  #idle: () => void = NO_IDLE;
  /** Aborted when close() runs out of time: retries stop and drivers give up their sends. */
  /**
   * Aborts in-flight sends when close gives up. Every batch in flight and every retry wait listens
   * to it — bounded by maxInFlight (8 × maxInFlight with early confirms, see #pump), but often
   * more than Node's default of 10 listeners.
   */
  readonly #abort = unboundedAbortController();
  /** The signals batches hand the driver: buckets shared with the broker's other producers, aborted with #abort. */
  readonly #deadlines: DeadlineSignals;
  /** The broker's request-reply side; undefined where the driver has none. */
  readonly #replies: Replies | undefined;
  #lateReplies = 0;
  /** Replies count a late reply on the producer whose request gave up. */
  readonly #waiter: ReplyWaiter = { lateReply: () => this.#lateReplies++ };
  #inboxSend: InboxSend | undefined;
  /** What sendAttempts needs of this producer: one object for its lifetime, not one per batch. */
  readonly #attempts: AttemptContext;
  /** A batch's sendAttempts ended (after its callers' continuations): see #start. */
  readonly #afterBatch = (): void => this.#batchEnded();
  /** The end of a tick's gathering (see #gather): one function per producer, not one per send. */
  readonly #endGather = (): void => {
    this.#gathering = false;
    this.#pump();
  };

  /** @internal Created by Broker.producer(). */
  constructor(
    driver: DriverProducer,
    driverName: string,
    capabilities: Capabilities,
    settings: ProducerSettings,
    logger: Logger,
    onClose: () => void,
    telemetry?: ProducerTelemetry,
    replies?: Replies,
    deadlines?: SharedDeadlines,
  ) {
    this.#replies = replies;
    this.#telemetry = telemetry;
    this.#driver = driver;
    this.#driverName = driverName;
    this.#deadlines = new DeadlineSignals(this.#abort.signal, driverName, deadlines);
    this.#capabilities = capabilities;
    this.#settings = settings;
    this.#maxInFlight = settings.maxInFlight;
    this.#limiter = settings.limiter;
    this.#maxCount = Math.min(settings.maxBatchSize, capabilities.maxBatchSize);
    this.#byteLimited = capabilities.maxBatchBytes !== Number.POSITIVE_INFINITY;
    this.#onClose = onClose;
    this.destination = settings.destination;
    // Mutable from the first producer on (see #closing): the values close() writes differ.
    this.#closing = SETTLED;
    this.#closing = OPEN;
    this.#idle = captureNothing;
    this.#idle = NO_IDLE;
    this.#window = new SendWindow(() => this.#confirmed());
    this.#attempts = {
      driver,
      driverName,
      destination: settings.destination,
      retry: settings.retry,
      deadlineMs: settings.retry.deadlineMs,
      logger,
      closing: this.#abort.signal,
      deadlines: this.#deadlines,
      window: this.#window,
    };
  }

  get closed(): boolean {
    return this.#closing !== OPEN;
  }

  /**
   * Sends one message (resolves to its receipt) or an array (resolves to receipts in order).
   *
   * `signal`: aborting stops waiting. Messages of this send still queued in the producer are
   * dropped (never sent); those already handed to the broker cannot be called back, and may still
   * be accepted and delivered. The send rejects CLOSED (the signal's reason as its cause, or that
   * reason itself when it is a SwitchyardError) with `details` saying which: `notSent` messages
   * were dropped, `accepted` had receipts, `unknown` were in the broker's hands. Aborted before
   * anything was handed over, `unknown` and `accepted` are 0: nothing was sent.
   */
  send(message: SendInput, options?: SendOptions): Promise<Receipt>;
  send(messages: readonly SendInput[], options?: SendOptions): Promise<Receipt[]>;
  send(input: SendInput | readonly SendInput[], options?: SendOptions): Promise<Receipt | Receipt[]> {
    if (this.#closing !== OPEN) {
      return Promise.reject(
        new ClosedError(`producer for "${this.destination}" is closed`, { driver: this.#driverName }),
      );
    }
    let signal: AbortSignal | undefined;
    // A single send's message, or an array send's messages: a single send makes no array unless
    // it goes to the driver alone (the direct path below).
    let content: Outgoing | Outgoing[];
    const single = !Array.isArray(input);
    const now = Date.now();
    try {
      if (options !== undefined) signal = sendSignal(options);
      content = single
        ? this.#prepareOne(input as SendInput, now)
        : this.#prepareMany(input as readonly SendInput[], now);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal !== undefined && isAborted(signal)) {
      return Promise.reject(
        abortedError(
          signal,
          `send to "${this.destination}" was aborted before it started; nothing was sent`,
          this.#driverName,
          { notSent: single ? 1 : (content as Outgoing[]).length, accepted: 0, unknown: 0 },
        ),
      );
    }
    // Tracing: one span per message, its context injected into the headers (a hook, off = skipped).
    let observation: SendObservation | undefined;
    if (this.#telemetry !== undefined) {
      let traced: Outgoing[];
      ({ messages: traced, observation } = this.#telemetry.send(
        single ? [content as Outgoing] : (content as Outgoing[]),
      ));
      content = single ? traced[0]! : traced;
    }
    const count = single ? 1 : (content as Outgoing[]).length;
    // One promise per send() and one SendGroup holding its resolve, its queue place and its
    // receipts: a waiting send keeps nothing else (no executor closure: `capture` is shared; the
    // promise's reject is not kept, see SendGroup).
    const result = new Promise<Receipt | Receipt[]>(capture);
    const group = new SendGroup(content, captured.resolve!, observation);
    captured.resolve = undefined;
    if (signal !== undefined) group.listen(signal, () => this.#abortSend(group, signal));
    // Nothing waits and a batch may start: this send is the batch #pump would take at once (one
    // message goes however large; more only while they fit), so it skips the queue and
    // takeBatch. The lone awaited send's path (issue 18: one at a time ≥ 0.95× the direct call).
    // Not in a tick that already sent one this way: sends made in the same tick as a direct one
    // (many concurrent callers) are gathered by one pump at the end of the tick, so 20
    // concurrent send() calls are one batch of 1 and one of 19, not maxInFlight batches of 1
    // with the rest waiting for the first to end (RocketMQ 1 MiB: two waves, a longer phase,
    // more major GCs). Sends in later ticks (each awaited, or a window refilled as sends end)
    // still go straight out while a slot is free.
    if (
      this.#unsent === 0 &&
      !this.#gathering &&
      this.#inFlight < this.#maxInFlight &&
      count > 0 &&
      (count === 1 || (!this.#byteLimited && count <= this.#maxCount))
    ) {
      group.next = count;
      // The send is its own (whole) segment; the clock read above is the deadline's too.
      this.#start({ messages: group.messages, segments: [group], queuedAt: now }, now);
      this.#gather();
      return result;
    }
    this.#queue.push(group);
    this.#unsent += count;
    if (!this.#gathering) this.#pump();
    return result;
  }

  #prepareOne(input: SendInput, now: number): Outgoing {
    checkMessageKeys(input, undefined);
    return prepareOutgoing(input, this.#capabilities, this.#driverName, undefined, now);
  }

  /**
   * An array send's messages, by a loop in a method rather than a `map` callback made per send: V8
   * holds a closure's optimized code weakly, so the callback of a send made before a mark-compact
   * was compiled again after it (docs/bench-profiles.md §22.1; 4 times in 6 bridge runs).
   */
  #prepareMany(input: readonly SendInput[], now: number): Outgoing[] {
    const content: Outgoing[] = [];
    for (let i = 0; i < input.length; i++) {
      const m = input[i]!;
      checkMessageKeys(m, i);
      content.push(prepareOutgoing(m, this.#capabilities, this.#driverName, i, now));
    }
    return content;
  }

  /** A send's signal aborted: drop what is still queued, and say what may have gone out. */
  #abortSend(group: SendGroup, signal: AbortSignal): void {
    this.#unsent -= abortQueued(group, signal, this.destination, this.#driverName);
    if (this.#pending === 0 && this.#inFlight === 0) this.#idle();
  }

  /**
   * Sends a request and resolves with its reply. The request carries a fresh correlation id
   * (unless its `correlation-id` header names one) and this broker's reply address in its
   * `reply-to` header, which drivers map to the flavour's own fields (AMQP correlation_id and
   * reply_to); a responder answers with `broker.reply(request, response)`, or any client that
   * echoes the correlation id to the reply address. Rejects TIMEOUT (retryable: the request may
   * or may not have been handled) when no reply came within `timeoutMs` (default 30 s, sending
   * included), with the send's error when sending failed, or with the signal's reason. A reply
   * that comes after that is dropped and counted in `lateReplies`. UNSUPPORTED where the driver's
   * capabilities have no requestReply.
   */
  async request(input: SendInput, options: RequestOptions = {}): Promise<Message> {
    if (this.#closing !== OPEN) {
      throw new ClosedError(`producer for "${this.destination}" is closed`, { driver: this.#driverName });
    }
    requireCapability(this.#capabilities, 'requestReply', this.#driverName);
    const replies = this.#replies!;
    const inbox = await replies.inbox();
    const { message, correlationId } = requestMessage(input, inbox.address);
    const describe = `request ${correlationId} to "${this.destination}"`;
    return replies.wait(correlationId, this.#waiter, describe, options, () =>
      this.#driver.sendRequests === undefined
        ? this.send(message)
        : this.#sendThroughInbox(message, inbox, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    );
  }

  /** Replies that came after their request() had given up (timed out, aborted, closed): dropped. */
  get lateReplies(): number {
    return this.#lateReplies;
  }

  /** A request the driver sends its inbox's way (request-send.ts); in flight, so close() waits. */
  async #sendThroughInbox(request: OutgoingMessage, inbox: DriverReplyInbox, timeoutMs: number) {
    this.#inboxSend ??= {
      driver: this.#driver,
      driverName: this.#driverName,
      destination: this.destination,
      capabilities: this.#capabilities,
      retry: this.#settings.retry,
      limiter: this.#settings.limiter,
      telemetry: this.#telemetry,
      deadlines: this.#deadlines,
      closing: this.#abort.signal,
    };
    this.#inFlight++;
    try {
      return await sendThroughInbox(this.#inboxSend, request, inbox, timeoutMs);
    } finally {
      this.#inFlight--;
      if (this.#pending === 0 && this.#inFlight === 0) this.#idle();
    }
  }

  /** The native producer (amqplib channel, SDK client, ...). */
  unwrap<T = unknown>(): T {
    return this.#driver.native as T;
  }

  /**
   * Waits for every accepted send to settle, then releases the driver producer. With `timeoutMs`,
   * sends still unsettled then are rejected (never resolved): retries stop, drivers abort what
   * they are sending, and messages not yet handed to the driver fail CLOSED. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing !== OPEN) return this.#closing;
    this.#closing = (async () => {
      const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
      if (this.#pending > 0 || this.#inFlight > 0) {
        const idle = new Promise<void>((resolve) => (this.#idle = resolve));
        if (options.timeoutMs !== undefined && !(await settledWithin(idle, options.timeoutMs))) {
          this.#abort.abort();
          this.#rejectUnsent();
          await idle;
        } else await idle;
      }
      this.#deadlines.close();
      try {
        await this.#driver.close({ deadline });
      } finally {
        this.#onClose();
      }
    })();
    return this.#closing;
  }

  /** `await using producer = await broker.producer(...)`: close() (draining sends) on scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get #pending(): number {
    return this.#unsent;
  }

  #rejectUnsent(): void {
    const error = new ClosedError(
      `producer for "${this.destination}" closed before this message was sent; it was not sent`,
      { driver: this.#driverName },
    );
    for (const group of this.#queue.drain()) group.reject(error);
    this.#unsent = 0;
    if (this.#inFlight === 0) this.#idle();
  }

  /**
   * Starts batches while fewer than maxInFlight are in flight. With `refill` (after the driver
   * reported confirms one by one), it also starts one more batch of what is queued while the
   * messages not yet confirmed stay within maxInFlight full batches: a batch's confirmed sends
   * were resolved, their callers sent again, and waiting for the batch's last confirm would leave
   * the window empty meanwhile (issue 18). Not with maxInFlight 1: one batch at a time keeps order.
   */
  #pump(refill = false): void {
    const maxCount = this.#maxCount;
    const limits = { maxCount, maxBytes: this.#capabilities.maxBatchBytes };
    const maxInFlight = this.#maxInFlight;
    while (this.#pending > 0) {
      if (this.#inFlight >= maxInFlight) {
        const { handed, confirmedEarly } = this.#window;
        const room = maxInFlight * maxCount - (handed - confirmedEarly);
        if (!refill || confirmedEarly === 0 || room <= 0 || this.#inFlight >= maxInFlight * MAX_REFILLS)
          return;
        // One batch per turn: what the confirms of this turn freed, not a batch per message.
        refill = false;
        this.#start(this.#nextBatch({ maxCount: Math.min(maxCount, room), maxBytes: limits.maxBytes }));
      } else this.#start(this.#nextBatch(limits));
    }
  }

  /**
   * Pumps once at the end of this tick, when every send made in it is queued. A reaction on a
   * settled promise rather than queueMicrotask, which makes an AsyncResource and a bound function
   * per call: for a lone send, per send (docs/bench-profiles.md §19.1). Same microtask queue.
   */
  #gather(): void {
    if (this.#gathering) return;
    this.#gathering = true;
    void SETTLED.then(this.#endGather);
  }

  /**
   * `now`: the clock read of a send that goes straight out, for its deadline. sendAttempts
   * counts the batch's messages off (`settled`) as it ends; the slot is freed one reaction later,
   * after the continuations of the callers it resolved, so a caller that sends again at once
   * queues behind the slot and its sends are taken together.
   */
  #start(batch: Batch, now?: number): void {
    this.#inFlight++;
    this.#window.handed += batch.messages.length;
    const limiter = this.#limiter;
    const sent =
      limiter === undefined ? sendAttempts(this.#attempts, batch, now) : this.#throttled(limiter, batch);
    void sent.then(this.#afterBatch, this.#afterBatch);
  }

  #batchEnded(): void {
    this.#inFlight--;
    if (this.#pending > 0) this.#pump();
    else if (this.#inFlight === 0) this.#idle();
  }

  /** The driver reported a message confirmed before its batch ended (counted): refill after this turn. */
  #confirmed(): void {
    if (this.#refill === undefined && this.#maxInFlight > 1) {
      this.#refill = setImmediate(() => {
        this.#refill = undefined;
        if (this.#pending > 0) this.#pump(true);
      });
    }
  }

  #nextBatch(limits: BatchLimits): Batch {
    const batch = takeBatch(this.#queue, limits);
    this.#unsent -= batch.messages.length;
    return batch;
  }

  /**
   * Rate-limited: the wait for permits is the caller's choice, not the broker's slowness, so the
   * send's deadline starts after it. Closing past its timeout stops the wait: not sent.
   */
  async #throttled(limiter: RateLimiter, batch: Batch): Promise<void> {
    if (!(await throttle(limiter, batch.messages.length, this.#abort.signal))) {
      const error = new ClosedError(
        `producer for "${this.destination}" closed before this message was sent; it was not sent`,
        { driver: this.#driverName },
      );
      for (const { group } of batch.segments) group.reject(error);
      this.#window.handed -= batch.messages.length;
      return;
    }
    const now = Date.now();
    await sendAttempts(this.#attempts, { ...batch, queuedAt: now }, now);
  }
}

/**
 * The resolve of the promise send() is making, taken out by a shared executor (no closure per
 * send) and moved into its SendGroup at once.
 */
const captured: { resolve: ((result: Receipt | Receipt[]) => void) | undefined } = { resolve: undefined };

function capture(resolve: (result: Receipt | Receipt[]) => void): void {
  captured.resolve = resolve;
}

const SETTLED = Promise.resolve();
/** A Producer's #closing before close(): a promise, as close()'s (see #closing). */
const OPEN: Promise<void> = Promise.resolve();
/** A Producer's #idle before close() waits: a function of the map a promise's resolve has. */
const NO_IDLE = (): void => {};
const captureNothing = (): void => {};

/** Batches in flight at most, in maxInFlights, when early confirms refill the window (see #pump). */
const MAX_REFILLS = 8;

/** True when `work` settled within `ms`. */
async function settledWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

function unboundedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
