// One ReceiveMessage call and what it brings, as deliveries: batch or single, packs unpacked,
// retry-topic copies unwrapped with their count. A batch whose payloads cannot be split with
// certainty (a `###` inside one) hands out nothing and turns the reader to one message per call
// for a while, so no corrupted body ever reaches a handler.

import {
  type Delivery,
  isSwitchyardError,
  plainTextDelivery,
  UnavailableError,
} from '@switchyard/core/driver';
import type { Handle, Pack } from './acknowledge.js';
import { splitIds, splitPayloads } from './batch-split.js';
import { decodePayload } from './codec.js';
import type { ConsumerSettings } from './consumer.js';
import { DRIVER } from './errors.js';
import { unpack } from './pack.js';
import { fromRetryCopy } from './retry-topic.js';

interface ReceiveResponse {
  MessageID?: string | null;
  MessagePayload?: string | null;
  MessageIDList?: string | null;
  MessagesPayload?: string | null;
  AckTopic?: string | null;
  SubName?: string | null;
  ErrorMsg?: string | null;
}

/** How long a consumer reads one message per call after a `###` split was ambiguous. */
const SINGLE_MODE_AFTER_AMBIGUITY_MS = 10 * 60_000;

export class Reader {
  readonly #s: ConsumerSettings;
  /** Retry-topic mode: later attempts are copies carrying their count. */
  readonly #copies: boolean;
  #singleUntil = 0;
  /** The last main batch came back full: more may be waiting. */
  #backlog = false;

  constructor(settings: ConsumerSettings, copies: boolean) {
    this.#s = settings;
    this.#copies = copies;
  }

  /** The last main batch came back full: skip the single-message long poll. */
  get backlog(): boolean {
    return this.#backlog;
  }

  async read(
    path: string,
    max: number,
    waitMs: number,
    main: boolean,
    kind: 'single' | 'batch',
  ): Promise<Delivery[]> {
    const single = kind === 'single' || Date.now() < this.#singleUntil;
    const request: Record<string, unknown> = {
      Topic: path,
      SubscriptionName: this.#s.group,
      SubInitialPosition: this.#s.startFrom === 'latest' ? 'Latest' : 'Earliest',
      // No StringToken: ReceiveMessage has no such parameter (the API rejects it as unknown);
      // the signed caller's account authorises the receive.
    };
    let asked = 1;
    if (!single) {
      // A pack holds many messages: ask for fewer Pulsar messages so the surplus held here stays small.
      asked = request.MaxNumMessages =
        main && this.#s.pack > 1 ? Math.max(1, Math.ceil(max / this.#s.pack)) : max;
      request.ReceiverQueueSize = Math.max(max, 1);
      request.Timeout = waitMs;
    }
    let response: ReceiveResponse;
    try {
      // Long polls bypass the request limiter so they never starve acks and sends.
      response = await this.#s.api.direct<ReceiveResponse>('ReceiveMessage', request);
    } catch (error) {
      if (isSwitchyardError(error) && error.details.apiCode === 'FailedOperation.ReceiveTimeout') {
        if (main) this.#backlog = false;
        return [];
      }
      throw error;
    }
    if (response.ErrorMsg) {
      if (main) this.#backlog = false;
      throw new UnavailableError(`ReceiveMessage from ${path} failed: ${response.ErrorMsg}`, {
        driver: DRIVER,
        details: { action: 'ReceiveMessage', errorMsg: response.ErrorMsg },
      });
    }
    const ackTopic = response.AckTopic || path;
    const subName = response.SubName || this.#s.group;
    let ids: string[];
    let payloads: string[] | undefined;
    const batch = response.MessageIDList ? splitIds(response.MessageIDList) : undefined;
    // A full batch means more may be waiting: keep batching until a batch comes back short.
    if (main && !single) this.#backlog = (batch?.length ?? 0) >= asked;
    if (batch !== undefined) {
      ids = batch;
      payloads = splitPayloads(response.MessagesPayload ?? '', ids.length);
    } else if (response.MessageID) {
      ids = [response.MessageID];
      payloads = [response.MessagePayload ?? ''];
    } else {
      return [];
    }
    if (payloads === undefined) {
      // A payload contained `###`: which piece belongs to which id is not certain. Hand out
      // nothing from this batch (no corrupted body ever reaches a handler): its messages stay
      // un-acked and come back after the topic's ack timeout, when this consumer reads one
      // message per call.
      this.#singleUntil = Date.now() + SINGLE_MODE_AFTER_AMBIGUITY_MS;
      this.#s.logger.warn(
        { topic: path, count: ids.length },
        'pulsar-http: a batch payload contains the ### separator; reading one message per call for a while, the batch is redelivered after the ack timeout',
      );
      return [];
    }
    // A loop, not flatMap over an arrow made per read: V8 kept the arrow's optimized code only while
    // a read was under way, so a GC between bursts dropped it and the next burst compiled it again
    // (docs/bench-profiles.md §28.3), and each message made an array of one to be flattened.
    const out: Delivery[] = [];
    for (let i = 0; i < ids.length; i++)
      this.#toDeliveries(out, ids[i] as string, payloads[i] as string, ackTopic, subName, main, path);
    return out;
  }

  /** Appends the message's deliveries to `out`: itself, or each member of its pack. */
  #toDeliveries(
    out: Delivery[],
    messageId: string,
    payload: string,
    ackTopic: string,
    subName: string,
    main: boolean,
    path: string,
  ): void {
    const members = main && this.#s.mode === 'envelope' ? unpack(payload, messageId) : undefined;
    if (members === undefined) {
      out.push(this.#toDelivery(messageId, payload, ackTopic, subName, main, path));
      return;
    }
    const pack: Pack = { remaining: members.length, acked: false };
    // Assigned onto each member's own fresh fields, not spread into a new literal: properties added
    // after a spread take V8's slow path (≈ 4 µs per delivery on Node 20; docs/bench-profiles.md §17).
    for (let index = 0; index < members.length; index++)
      out.push(
        Object.assign(members[index] as (typeof members)[number], {
          // One Pulsar message carries the pack: its id plus the member's place is unique and stable.
          deliveryAttempt: this.#mainAttempt,
          attemptKey: `${path}|${messageId}/${index}`,
          native: { messageId, payload, ackTopic, subName },
          handle: { messageId, ackTopic, subName, acked: false, pack, lease: undefined } satisfies Handle,
        }),
      );
  }

  #toDelivery(
    messageId: string,
    payload: string,
    ackTopic: string,
    subName: string,
    main: boolean,
    path: string,
  ): Delivery {
    const raw = this.#s.mode === 'raw';
    const native = { messageId, payload, ackTopic, subName };
    const handle: Handle = { messageId, ackTopic, subName, acked: false, lease: undefined };
    if (!main) {
      // Retry-topic copies are always envelopes, carrying the original id and the count.
      const copy = fromRetryCopy(decodePayload(payload, messageId, 'envelope'));
      return Object.assign(copy.fields, raw ? { contentType: undefined, publishedAt: undefined } : {}, {
        deliveryAttempt: copy.deliveryAttempt,
        // The copy's own place on the retry topic: an attempt store counts its handouts (a crash
        // while handling it), which add to the count it carries.
        attemptKey: `${path}|${messageId}`,
        native,
        handle,
      });
    }
    const attemptKey = `${path}|${messageId}`;
    const deliveryAttempt = this.#mainAttempt;
    // Raw mode: core's one object literal (no copy, the body of a long text left to its first
    // reader). Raw mode carries no content type and no publish time.
    if (raw)
      return plainTextDelivery(messageId, payload, undefined, deliveryAttempt, attemptKey, native, handle);
    // Assigned, not spread: a spread reads core's lazy body of a long text (a body that is not an
    // envelope), encoding it (≈ 1.3–4 ms per MiB) for a handler that may only read message.text().
    return Object.assign(decodePayload(payload, messageId, this.#s.mode), {
      deliveryAttempt,
      attemptKey,
      native,
      handle,
    });
  }

  /**
   * A main-topic message's count. The HTTP API reports no redelivery count; its attemptKey (topic
   * and MessageID, stable across the ack timeout's redeliveries) lets the portable layer count: in
   * this process, which a crash resets, or in the consumer's attemptStore, shared and durable.
   * Ack-timeout mode: every attempt is a handout of this key. Retry-topic mode: later attempts are
   * copies carrying their count, so the main-topic message carries 1, and only a store counts its
   * handouts after a crash (the ack timeout returning it).
   */
  get #mainAttempt(): number | undefined {
    return this.#copies ? 1 : undefined;
  }
}
