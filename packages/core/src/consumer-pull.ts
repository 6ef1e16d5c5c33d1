// The pull side of a Consumer: receive() and `for await`, both taking from the intake's
// prefetch-bounded buffer. The caller settles what it takes.

import { abortedError, isAborted } from './aborted.js';
import type { ReceiveOptions } from './call-options.js';
import { InvalidArgumentError } from './errors.js';
import type { Intake } from './intake.js';
import type { Message } from './message.js';
import { openPromise, takeReject, takeResolve } from './open-promise.js';
import { checkKeys } from './strict-keys.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';
import type { Woken } from './waiters.js';

/** Options of one receive() call. */
const RECEIVE_OPTION_KEYS: ReadonlySet<string> = new Set(['max', 'waitMs', 'signal']);

export interface PullHost {
  readonly intake: Intake;
  readonly telemetry: ConsumerTelemetry | undefined;
  readonly source: string;
  readonly driverName: string;
  readonly pollWaitMs: number;
  /** The error receive() rejects with once the consumer is closing; undefined while it is open. */
  closed(): Error | undefined;
}

/**
 * receive(): not an async function. A receive that finds nothing buffered waits as a Woken of the
 * intake's waiters (PendingTake) and settles its own promise when woken, instead of an async frame
 * awaiting a wait's promise: over 1,000 destinations that get ≈ 10 messages per receive cycle the
 * frame, its await and the wait's promise were ≈ 35 B per message (docs/bench-profiles.md §28).
 */
export function receiveFrom(host: PullHost, options: ReceiveOptions): Promise<Message[]> {
  if (typeof options !== 'object' || options === null)
    return Promise.reject(
      new InvalidArgumentError(`receive options must be an object such as { max, waitMs, signal }`),
    );
  const { signal } = options;
  const max = options.max ?? 1;
  const waitMs = options.waitMs ?? host.pollWaitMs;
  const refused = receiveRefused(host, options, max, waitMs);
  if (refused !== undefined) return Promise.reject(refused);
  const { intake, telemetry } = host;
  const startedAt = telemetry === undefined ? 0 : Date.now();
  if (intake.buffered === 0 && intake.fatal === undefined && waitMs > 0) {
    const pending = new PendingTake(host, max, signal, startedAt);
    intake.waiters.waitFor(pending, waitMs, signal);
    return pending.promise;
  }
  try {
    return Promise.resolve(takeBuffered(host, max, startedAt));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** What receive() rejects with before taking anything (bad options, closed, aborted), if anything. */
function receiveRefused(host: PullHost, options: ReceiveOptions, max: number, waitMs: number): unknown {
  try {
    checkKeys(options, RECEIVE_OPTION_KEYS, 'receive options');
  } catch (error) {
    return error;
  }
  const { signal } = options;
  if (!Number.isInteger(max) || max < 1)
    return new InvalidArgumentError(`max must be a whole number ≥ 1, got ${max}`);
  if (!Number.isInteger(waitMs) || waitMs < 0)
    return new InvalidArgumentError(`waitMs must be a whole number ≥ 0, got ${waitMs}`);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    return new InvalidArgumentError(
      'receive options.signal must be an AbortSignal (from an AbortController)',
    );
  const closed = host.closed();
  if (closed !== undefined) return closed;
  if (isAborted(signal)) return receiveAborted(host, signal!);
  return undefined;
}

/** Up to `max` buffered messages, now the caller's; throws the intake's fatal error when none is. */
function takeBuffered(host: PullHost, max: number, startedAt: number): Message[] {
  const { intake } = host;
  if (intake.fatal !== undefined && intake.buffered === 0) throw intake.fatal;
  const out = new Array<Message>(Math.min(max, intake.buffered));
  for (let i = 0; i < out.length; i++) out[i] = intake.take()!;
  host.telemetry?.received(out, startedAt);
  return out;
}

/** A receive() waiting for messages: woken by the intake (a delivery, a stop), its time, or its signal. */
class PendingTake implements Woken {
  readonly promise: Promise<Message[]>;
  readonly #resolve: (messages: Message[]) => void;
  readonly #reject: (error: unknown) => void;
  readonly #host: PullHost;
  readonly #max: number;
  readonly #signal: AbortSignal | undefined;
  readonly #startedAt: number;

  constructor(host: PullHost, max: number, signal: AbortSignal | undefined, startedAt: number) {
    this.promise = openPromise<Message[]>();
    this.#resolve = takeResolve<Message[]>();
    this.#reject = takeReject();
    this.#host = host;
    this.#max = max;
    this.#signal = signal;
    this.#startedAt = startedAt;
  }

  woken(): void {
    const signal = this.#signal;
    try {
      // Taking nothing after the abort: what came in meanwhile stays buffered for the next call.
      if (isAborted(signal)) throw receiveAborted(this.#host, signal!);
      this.#resolve(takeBuffered(this.#host, this.#max, this.#startedAt));
    } catch (error) {
      this.#reject(error);
    }
  }
}

/** A module function, not a closure per receive() (which, run from source by tsx, is a named one). */
function receiveAborted(host: PullHost, signal: AbortSignal): Error {
  return abortedError(
    signal,
    `receive from "${host.source}" was aborted by its signal; no message was taken`,
    host.driverName,
  );
}

export function iterate(host: PullHost): AsyncIterator<Message> {
  const { intake, telemetry } = host;
  return {
    next: async (): Promise<IteratorResult<Message>> => {
      const startedAt = telemetry === undefined ? 0 : Date.now();
      for (;;) {
        const message = intake.take();
        if (message !== undefined) {
          telemetry?.received([message], startedAt);
          return { value: message, done: false };
        }
        if (intake.fatal !== undefined) throw intake.fatal;
        if (intake.stopping) return { value: undefined, done: true };
        await new Promise<void>((resolve) => intake.waiters.add(resolve));
      }
    },
    // Breaking out of the loop leaves the consumer open: close it to stop receiving.
    return: async (): Promise<IteratorResult<Message>> => ({ value: undefined, done: true }),
  };
}
