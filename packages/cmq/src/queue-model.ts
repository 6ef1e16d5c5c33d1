// Queue model: a destination is a CMQ queue. Sends go out as SendMessage / BatchSendMessage (≤16
// bodies, ≤1 MiB, one delaySeconds per request); consumers long-poll with BatchReceiveMessage and
// ack with DeleteMessage / BatchDeleteMessage. The same consumer reads the per-group queue of a
// topic subscription in the topic model.

import {
  ClosedError,
  type Delivery,
  type DriverConsumer,
  type DriverProducer,
  isAborted,
  type Outgoing,
  type Receipt,
  ReceivesAhead,
  type RequeueCopy,
  splitBatches,
  UnavailableError,
  UnsupportedError,
} from '@switchyard/core/driver';
import { REQUEST_LIMITS } from './capabilities.js';
import {
  type BodyMode,
  type CmqMessage,
  cameInEnvelope,
  encodeText,
  requeueText,
  toDelivery,
} from './codec.js';
import {
  CMQ_NO_MESSAGE,
  CMQ_PARTIAL_DELETE,
  CMQ_STALE_HANDLE,
  cmqError,
  DRIVER,
  tooLarge,
} from './errors.js';
import type { CmqHttpClient } from './http-client.js';

/** Portable ms → CMQ whole seconds, rounded up so a message is never visible early. */
export function delaySeconds(delayMs: number | undefined): number {
  return delayMs === undefined || delayMs <= 0 ? 0 : Math.ceil(delayMs / 1000);
}

export interface SendSettings {
  readonly bodyMode: BodyMode;
  readonly maxMessageBytes: number;
}

/** `key`: the request-wide parameters (delaySeconds; tags and routing key), one value per request. */
type Sized = { readonly bytes: number; readonly key: string };

export interface Prepared extends Sized {
  readonly index: number; // in the driver batch
  readonly text: string;
  readonly message: Outgoing;
}
const bytesOf = (item: Sized) => item.bytes;
const keyOf = (item: Sized) => item.key;

/** Encoded messages are larger than the portable measure: cut again, by the same limits and by key. */
export function requests<T extends Sized>(items: readonly T[]): T[][] {
  return splitBatches(items, REQUEST_LIMITS, bytesOf, keyOf);
}

/**
 * Encodes each message; a message that cannot go (too large after encoding, raw-mode limits)
 * gets its error in `results` and is left out of `ready`, so it never costs a request.
 */
export function prepare(
  messages: readonly Outgoing[],
  settings: SendSettings,
  keyOf: (m: Outgoing) => string,
  check?: (m: Outgoing) => void,
): { ready: Prepared[]; results: Array<Receipt | Error> } {
  const results = new Array<Receipt | Error>(messages.length);
  const ready: Prepared[] = [];
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!;
    try {
      check?.(message);
      const text = encodeText(message, settings.bodyMode, settings.maxMessageBytes);
      // The caller's own text was measured when the message was prepared.
      const bytes =
        text === message.text && message.bodyBytes !== undefined
          ? message.bodyBytes
          : Buffer.byteLength(text, 'utf8');
      if (bytes > settings.maxMessageBytes)
        throw tooLarge(bytes, settings.maxMessageBytes, `message[${index}]`);
      ready.push({ index, text, bytes, key: keyOf(message), message });
    } catch (error) {
      results[index] = error as Error;
    }
  }
  return { ready, results };
}

/**
 * The texts of `messages` when they go as one request as they are: at most 16, one delay, each
 * encodable within the limit and all within the request's bytes. Otherwise undefined, and the
 * general path (prepare, requests, sendChunks) encodes them again, cuts and reports per message.
 */
export function oneRequest(messages: readonly Outgoing[], settings: SendSettings): string[] | undefined {
  const n = messages.length;
  if (n === 0 || n > REQUEST_LIMITS.maxCount) return undefined;
  const delay = delaySeconds(messages[0]!.delayMs);
  const texts = new Array<string>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const message = messages[i]!;
    if (i > 0 && delaySeconds(message.delayMs) !== delay) return undefined;
    let text: string;
    try {
      text = encodeText(message, settings.bodyMode, settings.maxMessageBytes);
    } catch {
      return undefined;
    }
    const bytes =
      text === message.text && message.bodyBytes !== undefined
        ? message.bodyBytes
        : Buffer.byteLength(text, 'utf8');
    total += bytes;
    if (bytes > settings.maxMessageBytes || total > REQUEST_LIMITS.maxBytes) return undefined;
    texts[i] = text;
  }
  return texts;
}

/** Runs one request per chunk, in parallel; a failed chunk fails exactly its own messages. */
export async function sendChunks(
  chunks: Prepared[][],
  results: Array<Receipt | Error>,
  send: (chunk: Prepared[]) => Promise<Receipt[]>,
): Promise<Array<Receipt | Error>> {
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const receipts = await send(chunk);
        for (let i = 0; i < chunk.length; i++) {
          const item = chunk[i]!;
          results[item.index] = receipts[i] ?? { messageId: item.message.id };
        }
      } catch (error) {
        for (const item of chunk) results[item.index] = error as Error;
      }
    }),
  );
  return results;
}

/** One SendMessage (one text) or BatchSendMessage request; resolves to CMQ's msgIds. */
async function sendTexts(
  client: CmqHttpClient,
  queue: string,
  texts: readonly string[],
  delay: number,
): Promise<Array<string | undefined>> {
  if (texts.length === 1) {
    const reply = await client.call(
      'SendMessage',
      { queueName: queue, msgBody: texts[0]!, delaySeconds: delay },
      { subject: queue },
    );
    return [String(reply.msgId)];
  }
  const reply = await client.call(
    'BatchSendMessage',
    { queueName: queue, msgBody: texts, delaySeconds: delay },
    { subject: queue },
  );
  const list = (reply.msgList as Array<{ msgId: string }> | undefined) ?? [];
  return texts.map((_, i) => list[i]?.msgId);
}

export class QueueProducer implements DriverProducer {
  readonly #client: CmqHttpClient;
  readonly #queue: string;
  readonly #settings: SendSettings;
  #closed = false;

  constructor(client: CmqHttpClient, queue: string, settings: SendSettings) {
    this.#client = client;
    this.#queue = queue;
    this.#settings = settings;
  }

  get native(): CmqHttpClient {
    return this.#client;
  }

  async sendBatch(messages: readonly Outgoing[]): Promise<Array<Receipt | Error>> {
    if (this.#closed)
      throw new ClosedError(`CMQ producer for "${this.#queue}" is closed`, { driver: DRIVER });
    const texts = oneRequest(messages, this.#settings);
    if (texts !== undefined) return this.#sendOne(messages, texts);
    const { ready, results } = prepare(messages, this.#settings, (m) => String(delaySeconds(m.delayMs)));
    return sendChunks(requests(ready), results, (chunk) => this.#send(chunk));
  }

  /**
   * The common batch (core hands at most 16, one delay, well under 1 MiB) as one request, with no
   * per-message record, grouping or chunk arrays: what it keeps while the request is on the wire
   * is one array of texts. Same outcome as the general path: a failed request fails each message.
   */
  async #sendOne(messages: readonly Outgoing[], texts: string[]): Promise<Array<Receipt | Error>> {
    const results = new Array<Receipt | Error>(messages.length);
    try {
      const ids = await sendTexts(this.#client, this.#queue, texts, delaySeconds(messages[0]!.delayMs));
      for (let i = 0; i < messages.length; i++) results[i] = { messageId: ids[i] ?? messages[i]!.id };
    } catch (error) {
      results.fill(error as Error);
    }
    return results;
  }

  async #send(chunk: Prepared[]): Promise<Receipt[]> {
    const ids = await sendTexts(
      this.#client,
      this.#queue,
      chunk.map((c) => c.text),
      delaySeconds(chunk[0]!.message.delayMs),
    );
    return chunk.map((item, i) => ({ messageId: ids[i] ?? item.message.id }));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

export interface QueueConsumerSettings {
  readonly bodyMode: BodyMode;
  readonly nackMode: 'visibility' | 'requeue';
  /** The queue's limit, which a requeued copy must fit. */
  readonly maxMessageBytes: number;
}

export class QueueConsumer implements DriverConsumer {
  readonly #client: CmqHttpClient;
  readonly #queue: string;
  readonly #settings: QueueConsumerSettings;
  #closed = false;
  /**
   * On a backlog (the last receive came back full), receives of up to 16 that do not wait (a long
   * poll would hold the others' messages until it ends), at most 4 on the wire, each sent in the
   * place of one that came back. `room` is what the caller may still take: the messages on the
   * wire and waiting here stay within it, so the portable layer's prefetch bounds them (what it
   * holds plus what the driver asked for never passes prefetch).
   */
  readonly #ahead: ReceivesAhead<Delivery>;

  constructor(client: CmqHttpClient, queue: string, settings: QueueConsumerSettings) {
    this.#client = client;
    this.#queue = queue;
    this.#settings = settings;
    this.#ahead = new ReceivesAhead<Delivery>({
      maxReceives: 4,
      perRefill: 4,
      perReceive: 16,
      receive: (count, signal) => this.#receive(count, 0, signal),
      // A short batch: the backlog is drained, so no receive takes this one's place.
      backlog: (was, got, count) => was && got >= count,
    });
  }

  /** Messages waiting in the queue (CMQ's activeMsgNum), for the consumer-lag gauge. */
  async backlog(): Promise<number | undefined> {
    if (this.#closed) return undefined;
    const reply = await this.#client.call(
      'GetQueueAttributes',
      { queueName: this.#queue },
      { idempotent: true, subject: this.#queue },
    );
    const active = (reply as { activeMsgNum?: unknown }).activeMsgNum;
    return typeof active === 'number' ? active : undefined;
  }

  get native(): { client: CmqHttpClient; queueName: string } {
    return { client: this.#client, queueName: this.#queue };
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw new ClosedError(`CMQ consumer of "${this.#queue}" is closed`, { driver: DRIVER });
    if (isAborted(signal)) return [];
    const ahead = this.#ahead;
    // On a backlog, receives are on the wire: wait for the first to come back, hand on every batch
    // that came back, and send new ones in their place before the handlers run, as an expert's 4
    // receive loops each send their next receive as soon as a reply is in. A round that waited for
    // all 4 held the first batches (their bodies through scavenges) until the slowest came back,
    // and left the broker idle meanwhile (docs/bench-profiles.md 20.4).
    while (ahead.buffered === 0 && ahead.requested > 0)
      if (!(await ahead.arrival(Number.POSITIVE_INFINITY, signal))) return [];
    const ready = ahead.take(max);
    if (ready !== undefined) {
      ahead.refill(max - ready.length, signal);
      return ready;
    }
    // Every receive on the wire failed: the first failure is this round's.
    const failure = ahead.takeFailure();
    if (failure !== undefined) throw failure;
    // Nothing on the wire: one request, long-polling, awaited here. CMQ waits whole seconds (0-30);
    // rounding up keeps a short wait from becoming a busy loop.
    const pollingWaitSeconds = Math.min(30, Math.ceil(Math.max(0, waitMs) / 1000));
    const count = Math.min(16, max);
    const got = await this.#receive(count, pollingWaitSeconds, signal);
    // A full batch means a backlog: receives that do not wait go out now and stay on the wire
    // while these are handled.
    ahead.backlog = got.length === 16;
    ahead.refill(max - got.length, signal);
    return got;
  }

  async #receive(
    count: number,
    pollingWaitSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<Delivery[]> {
    let reply: Awaited<ReturnType<CmqHttpClient['call']>>;
    try {
      reply = await this.#client.call(
        'BatchReceiveMessage',
        { queueName: this.#queue, numOfMsg: Math.max(1, count), pollingWaitSeconds },
        {
          signal,
          holdMs: pollingWaitSeconds * 1000,
          idempotent: true,
          accept: [CMQ_NO_MESSAGE],
          subject: this.#queue,
        },
      );
    } catch (error) {
      // Aborted (consumer closing): whatever the server dequeued comes back after its visibility timeout.
      if (isAborted(signal)) return [];
      throw error;
    }
    if (reply.code === CMQ_NO_MESSAGE) return [];
    const list =
      (reply.msgInfoList as Array<{ queueName: string } & Omit<CmqMessage, 'queueName'>> | undefined) ?? [];
    // The parsed reply is this call's own: each message gets its queue name in place (a copy per
    // message cost ≈ 0.7 µs at 256 B).
    const out = new Array<Delivery>(list.length);
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      m.queueName = this.#queue;
      out[i] = toDelivery(m, this.#settings.bodyMode);
    }
    return out;
  }

  /**
   * One BatchDeleteMessage per 16, all in flight at once (an ack batch from core can hold many
   * more than 16). Each is settled before a failure is reported: deleting again is harmless, but
   * a retry should not race the deletes still on the wire.
   */
  async ack(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length <= 16) return this.#delete(deliveries);
    const deletes: Array<Promise<void>> = [];
    for (let i = 0; i < deliveries.length; i += 16) deletes.push(this.#delete(deliveries.slice(i, i + 16)));
    for (const result of await Promise.allSettled(deletes))
      if (result.status === 'rejected') throw result.reason;
  }

  async #delete(deliveries: readonly Delivery[]): Promise<void> {
    const handles = deliveries.map((d) => d.handle as string);
    const subject = this.#queue;
    if (handles.length === 1) {
      // A stale handle (already deleted, or its lease ran out) is not an error for ack.
      await this.#client.call(
        'DeleteMessage',
        { queueName: this.#queue, receiptHandle: handles[0]! },
        { idempotent: true, accept: [CMQ_STALE_HANDLE], subject },
      );
      return;
    }
    const reply = await this.#client.call(
      'BatchDeleteMessage',
      { queueName: this.#queue, receiptHandle: handles },
      { idempotent: true, accept: [CMQ_PARTIAL_DELETE], subject },
    );
    if (reply.code !== CMQ_PARTIAL_DELETE) return;
    const failed = ((reply.errorList as Array<{ code: number; message: string }> | undefined) ?? []).filter(
      (e) => e.code !== CMQ_STALE_HANDLE,
    );
    if (failed.length === 0) return;
    const first = cmqError(
      'BatchDeleteMessage',
      { code: failed[0]!.code, message: failed[0]!.message },
      subject,
    );
    // Deleting again is harmless (deleted ones answer "stale"), so let the portable layer retry
    // when the failure can pass.
    if (first.retryable) {
      throw new UnavailableError(
        `CMQ BatchDeleteMessage for "${subject}": ${failed.length} of ${handles.length} deletes failed (${first.message})`,
        { driver: DRIVER, cause: first },
      );
    }
    throw first;
  }

  /**
   * CMQ has no nack and cannot make a message visible early (no ChangeMessageVisibility): nothing
   * to send. The portable layer never calls this (capabilities.nack is false, or 'emulated' through
   * requeueCopy in 'requeue' mode); a direct call leaves the message to the visibility timeout.
   */
  async nack(): Promise<void> {}

  /**
   * nackMode 'requeue': copies go back into this queue, after the delay, as envelopes carrying the
   * count (REQUEUED_ATTEMPTS); the portable layer deletes the original once they are sent. A
   * message another producer sent as a plain body is not copied (the copy would be an envelope
   * that plain consumers of the queue cannot read, and its new msgId would restart CMQ's count):
   * it gets UNSUPPORTED and returns unchanged after the visibility timeout.
   */
  async requeueCopy(copies: readonly RequeueCopy[], delayMs?: number): Promise<Array<true | Error>> {
    const results = new Array<true | Error>(copies.length);
    const items: Array<Sized & { index: number; text: string }> = [];
    for (const [index, { delivery, attempts }] of copies.entries()) {
      if (this.#settings.nackMode !== 'requeue' || !cameInEnvelope(delivery)) {
        const why = this.#settings.nackMode === 'requeue' ? 'it is a plain body' : "nackMode is 'visibility'";
        results[index] = new UnsupportedError(`CMQ message ${delivery.id} is not copied (${why})`, {
          driver: DRIVER,
        });
        continue;
      }
      try {
        const text = requeueText(delivery, attempts, this.#settings.maxMessageBytes);
        items.push({ index, text, bytes: Buffer.byteLength(text), key: '' });
      } catch (error) {
        results[index] = error as Error;
      }
    }
    const delay = delaySeconds(delayMs);
    await Promise.all(
      requests(items).map(async (chunk) => {
        try {
          await sendTexts(
            this.#client,
            this.#queue,
            chunk.map((c) => c.text),
            delay,
          );
          for (const c of chunk) results[c.index] = true;
        } catch (error) {
          for (const c of chunk) results[c.index] = error as Error;
        }
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#ahead.close();
  }
}
