// The producer's queue of send() calls waiting for the driver, and how they are cut into driver
// batches: FIFO, up to a count and byte limit, one send() possibly spread over several batches.
// Kept apart from producer.ts, which decides when batches go and how they are retried.

import { abortedError, offAbort, onAbortOnce } from './aborted.js';
import { outgoingBytes } from './batch-limits.js';
import type { SendOptions } from './call-options.js';
import type { Deque } from './deque.js';
import { InvalidArgumentError } from './errors.js';
import type { Outgoing, Receipt } from './message-types.js';
import { OUTGOING_ANCHOR } from './outgoing.js';
import { anchorShape } from './shape-anchor.js';
import { checkKeys } from './strict-keys.js';
import type { SendObservation } from './telemetry/telemetry.js';

/**
 * One send() call, the one object a waiting send keeps: its messages, its place in the queue
 * (`next`: the first message not yet in a batch), its receipts and its promise's resolve. Its
 * messages settle together, without a promise per message. Taken whole into a batch it is its own
 * Segment (`group` is itself, `first` 0, `count` all its messages): no record per send there
 * either. A single send() (one message, not an array) keeps its message in place of the array and
 * its receipt in place of the receipts array, and resolves to the receipt alone: a waiting single
 * send holds no array (1,000 concurrent sends wait across a round trip; docs/bench-profiles.md
 * §26.3). Sizes for a byte limit are measured as batches are cut (takeBatch), not kept here.
 *
 * Seven fields: every waiting send keeps one, through the round trip and the scavenges in it. It
 * keeps only its promise's `resolve` (a rejection resolves the promise with a rejected one), and
 * the state folds into `#remaining`; a caller's signal or a telemetry observation, which most
 * sends have neither of, lives in one `#extras` record made only for the sends that do
 * (120 → 80 B a send, and one closure of 56 B less kept: bench/profile-send-layers.ts `held`).
 */
export class SendGroup implements Segment {
  /** A single send's message, or an array send's messages. */
  readonly content: Outgoing | readonly Outgoing[];
  next = 0;
  /** A single send's receipt, or an array send's receipts. */
  #receipts: Receipt | Array<Receipt | undefined> | undefined;
  /** Messages without their receipt while pending (≥ 0); SETTLED or ABORTED (< 0) once settled. */
  #remaining: number;
  /** The send's promise's resolve; it rejects by resolving with a rejected promise. */
  readonly #resolve: (result: Receipt | Receipt[] | Promise<never>) => void;
  /** The caller's signal and its listener, and the telemetry observation: undefined without them. */
  #extras: SendExtras | undefined;

  /** `content`: one Outgoing for a single send(), the array for an array send(). */
  constructor(
    content: Outgoing | readonly Outgoing[],
    resolve: (result: Receipt | Receipt[]) => void,
    observation: SendObservation | undefined,
  ) {
    this.content = content;
    if (isMany(content)) {
      this.#receipts = new Array<Receipt | undefined>(content.length);
      this.#remaining = content.length;
    } else {
      this.#receipts = undefined;
      this.#remaining = 1;
    }
    this.#resolve = resolve as (result: Receipt | Receipt[] | Promise<never>) => void;
    this.#extras = observation === undefined ? undefined : new SendExtras(observation);
  }

  /**
   * When send() took it: the retry deadline counts from here, queueing included. Its messages'
   * publishedAt, which send() stamps with the same clock read: not a field of its own, which
   * every waiting send kept (undefined for an array send of no messages).
   */
  get queuedAt(): number | undefined {
    const content = this.content;
    return isMany(content) ? content[0]?.publishedAt : content.publishedAt;
  }

  /** As a Segment: the whole send. */
  get group(): SendGroup {
    return this;
  }

  get first(): number {
    return 0;
  }

  /** Its messages: as a Segment, all of them. */
  get count(): number {
    const content = this.content;
    return isMany(content) ? content.length : 1;
  }

  /** Message `index` of the send. */
  message(index: number): Outgoing {
    const content = this.content;
    return isMany(content) ? content[index]! : content;
  }

  /** Its messages as an array (a single send's made now: the batch that is this send alone). */
  get messages(): readonly Outgoing[] {
    const content = this.content;
    return isMany(content) ? content : [content];
  }

  /** Listens to the caller's signal until the send settles. */
  listen(signal: AbortSignal, onAbort: () => void): void {
    let extras = this.#extras;
    if (extras === undefined) {
      extras = new SendExtras(undefined);
      this.#extras = extras;
    }
    extras.signal = signal;
    extras.onAbort = onAbort;
    // At aborted.ts's shared sites: each caller's signal has a map of its own (§18.1).
    onAbortOnce(signal, onAbort);
  }

  get settled(): boolean {
    return this.#remaining < 0;
  }

  /** Given up by its caller's signal: what of it is still queued is dropped, retries stop. */
  get aborted(): boolean {
    return this.#remaining === ABORTED;
  }

  /** Receipts in so far (while pending): messages the broker is known to have accepted. */
  get accepted(): number {
    return this.count - this.#remaining;
  }

  /** Message `index` has its receipt. */
  has(index: number): boolean {
    const receipts = this.#receipts;
    return Array.isArray(receipts) ? receipts[index] !== undefined : receipts !== undefined;
  }

  abort(error: Error): void {
    if (this.#remaining < 0) return;
    this.#fail(error, ABORTED);
  }

  /** Message `index` is confirmed; a second report of the same message is ignored. */
  resolve(index: number, receipt: Receipt): void {
    const receipts = this.#receipts;
    if (Array.isArray(receipts)) {
      if (receipts[index] !== undefined) return;
      receipts[index] = receipt;
    } else {
      if (receipts !== undefined) return;
      this.#receipts = receipt;
    }
    const extras = this.#extras;
    extras?.observation?.sent(index, receipt);
    // Settled already (rejected or aborted): the receipt is kept, the promise is not touched.
    if (this.#remaining > 0 && --this.#remaining === 0) {
      this.#remaining = SETTLED;
      if (extras !== undefined) extras.unlisten();
      this.#resolve(this.#receipts as Receipt | Receipt[]);
    }
  }

  reject(error: Error): void {
    if (this.#remaining < 0) return;
    this.#fail(error, SETTLED);
  }

  #fail(error: Error, state: number): void {
    this.#remaining = state;
    const extras = this.#extras;
    if (extras !== undefined) {
      extras.unlisten();
      extras.observation?.failed(error);
    }
    this.#resolve(Promise.reject(error));
  }
}

/** What few sends have: the caller's signal with its listener (removed at settling), a telemetry observation. */
class SendExtras {
  readonly observation: SendObservation | undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(observation: SendObservation | undefined) {
    this.observation = observation;
  }

  unlisten(): void {
    if (this.onAbort === undefined) return;
    offAbort(this.signal!, this.onAbort);
    this.onAbort = undefined;
    this.signal = undefined;
  }
}

/** An array send's messages, not a single send's message (an Outgoing is never an array). */
function isMany(content: Outgoing | readonly Outgoing[]): content is readonly Outgoing[] {
  return Array.isArray(content);
}

/** `#remaining` of a settled send, and of one settled by its caller's signal. */
const SETTLED = -1;
const ABORTED = -2;

// One send() kept for good, holding no user data: a producer between bursts holds none, and a
// mark-compact would collect SendGroup's map and throw away the send path's optimized code with it
// (shape-anchor.ts).
anchorShape(new SendGroup(OUTGOING_ANCHOR, ignore, undefined));
// And one send's extras, as a send with a signal makes them (their signal fields written).
anchorShape(new SendExtras(undefined)).unlisten();
function ignore(): void {}

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
 * bodies) once all of it is in batches. Aborted send()s still queued are dropped on the way. With
 * a byte limit, each message is measured (outgoingBytes) as it is considered.
 */
export function takeBatch(queue: Deque<SendGroup>, limits: BatchLimits): Batch {
  const segments: Segment[] = [];
  const messages: Outgoing[] = [];
  // The batch is one whole send(): its own array goes to the driver, not a copy.
  let whole: SendGroup | undefined;
  let queuedAt: number | undefined;
  let count = 0;
  let bytes = 0;
  const byteLimited = limits.maxBytes !== Number.POSITIVE_INFINITY;
  for (let queued = queue.peek(); queued !== undefined; queued = queue.peek()) {
    // Aborted by its signal while queued: the producer already stopped counting it as unsent.
    if (queued.aborted) {
      queue.shift();
      continue;
    }
    queuedAt ??= queued.queuedAt;
    const first = queued.next;
    const size = queued.count;
    let end = Math.min(size, first + limits.maxCount - count);
    if (byteLimited) {
      let fit = first;
      // The batch's first message goes however large it is: the broker's own check answers it.
      while (fit < end) {
        const b = outgoingBytes(queued.message(fit));
        if (count + fit - first !== 0 && bytes + b > limits.maxBytes) break;
        bytes += b;
        fit++;
      }
      end = fit;
    }
    if (end === first) break;
    const isWhole = first === 0 && end === size;
    // Taken whole, the send is its own segment; part of it gets a Segment record.
    segments.push(isWhole ? queued : { group: queued, first, count: end - first });
    if (count === 0 && isWhole) whole = queued;
    else {
      if (whole !== undefined) {
        pushAll(messages, whole);
        whole = undefined;
      }
      if (isWhole) pushAll(messages, queued);
      else for (let i = first; i < end; i++) messages.push(queued.message(i));
    }
    count += end - first;
    queued.next = end;
    if (end < size) break;
    queue.shift();
  }
  return { messages: whole?.messages ?? messages, segments, queuedAt: queuedAt ?? Date.now() };
}

/** Appends every message of `group` to `messages`. */
function pushAll(messages: Outgoing[], group: SendGroup): void {
  const content = group.content;
  if (!isMany(content)) messages.push(content);
  else for (let i = 0; i < content.length; i++) messages.push(content[i]!);
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
  group: SendGroup,
  signal: AbortSignal,
  destination: string,
  driver: string,
): number {
  if (group.settled) return 0;
  const notSent = group.count - group.next;
  const accepted = group.accepted;
  const unknown = group.next - accepted;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const what =
    unknown === 0 && accepted === 0
      ? `nothing was sent (${plural(notSent, 'message', 'messages')} dropped)`
      : `${plural(accepted, 'message was', 'messages were')} accepted, ${unknown} had been handed to the broker and may still be accepted and delivered, ${plural(notSent, 'was', 'were')} dropped unsent`;
  const message = `send to "${destination}" was aborted by its signal: ${what}`;
  group.abort(abortedError(signal, message, driver, { notSent, accepted, unknown }));
  return notSent;
}
