// The push side of a Consumer: run() and runBatch() over one dispatch loop (handler-run.ts), the
// handlers running (close() waits for them), pause()/resume() and the maxPerSecond limit on
// handler starts. The consumer supplies its intake and says how a message is acked, failed or
// given back; this file decides when handlers start.

import { type BatchHandler, type BatchRunOptions, settleBatch } from './batch-outcomes.js';
import type { ConsumerSettings } from './consumer-settings.js';
import { InvalidArgumentError, type SwitchyardError } from './errors.js';
import { type Handler, type RunControl, type RunHost, runHandlers } from './handler-run.js';
import type { Intake } from './intake.js';
import type { Message } from './message.js';
import { RateLimiter } from './rate-limit.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';

export interface RunsHost {
  readonly intake: Intake;
  readonly settings: ConsumerSettings;
  readonly telemetry: ConsumerTelemetry | undefined;
  /** The error run() rejects with once the consumer is closing; undefined while it is open. */
  closed(): Error | undefined;
  /** A handler finished the message: ack it (failures are logged, the broker redelivers). */
  ack(message: Message): void;
  /** A handler failed the message: nack with backoff, or dead-letter on its last delivery. */
  fail(message: Message, error: unknown): void;
  /** Gives back a message no handler started. */
  giveBack(message: Message): void;
}

/** `maxPerSecond` caps handler starts; about one second's worth is held beyond those running. */
export function intakeLimit(settings: ConsumerSettings): number {
  const rate = settings.maxPerSecond;
  // A message must not wait in the buffer for its turn until its lease runs out and the broker
  // hands it out again: rate-limited, hold about one second's worth beyond the handlers running.
  return rate === undefined
    ? settings.prefetch
    : Math.min(settings.prefetch, Math.ceil(rate) + settings.concurrency);
}

/**
 * The consumer's side of the dispatch loop, as methods (the loop's host) rather than closures made
 * per run(): see handler-run.ts for why.
 */
export class ConsumerRuns implements RunHost {
  readonly #h: RunsHost;
  /**
   * Messages a handler is working on: close() waits for these. A count, not a set: only "are there
   * any" is ever asked, and a set insert and delete per message was a visible share of run()'s CPU.
   */
  #handling = 0;
  #drainedWaiter: (() => void) | undefined;
  #running = false;
  #control: RunControl | undefined;
  #paused = false;
  readonly #limiter: RateLimiter | undefined;
  /** The active run()'s handler, or runBatch()'s (one of the two while a loop runs). */
  #handler: Handler | undefined;
  #batchHandler: BatchHandler | undefined;

  constructor(host: RunsHost) {
    this.#h = host;
    const rate = host.settings.maxPerSecond;
    this.#limiter = rate === undefined ? undefined : new RateLimiter(rate);
  }

  get paused(): boolean {
    return this.#paused;
  }

  run(handler: Handler, options: { signal?: AbortSignal; concurrency?: number }): Promise<void> {
    return this.#loop(options, 1, 0, handler, undefined);
  }

  runBatch(handler: BatchHandler, options: BatchRunOptions): Promise<void> {
    const { maxMessages, maxWaitMs = 0 } = options ?? {};
    const { prefetch } = this.#h.settings;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > prefetch) {
      return Promise.reject(
        new InvalidArgumentError(
          `runBatch maxMessages must be a whole number from 1 to the consumer's prefetch (${prefetch}), got ${maxMessages}; raise prefetch for larger batches`,
        ),
      );
    }
    if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0) {
      return Promise.reject(
        new InvalidArgumentError(`runBatch maxWaitMs must be a whole number of ms ≥ 0, got ${maxWaitMs}`),
      );
    }
    return this.#loop(
      { signal: options.signal, concurrency: options.concurrency ?? 1 },
      maxMessages,
      maxWaitMs,
      undefined,
      handler,
    );
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#h.intake.pause();
    this.#control?.release();
    for (const message of this.#h.intake.drainBuffer()) this.#h.giveBack(message);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#h.intake.resume();
  }

  /** Ends run() / runBatch() (close): what they hold unstarted goes back. */
  stop(): void {
    this.#control?.stop();
  }

  /** Resolves when no handler is running any more, or after `ms`. */
  async drained(ms: number): Promise<void> {
    if (this.#handling === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#drainedWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#drainedWaiter = undefined;
  }

  #loop(
    options: { signal?: AbortSignal | undefined; concurrency?: number | undefined },
    max: number,
    waitMs: number,
    handler: Handler | undefined,
    batchHandler: BatchHandler | undefined,
  ): Promise<void> {
    const closed = this.#h.closed();
    if (closed !== undefined) return Promise.reject(closed);
    if (this.#running)
      return Promise.reject(
        new InvalidArgumentError('run() or runBatch() is already active on this consumer'),
      );
    const concurrency = options.concurrency ?? this.#h.settings.concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      return Promise.reject(
        new InvalidArgumentError(`concurrency must be a whole number ≥ 1, got ${concurrency}`),
      );
    }
    this.#running = true;
    this.#handler = handler;
    this.#batchHandler = batchHandler;
    return runHandlers(this, {
      concurrency,
      ordered: this.#h.settings.ordered,
      signal: options.signal,
      single: handler !== undefined,
      max,
      waitMs,
    });
  }

  // The loop's host (RunHost).

  take(): Message | undefined {
    return this.#h.intake.take();
  }

  fatal(): SwitchyardError | undefined {
    return this.#h.intake.fatal;
  }

  stopping(): boolean {
    return this.#h.intake.stopping;
  }

  onWake(wake: () => void): void {
    this.#h.intake.waiters.add(wake);
  }

  admit(count: number): number {
    return this.#paused ? Number.POSITIVE_INFINITY : (this.#limiter?.take(count) ?? 0);
  }

  invoke(messages: Message[]): unknown {
    return this.#batchHandler!(messages);
  }

  started(): void {
    this.#handling++;
  }

  invokeOne(message: Message): unknown {
    this.#handling++;
    const telemetry = this.#h.telemetry;
    const handler = this.#handler!;
    return telemetry === undefined ? handler(message) : telemetry.run(message, handler);
  }

  finishedOne(message: Message, _result: unknown, error: unknown, failed: boolean): void {
    if (--this.#handling === 0) this.#drainedWaiter?.();
    if (failed) this.#h.fail(message, error);
    else if (message.state === 'pending') this.#h.ack(message);
  }

  finished(messages: Message[], result: unknown, error: unknown, failed: boolean): void {
    this.#handling -= messages.length;
    if (this.#handling === 0) this.#drainedWaiter?.();
    settleBatch(messages, result, error, failed, this.#h);
  }

  giveBack(message: Message): void {
    this.#h.giveBack(message);
  }

  begun(control: RunControl): void {
    this.#control = control;
  }

  ended(): void {
    this.#running = false;
    this.#control = undefined;
    this.#handler = undefined;
    this.#batchHandler = undefined;
  }
}
