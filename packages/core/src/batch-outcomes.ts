// What a runBatch() handler's return means for each message of its batch. The consumer then
// settles each one exactly as run() settles a message: ack, or (failed) nack with backoff and
// dead-letter on the last of maxDeliveries. Messages the handler settled itself are left alone.

import { InvalidArgumentError } from './errors.js';
import type { Message } from './message.js';

/**
 * One message's outcome: 'ack' (handled), 'retry' (failed: redelivered with backoff, dead-lettered
 * on its last delivery, as when a run() handler throws), or an Error (the same, with its message
 * as the reason logged and recorded on a dead-lettered copy).
 */
export type BatchOutcome = 'ack' | 'retry' | Error;

/**
 * Receives up to `maxMessages` messages; may return (or resolve to) nothing or an array of
 * BatchOutcome. Returning nothing acks every message still pending;
 * returning an array gives one outcome per message, in the batch's order; throwing (or rejecting)
 * fails every message still pending. A message the handler acked, nacked or dead-lettered itself
 * keeps that.
 */
export type BatchHandler = (messages: Message[]) => unknown;

export interface BatchRunOptions {
  /** Most messages per call; at most the consumer's prefetch. */
  readonly maxMessages: number;
  /** How long a batch with fewer than maxMessages waits for more, from its first message (default 0: what is there). */
  readonly maxWaitMs?: number;
  /** Batches handled at once (default 1). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

/** Calls `ack` or `fail` for each message of a finished batch that is still pending. */
export function settleBatch(
  messages: readonly Message[],
  result: unknown,
  error: unknown,
  failed: boolean,
  settle: { ack(message: Message): void; fail(message: Message, error: unknown): void },
): void {
  let outcomes: readonly unknown[] | undefined;
  if (!failed && result !== undefined) {
    if (Array.isArray(result) && result.length === messages.length) outcomes = result;
    else {
      failed = true;
      error = new InvalidArgumentError(
        Array.isArray(result)
          ? `runBatch handler returned ${result.length} outcomes for a batch of ${messages.length}: return one per message, in order, or nothing to ack them all`
          : `runBatch handler returned ${typeof result}: return an array of outcomes ('ack', 'retry' or an Error), one per message, or nothing`,
      );
    }
  }
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.state !== 'pending') continue;
    if (failed) {
      settle.fail(message, error);
      continue;
    }
    const outcome = outcomes?.[i] ?? 'ack';
    if (outcome === 'ack') settle.ack(message);
    else if (outcome === 'retry') settle.fail(message, new Error('the batch handler asked to retry it'));
    else if (outcome instanceof Error) settle.fail(message, outcome);
    else
      settle.fail(
        message,
        new InvalidArgumentError(
          `runBatch handler returned an unknown outcome for message ${message.id}: use 'ack', 'retry' or an Error`,
        ),
      );
  }
}
