// The producer's queue of send() calls waiting for the driver, and how they are cut into driver
// batches: FIFO, up to a count and byte limit, one send() possibly spread over several batches.
// Kept apart from producer.ts, which decides when batches go and how they are retried.

import { abortedError } from './aborted.js';
import type { SendOptions } from './call-options.js';
import type { Deque } from './deque.js';
import { InvalidArgumentError } from './errors.js';
import type { Outgoing, Receipt } from './message-types.js';
import { checkKeys } from './strict-keys.js';
import type { SendObservation } from './telemetry/telemetry.js';

/**
 * One send() call: its messages settle together, without a promise per message. `single`: the
 * send() took one message, not an array, and resolves to its receipt alone (no wrapper closure).
 */
export class SendGroup {
  readonly receipts: Receipt[];
  #remaining: number;
  #settled = false;
  #aborted = false;
  readonly #single: boolean;
  readonly #resolve: (result: Receipt | Receipt[]) => void;
  readonly #reject: (error: Error) => void;
  readonly #observation: SendObservation | undefined;

  constructor(
    size: number,
    single: boolean,
    resolve: (result: Receipt | Receipt[]) => void,
    reject: (error: Error) => void,
    observation: SendObservation | undefined,
  ) {
    this.receipts = new Array<Receipt>(size);
    this.#remaining = size;
    this.#single = single;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#observation = observation;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Given up by its caller's signal: what of it is still queued is dropped, retries stop. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Receipts in so far: messages the broker is known to have accepted. */
  get accepted(): number {
    return this.receipts.length - this.#remaining;
  }

  abort(error: Error): void {
    if (this.#settled) return;
    this.#aborted = true;
    this.reject(error);
  }

  /** Message `index` is confirmed; a second report of the same message is ignored. */
  resolve(index: number, receipt: Receipt): void {
    if (this.receipts[index] !== undefined) return;
    this.receipts[index] = receipt;
    this.#observation?.sent(index, receipt);
    if (--this.#remaining === 0 && !this.#settled) {
      this.#settled = true;
      this.#resolve(this.#single ? this.receipts[0]! : this.receipts);
    }
  }

  reject(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#observation?.failed(error);
    this.#reject(error);
  }
}

/** One send()'s messages waiting for the driver; `next` is the first not yet in a batch. */
export interface Queued {
  readonly group: SendGroup;
  readonly messages: readonly Outgoing[];
  /** Portable sizes, measured only when the driver limits batches by bytes. */
  readonly bytes: readonly number[] | undefined;
  /** When send() took it: the retry deadline counts from here, queueing included. */
  readonly queuedAt: number;
  next: number;
}

/** Messages first..first+count-1 of one send(), side by side in a driver batch. */
export interface Segment {
  readonly group: SendGroup;
  readonly first: number;
  readonly count: number;
}

/** One driver call's messages and whose they are: no object per message. */
export interface Batch {
  readonly messages: readonly Outgoing[];
  readonly segments: readonly Segment[];
  /** The first message's queuedAt: the queue is FIFO, so it waited longest. */
  readonly queuedAt: number;
}

export interface BatchLimits {
  readonly maxCount: number;
  readonly maxBytes: number;
}

/**
 * Takes the next batch off the queue, in order, within the limits. A send() that fits whole goes
 * to the driver as the array it was prepared in; a send() is dropped from the queue (with its
 * bodies) once all of it is in batches. Aborted send()s still queued are dropped on the way.
 */
export function takeBatch(queue: Deque<Queued>, limits: BatchLimits): Batch {
  const segments: Segment[] = [];
  const sources: Array<readonly Outgoing[]> = [];
  let queuedAt: number | undefined;
  let count = 0;
  let bytes = 0;
  for (let queued = queue.peek(); queued !== undefined; queued = queue.peek()) {
    // Aborted by its signal while queued: the producer already stopped counting it as unsent.
    if (queued.group.aborted) {
      queue.shift();
      continue;
    }
    queuedAt ??= queued.queuedAt;
    const first = queued.next;
    let end = Math.min(queued.messages.length, first + limits.maxCount - count);
    if (queued.bytes !== undefined) {
      let fit = first;
      // The batch's first message goes however large it is: the broker's own check answers it.
      while (fit < end && (count + fit - first === 0 || bytes + queued.bytes[fit]! <= limits.maxBytes)) {
        bytes += queued.bytes[fit]!;
        fit++;
      }
      end = fit;
    }
    if (end === first) break;
    segments.push({ group: queued.group, first, count: end - first });
    sources.push(queued.messages);
    count += end - first;
    queued.next = end;
    if (end < queued.messages.length) break;
    queue.shift();
  }
  const only = segments.length === 1 ? segments[0]! : undefined;
  const messages =
    only !== undefined && only.first === 0 && only.count === sources[0]!.length
      ? sources[0]!
      : segments.flatMap((segment, i) => sources[i]!.slice(segment.first, segment.first + segment.count));
  return { messages, segments, queuedAt: queuedAt ?? Date.now() };
}

/** Options of one send() call. */
const SEND_OPTION_KEYS: ReadonlySet<string> = new Set(['signal']);

export function sendSignal(options: SendOptions): AbortSignal | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      `send options must be an object such as { signal }, got ${typeof options}`,
    );
  }
  checkKeys(options, SEND_OPTION_KEYS, 'send options');
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('send options.signal must be an AbortSignal (from an AbortController)');
  }
  return signal;
}

/**
 * A send's signal aborted: its group rejects CLOSED saying what may have gone out, and what of it
 * is still queued is dropped (takeBatch skips it). Returns how many messages were dropped unsent.
 */
export function abortQueued(
  queued: Queued,
  signal: AbortSignal,
  destination: string,
  driver: string,
): number {
  const { group, messages } = queued;
  if (group.settled) return 0;
  const notSent = messages.length - queued.next;
  const accepted = group.accepted;
  const unknown = queued.next - accepted;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const what =
    unknown === 0 && accepted === 0
      ? `nothing was sent (${plural(notSent, 'message', 'messages')} dropped)`
      : `${plural(accepted, 'message was', 'messages were')} accepted, ${unknown} had been handed to the broker and may still be accepted and delivered, ${plural(notSent, 'was', 'were')} dropped unsent`;
  const message = `send to "${destination}" was aborted by its signal: ${what}`;
  group.abort(abortedError(signal, message, driver, { notSent, accepted, unknown }));
  return notSent;
}
