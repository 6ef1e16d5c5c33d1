import { setMaxListeners } from 'node:events';
import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import { batchEnd, outgoingBytes } from './batch-limits.js';
import type { Capabilities } from './capabilities.js';
import { deadlineSignal } from './deadline-signal.js';
import type { DriverProducer } from './driver.js';
import { ClosedError, errorCode, isRetryable, TimeoutError, toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Outgoing, OutgoingMessage, Receipt } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';
import type { ProducerTelemetry, SendObservation } from './telemetry/telemetry.js';

/** One send() call: its messages settle together, without a promise per message. */
class SendGroup {
  readonly receipts: Receipt[];
  #remaining: number;
  #settled = false;
  readonly #resolve: (receipts: Receipt[]) => void;
  readonly #reject: (error: Error) => void;
  readonly #observation: SendObservation | undefined;

  constructor(
    size: number,
    resolve: (receipts: Receipt[]) => void,
    reject: (error: Error) => void,
    observation: SendObservation | undefined,
  ) {
    this.receipts = new Array<Receipt>(size);
    this.#remaining = size;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#observation = observation;
  }

  resolve(index: number, receipt: Receipt): void {
    this.receipts[index] = receipt;
    this.#observation?.sent(index, receipt);
    if (--this.#remaining === 0 && !this.#settled) {
      this.#settled = true;
      this.#resolve(this.receipts);
    }
  }

  reject(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#observation?.failed(error);
    this.#reject(error);
  }
}

interface Pending {
  readonly message: Outgoing;
  readonly group: SendGroup;
  readonly index: number;
  /** When send() took it: the retry deadline counts from here, queueing included. */
  readonly queuedAt: number;
  /** Its portable size, measured only when the driver limits batches by bytes. */
  readonly bytes: number;
}

export interface ProducerSettings {
  readonly destination: string;
  readonly maxBatchSize: number;
  readonly maxInFlight: number;
  readonly retry: BackoffPolicy;
}

export type SendInput = OutgoingMessage | string | Uint8Array;

/**
 * Sends messages to one destination. Concurrent sends are coalesced into driver batches (up to
 * maxBatchSize messages and the driver's maxBatchBytes, maxInFlight batches at once) without waiting when the producer is idle, and
 * retryable failures are retried with backoff. A send resolves only when the broker accepted the
 * message.
 */
export class Producer {
  readonly destination: string;
  readonly #driver: DriverProducer;
  readonly #capabilities: Capabilities;
  readonly #driverName: string;
  readonly #settings: ProducerSettings;
  readonly #logger: Logger;
  readonly #onClose: () => void;
  readonly #telemetry: ProducerTelemetry | undefined;
  #queue: Pending[] = [];
  #head = 0;
  #inFlight = 0;
  #closing: Promise<void> | undefined;
  #idle: (() => void) | undefined;
  /** Aborted when close() runs out of time: retries stop and drivers give up their sends. */
  /**
   * Aborts in-flight sends when close gives up. Every batch in flight and every retry wait listens
   * to it — bounded by maxInFlight, but often more than Node's default of 10 listeners.
   */
  readonly #abort = unboundedAbortController();

  /** @internal Created by Broker.producer(). */
  constructor(
    driver: DriverProducer,
    driverName: string,
    capabilities: Capabilities,
    settings: ProducerSettings,
    logger: Logger,
    onClose: () => void,
    telemetry?: ProducerTelemetry,
  ) {
    this.#telemetry = telemetry;
    this.#driver = driver;
    this.#driverName = driverName;
    this.#capabilities = capabilities;
    this.#settings = settings;
    this.#logger = logger;
    this.#onClose = onClose;
    this.destination = settings.destination;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Sends one message (resolves to its receipt) or an array (resolves to receipts in order). */
  send(message: SendInput): Promise<Receipt>;
  send(messages: readonly SendInput[]): Promise<Receipt[]>;
  send(input: SendInput | readonly SendInput[]): Promise<Receipt | Receipt[]> {
    if (this.#closing !== undefined) {
      return Promise.reject(
        new ClosedError(`producer for "${this.destination}" is closed`, { driver: this.#driverName }),
      );
    }
    let prepared: Outgoing[];
    const now = Date.now();
    try {
      prepared = Array.isArray(input)
        ? input.map((m, i) => prepareOutgoing(m, this.#capabilities, this.#driverName, i, now))
        : [prepareOutgoing(input as SendInput, this.#capabilities, this.#driverName, undefined, now)];
    } catch (error) {
      return Promise.reject(error);
    }
    // Tracing: one span per message, its context injected into the headers (a hook, off = skipped).
    let observation: SendObservation | undefined;
    if (this.#telemetry !== undefined) ({ messages: prepared, observation } = this.#telemetry.send(prepared));
    const all = new Promise<Receipt[]>((resolve, reject) => {
      const group = new SendGroup(prepared.length, resolve, reject, observation);
      const queuedAt = now;
      const measure = this.#capabilities.maxBatchBytes !== Number.POSITIVE_INFINITY;
      for (let index = 0; index < prepared.length; index++) {
        const message = prepared[index]!;
        const bytes = measure ? outgoingBytes(message) : 0;
        this.#queue.push({ message, group, index, queuedAt, bytes });
      }
    });
    this.#pump();
    return Array.isArray(input) ? all : all.then((receipts) => receipts[0]!);
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
    this.#closing ??= (async () => {
      const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
      if (this.#pending > 0 || this.#inFlight > 0) {
        const idle = new Promise<void>((resolve) => (this.#idle = resolve));
        if (options.timeoutMs !== undefined && !(await settledWithin(idle, options.timeoutMs))) {
          this.#abort.abort();
          this.#rejectUnsent();
          await idle;
        } else await idle;
      }
      try {
        await this.#driver.close({ deadline });
      } finally {
        this.#onClose();
      }
    })();
    return this.#closing;
  }

  get #pending(): number {
    return this.#queue.length - this.#head;
  }

  #rejectUnsent(): void {
    const error = new ClosedError(
      `producer for "${this.destination}" closed before this message was sent; it was not sent`,
      { driver: this.#driverName },
    );
    for (let i = this.#head; i < this.#queue.length; i++) this.#queue[i]!.group.reject(error);
    this.#queue = [];
    this.#head = 0;
    if (this.#inFlight === 0) this.#idle?.();
  }

  #pump(): void {
    const limits = {
      maxCount: Math.min(this.#settings.maxBatchSize, this.#capabilities.maxBatchSize),
      maxBytes: this.#capabilities.maxBatchBytes,
    };
    while (this.#inFlight < this.#settings.maxInFlight && this.#pending > 0) {
      const end = batchEnd(this.#queue, this.#head, limits, byteSize);
      const batch = this.#queue.slice(this.#head, end);
      this.#head = end;
      // Sent entries must not stay in the queue: each holds its message and body. An emptied
      // queue starts over; a long one is compacted once mostly sent.
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#inFlight++;
      void this.#sendWithRetry(batch).finally(() => {
        this.#inFlight--;
        if (this.#pending > 0) this.#pump();
        else if (this.#inFlight === 0 && this.#idle !== undefined) this.#idle();
      });
    }
  }

  async #sendWithRetry(batch: Pending[]): Promise<void> {
    const policy = this.#settings.retry;
    // A send that waited behind others (a slow or blocked broker) has that much less time left;
    // the queue is FIFO, so the batch's first message waited longest.
    const started = batch[0]?.queuedAt ?? Date.now();
    // The driver's signal also aborts at the deadline, so one attempt cannot outlive the send.
    const send = deadlineSignal(this.#abort.signal, started + policy.deadlineMs, this.#driverName);
    try {
      await this.#attempts(batch, started, send.signal);
    } finally {
      send.dispose();
    }
  }

  async #attempts(batch: Pending[], started: number, signal: AbortSignal): Promise<void> {
    const policy = this.#settings.retry;
    let remaining = batch;
    for (let attempt = 1; remaining.length > 0; attempt++) {
      let results: Array<Receipt | Error>;
      try {
        results = await this.#driver.sendBatch(
          remaining.map((p) => p.message),
          signal,
        );
      } catch (error) {
        results = remaining.map(() => error as Error);
      }
      // Out of time: what the abort cut short (a driver may call it CLOSED) is a timeout too.
      const timedOut = signal.aborted && !this.#abort.signal.aborted;
      const retry: Pending[] = [];
      let lastError: unknown;
      for (let i = 0; i < remaining.length; i++) {
        const pending = remaining[i]!;
        const result = results[i];
        if (result === undefined) {
          pending.group.reject(
            toSwitchyardError(new Error('driver returned fewer results than messages'), this.#driverName),
          );
        } else if (!(result instanceof Error)) {
          pending.group.resolve(pending.index, result);
        } else if (isRetryable(result) || (timedOut && errorCode(result) === 'CLOSED')) {
          retry.push(pending);
          lastError = result;
        } else {
          pending.group.reject(toSwitchyardError(result, this.#driverName));
        }
      }
      if (retry.length === 0) return;
      const delay = backoffDelay(policy, attempt);
      const elapsed = Date.now() - started;
      // Out of attempts: the last error is the answer. Out of time: TIMEOUT, with it as the cause.
      const exhausted = !timedOut && (attempt >= policy.maxAttempts || this.#abort.signal.aborted);
      if (exhausted || timedOut || elapsed + delay > policy.deadlineMs) {
        const error = exhausted
          ? toSwitchyardError(lastError, this.#driverName)
          : new TimeoutError(
              `send to "${this.destination}" gave up after ${attempt} attempts in ${elapsed} ms: ${(lastError as Error).message}`,
              { driver: this.#driverName, cause: lastError },
            );
        for (const pending of retry) pending.group.reject(error);
        return;
      }
      this.#logger.warn(
        {
          destination: this.destination,
          attempt,
          delayMs: delay,
          code: (lastError as { code?: string }).code,
        },
        'send failed; retrying',
      );
      await sleep(delay, this.#abort.signal).catch(() => {});
      if (this.#abort.signal.aborted) {
        for (const pending of retry) pending.group.reject(toSwitchyardError(lastError, this.#driverName));
        return;
      }
      remaining = retry;
    }
  }
}

function byteSize(pending: Pending): number {
  return pending.bytes;
}

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
