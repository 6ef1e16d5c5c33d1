// The pull side of a Consumer: receive() and `for await`, both taking from the intake's
// prefetch-bounded buffer. The caller settles what it takes.

import { abortedError, isAborted } from './aborted.js';
import type { ReceiveOptions } from './call-options.js';
import { InvalidArgumentError } from './errors.js';
import type { Intake } from './intake.js';
import type { Message } from './message.js';
import { checkKeys } from './strict-keys.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';

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

export async function receiveFrom(host: PullHost, options: ReceiveOptions): Promise<Message[]> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError(`receive options must be an object such as { max, waitMs, signal }`);
  checkKeys(options, RECEIVE_OPTION_KEYS, 'receive options');
  const { signal } = options;
  const max = options.max ?? 1;
  const waitMs = options.waitMs ?? host.pollWaitMs;
  if (!Number.isInteger(max) || max < 1)
    throw new InvalidArgumentError(`max must be a whole number ≥ 1, got ${max}`);
  if (!Number.isInteger(waitMs) || waitMs < 0)
    throw new InvalidArgumentError(`waitMs must be a whole number ≥ 0, got ${waitMs}`);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new InvalidArgumentError('receive options.signal must be an AbortSignal (from an AbortController)');
  const closed = host.closed();
  if (closed !== undefined) throw closed;
  if (isAborted(signal)) throw receiveAborted(host, signal!);
  const { intake, telemetry } = host;
  const startedAt = telemetry === undefined ? 0 : Date.now();
  if (intake.buffered === 0 && intake.fatal === undefined && waitMs > 0) {
    await intake.waiters.wait(waitMs, signal);
    // Taking nothing after the abort: what came in meanwhile stays buffered for the next call.
    if (isAborted(signal)) throw receiveAborted(host, signal!);
  }
  if (intake.fatal !== undefined && intake.buffered === 0) throw intake.fatal;
  const out = new Array<Message>(Math.min(max, intake.buffered));
  for (let i = 0; i < out.length; i++) out[i] = intake.take()!;
  telemetry?.received(out, startedAt);
  return out;
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
