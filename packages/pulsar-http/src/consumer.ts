import {
  ClosedError,
  CopyNacks,
  type Delivery,
  type DriverConsumer,
  isSwitchyardError,
  Leases,
  type Logger,
  type RequeueCopy,
  type Secret,
  type SwitchyardError,
  UnavailableError,
  UnsupportedError,
} from '@switchyard/core/driver';
import { splitIds, splitPayloads } from './batch-split.js';
import type { NackMode } from './capabilities.js';
import type { Api } from './client.js';
import { type BodyMode, decodePayload } from './codec.js';
import { DRIVER } from './errors.js';
import type { TopicName } from './naming.js';
import { unpack } from './pack.js';
import { fromRetryCopy, RetryTopic, retryCopyPayload } from './retry-topic.js';
import type { StartFrom, Topology } from './topology.js';

/** How a delivery is settled: AcknowledgeMessage wants the id, the AckTopic and the SubName. */
interface Handle {
  readonly messageId: string;
  readonly ackTopic: string;
  readonly subName: string;
  /** This delivery is settled (for a pack member: its share of the pack). */
  acked: boolean;
  /** Set for a member of a pack: the Pulsar message is acked when every member is settled. */
  readonly pack?: Pack;
}

interface Pack {
  remaining: number;
  acked: boolean;
}

interface ReceiveResponse {
  MessageID?: string | null;
  MessagePayload?: string | null;
  MessageIDList?: string | null;
  MessagesPayload?: string | null;
  AckTopic?: string | null;
  SubName?: string | null;
  ErrorMsg?: string | null;
}

export interface ConsumerSettings {
  readonly api: Api;
  readonly topology: Topology | undefined;
  readonly topic: TopicName;
  readonly group: string;
  readonly mode: BodyMode;
  readonly token: Secret | undefined;
  readonly startFrom: StartFrom;
  readonly receiveWaitMs: number;
  readonly receiveMode: 'auto' | 'batch' | 'single';
  /** Messages per pack the producers may use (1 = no packing). */
  readonly pack: number;
  readonly nackMode: NackMode;
  /** Per-consumer visibility timeout, ms (retry-topic mode); undefined leaves only the topic's ack timeout. */
  readonly visibilityTimeoutMs: number | undefined;
  /** Where an expired visibility lease goes: the portable layer copies the message back (nack by copy). */
  readonly leaseExpired: ((delivery: Delivery) => void) | undefined;
  readonly logger: Logger;
  /** Names a dead-letter destination the way producers do. */
  readonly qualify: (name: string) => TopicName;
}

/** How long a consumer reads one message per call after a `###` split was ambiguous. */
const SINGLE_MODE_AFTER_AMBIGUITY_MS = 10 * 60_000;
/**
 * A single-message ReceiveMessage waits server-side for as long as the service decides (1 s on the
 * emulator; undocumented for TDMQ): use it only when the caller can wait at least that long.
 */
const LONG_POLL_MIN_MS = 1_000;
/** Longest wait in close() for polls still in flight (retry-topic mode returns what they bring). */
const CLOSE_WAIT_MS = 2_000;

/**
 * Pulls with ReceiveMessage (batch mode: MaxNumMessages + Timeout), acks with AcknowledgeMessage.
 * The API has no negative ack. In nackMode 'ack-timeout' (default) nack sends nothing: the message
 * stays un-acked on its subscription, where the topic's AckTimeOut returns it to any consumer. In
 * nackMode 'retry-topic' the portable layer nacks by copy: requeueCopy publishes a copy (an
 * envelope carrying the delivery count) to a retry topic of this group, then the portable layer
 * acks the original; the consumer reads that retry topic before the main one.
 */
export class PulsarHttpConsumer implements DriverConsumer {
  readonly #s: ConsumerSettings;
  /** Set in nackMode 'retry-topic' only. */
  readonly #retry: RetryTopic | undefined;
  #singleUntil = 0;
  /** The last main batch came back full: skip the single-message long poll. */
  #backlog = false;
  /** Long polls in progress that a nack may cut short. */
  readonly #wakers = new Set<() => void>();
  /** Requests whose caller gave up (abort): their messages are handed out next time (retry-topic mode: nacked at close). */
  readonly #late = new Set<Promise<Delivery[]>>();
  #leftover: Delivery[] = [];
  #closed = false;

  constructor(settings: ConsumerSettings) {
    this.#s = settings;
    this.#retry =
      settings.nackMode === 'retry-topic'
        ? new RetryTopic(settings.topology, settings.topic, settings.group)
        : undefined;
  }

  /**
   * The subscription's backlog (DescribeSubscriptions' MsgBacklog, a string on the wire), for the
   * consumer-lag gauge. In retry-topic mode, copies waiting in the retry topic are not included.
   */
  async backlog(): Promise<number | undefined> {
    if (this.#closed) return undefined;
    const { clusterId, environmentId, topicName } = this.#s.topic;
    const response = await this.#s.api.call<{
      SubscriptionSets?: Array<{ SubscriptionName?: string; MsgBacklog?: string | number }>;
    }>('DescribeSubscriptions', {
      ClusterId: clusterId,
      EnvironmentId: environmentId,
      TopicName: topicName,
      Filters: [{ SubscriptionNames: [this.#s.group] }],
    });
    const set = response.SubscriptionSets?.find((s) => s.SubscriptionName === this.#s.group);
    const value = Number(set?.MsgBacklog);
    return set === undefined || !Number.isFinite(value) ? undefined : value;
  }

  get native(): unknown {
    return this.#s.api.sdk;
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw new ClosedError('pulsar-http consumer is closed', { driver: DRIVER });
    if (this.#leftover.length > 0) return this.#leftover.splice(0, max);
    const deadline = Date.now() + waitMs;
    const out: Delivery[] = [];
    if (this.#retry?.due()) out.push(...(await this.#guard(this.#pollRetry(max), signal)));
    const path = this.#s.topic.path;
    while (out.length === 0 && !signal?.aborted) {
      const remaining = deadline - Date.now();
      if (this.#s.receiveMode === 'auto' && !this.#backlog && remaining >= LONG_POLL_MIN_MS) {
        // Idle topic: a single-message ReceiveMessage returns as soon as one message arrives (a
        // batch one would wait out its Timeout); then whatever else is there comes in one batch.
        out.push(...(await this.#guard(this.#receive(path, 1, 0, true, 'single'), signal, true)));
        if (out.length > 0 && out.length < max && !signal?.aborted) {
          // A failure here must not lose the message already taken: hand it out, try again later.
          const more = await this.#guard(
            this.#receive(path, max - out.length, 1, true, 'batch'),
            signal,
          ).catch(() => [] as Delivery[]);
          out.push(...more);
        }
      } else {
        const wait = Math.max(1, Math.min(remaining, this.#s.receiveWaitMs));
        const kind = this.#s.receiveMode === 'single' ? 'single' : 'batch';
        out.push(...(await this.#guard(this.#receive(path, max, wait, true, kind), signal)));
      }
      if (out.length === 0 && this.#retry?.due())
        out.push(...(await this.#guard(this.#pollRetry(max), signal)));
      if (Date.now() >= deadline) break;
    }
    // Only a pack gives more than asked for; its other members wait here for the next call
    // (at most pack - 1 beyond prefetch, the price of packing).
    if (out.length > max) this.#leftover.push(...out.splice(max));
    const vis = this.#s.visibilityTimeoutMs;
    if (vis !== undefined && this.#retry !== undefined) for (const d of out) this.#leases.lease(d, vis);
    return out;
  }

  /**
   * Retry-topic mode: the API's ack timeout is per topic and at least 60 s, so a consumer's shorter
   * visibility timeout is kept here: an un-acked delivery goes back through the retry topic when it
   * expires (the portable layer copies it, as for a nack). If this process dies first, the topic's
   * ack timeout still brings the message back.
   */
  readonly #leases = new Leases<Delivery>((d) => {
    if ((d.handle as Handle).acked || this.#closed) return;
    this.#s.leaseExpired?.(d);
  });

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    await settleAll(
      deliveries.map(async (d) => {
        this.#leases.end(d);
        await this.#acknowledge(d.handle as Handle);
      }),
    );
  }

  /**
   * Nothing to send: the API has no negative ack. The message stays un-acked on its subscription
   * and the topic's AckTimeOut returns it. The portable layer does not call this (capability "nack"
   * is false in ack-timeout mode, 'emulated' through requeueCopy in retry-topic mode).
   */
  async nack(deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) this.#leases.end(d);
  }

  /**
   * Retry-topic mode: each copy goes, in an envelope carrying `attempts`, to the group's retry topic
   * (created on first use); the portable layer acks the original once it is sent.
   */
  async requeueCopy(copies: readonly RequeueCopy[]): Promise<Array<true | Error>> {
    const retry = this.#retry;
    if (retry === undefined)
      throw new UnsupportedError("pulsar-http makes no copies in nackMode 'ack-timeout'", { driver: DRIVER });
    try {
      await retry.ensure();
      return await Promise.all(
        copies.map(async ({ delivery, attempts }): Promise<true | Error> => {
          this.#leases.end(delivery);
          try {
            await this.#send(retry.name.path, retryCopyPayload(delivery, attempts));
            return true;
          } catch (error) {
            return error as Error;
          }
        }),
      );
    } catch (error) {
      return copies.map(() => error as Error);
    } finally {
      // Read the copies soon, even from inside a long poll of the main topic.
      retry.nacked();
      for (const wake of [...this.#wakers]) wake();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#leases.clear();
    const held = this.#leftover;
    this.#leftover = [];
    // Ack-timeout mode copies nothing: what was fetched and not handed out stays un-acked on the
    // subscription and returns after the topic's ack timeout, to any consumer.
    if (this.#retry === undefined) return;
    // Retry-topic mode gives back at once what the portable layer never saw (held pack members,
    // and what polls nobody waited for bring within CLOSE_WAIT_MS), uncounted, by core's nack by
    // copy. What comes later returns after the ack timeout.
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      Promise.all([...this.#late].map((p) => p.catch(() => [] as Delivery[]))),
      new Promise<Delivery[][]>((resolve) => {
        timer = setTimeout(() => resolve([]), CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    const copies = new CopyNacks(this, {
      transport: (operation) => operation(),
      ack: (d) => this.#acknowledge(d.handle as Handle),
      fellBack() {},
    });
    const results = await Promise.allSettled(
      [...late.flat(), ...held].map((d) => copies.give(d, (d.deliveryAttempt ?? 1) - 1)),
    );
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failed.length > 0)
      this.#s.logger.warn(
        { count: failed.length, error: failed[0]?.message },
        'pulsar-http: prefetched messages not given back return after the ack timeout',
      );
  }

  // ---- receiving ----

  /**
   * Waits for a request, but returns [] at once when the caller aborts or (for a long poll, in
   * retry-topic mode) when this consumer just nacked, so the retry topic is read without waiting
   * out the poll. The
   * abandoned request's messages are kept for the next call.
   */
  async #guard(
    request: Promise<Delivery[]>,
    signal: AbortSignal | undefined,
    wakeable = false,
  ): Promise<Delivery[]> {
    if (signal?.aborted) return this.#keepLate(request);
    let stop: (() => void) | undefined;
    const stopped = new Promise<'stopped'>((resolve) => {
      stop = () => resolve('stopped');
    });
    const onStop = stop as () => void;
    signal?.addEventListener('abort', onStop, { once: true });
    if (wakeable) this.#wakers.add(onStop);
    try {
      const winner = await Promise.race([request, stopped]);
      return winner === 'stopped' ? this.#keepLate(request) : winner;
    } finally {
      signal?.removeEventListener('abort', onStop);
      this.#wakers.delete(onStop);
    }
  }

  #keepLate(request: Promise<Delivery[]>): Delivery[] {
    const kept = request.then((got) => {
      this.#late.delete(kept);
      if (!this.#closed) this.#leftover.push(...got);
      return this.#closed ? got : [];
    });
    this.#late.add(kept);
    kept.catch(() => this.#late.delete(kept));
    return [];
  }

  async #receive(
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
    // A full batch means more may be waiting: keep batching until a batch comes back short.
    if (main && !single) this.#backlog = splitIds(response.MessageIDList ?? '').length >= asked;
    if (response.MessageIDList) {
      ids = splitIds(response.MessageIDList);
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
    return ids.flatMap((id, i) => this.#toDeliveries(id, payloads[i] as string, ackTopic, subName, main));
  }

  #toDeliveries(
    messageId: string,
    payload: string,
    ackTopic: string,
    subName: string,
    main: boolean,
  ): Delivery[] {
    const members = main && this.#s.mode === 'envelope' ? unpack(payload, messageId) : undefined;
    if (members === undefined) return [this.#toDelivery(messageId, payload, ackTopic, subName, main)];
    const pack: Pack = { remaining: members.length, acked: false };
    return members.map((fields, index) => ({
      ...fields,
      // One Pulsar message carries the pack: its id plus the member's place is unique and stable.
      ...this.#mainAttempt(`${messageId}/${index}`),
      native: { messageId, payload, ackTopic, subName },
      handle: { messageId, ackTopic, subName, acked: false, pack } satisfies Handle,
    }));
  }

  #toDelivery(
    messageId: string,
    payload: string,
    ackTopic: string,
    subName: string,
    main: boolean,
  ): Delivery {
    const raw = this.#s.mode === 'raw';
    const native = { messageId, payload, ackTopic, subName };
    const handle: Handle = { messageId, ackTopic, subName, acked: false };
    if (!main) {
      // Retry-topic copies are always envelopes, carrying the original id and the count.
      const copy = fromRetryCopy(decodePayload(payload, messageId, 'envelope'));
      return {
        ...copy.fields,
        ...(raw ? { contentType: undefined, publishedAt: undefined } : {}),
        deliveryAttempt: copy.deliveryAttempt,
        native,
        handle,
      };
    }
    return {
      ...decodePayload(payload, messageId, this.#s.mode),
      ...(raw ? { contentType: undefined, publishedAt: undefined } : {}),
      ...this.#mainAttempt(messageId),
      native,
      handle,
    };
  }

  /**
   * A main-topic message's count. Ack-timeout mode: the HTTP API reports no redelivery count, so
   * the portable layer counts per broker identity (the MessageID, stable across the ack timeout's
   * redeliveries) in this process. Retry-topic mode: every later attempt is a copy carrying its
   * count, so a main-topic delivery is the first (also when the ack timeout returns it after a
   * crash: a restart resets any count this API allows).
   */
  #mainAttempt(key: string): Pick<Delivery, 'deliveryAttempt' | 'attemptKey'> {
    return this.#retry === undefined
      ? { deliveryAttempt: undefined, attemptKey: key }
      : { deliveryAttempt: 1, attemptKey: undefined };
  }

  // ---- the group's retry topic (retry-topic mode) ----

  async #pollRetry(max: number): Promise<Delivery[]> {
    const retry = this.#retry;
    if (retry === undefined) return [];
    retry.polling();
    try {
      return await this.#receive(retry.name.path, max, 1, false, 'batch');
    } catch (error) {
      if (isSwitchyardError(error) && error.code === 'NOT_FOUND') {
        retry.absent();
        return [];
      }
      throw error;
    }
  }

  // ---- settling ----

  /** Idempotent: a retried call sends only what has not succeeded yet. */
  async #acknowledge(h: Handle): Promise<void> {
    if (h.pack !== undefined) {
      if (!h.acked) {
        h.acked = true;
        h.pack.remaining--;
      }
      if (h.pack.remaining > 0 || h.pack.acked) return;
      await this.#acknowledgeMessage(h);
      h.pack.acked = true;
      return;
    }
    if (h.acked) return;
    await this.#acknowledgeMessage(h);
    h.acked = true;
  }

  async #acknowledgeMessage(h: Handle): Promise<void> {
    const response = await this.#s.api.call<{ ErrorMsg?: string | null }>('AcknowledgeMessage', {
      MessageId: h.messageId,
      AckTopic: h.ackTopic,
      SubName: h.subName,
    });
    if (response.ErrorMsg) {
      throw new UnavailableError(`AcknowledgeMessage failed: ${response.ErrorMsg}`, {
        driver: DRIVER,
        details: { action: 'AcknowledgeMessage', errorMsg: response.ErrorMsg },
      });
    }
  }

  async #send(path: string, payload: string): Promise<void> {
    const response = await this.#s.api.call<{ ErrorMsg?: string | null }>('SendMessages', {
      Topic: path,
      Payload: payload,
      ...(this.#s.token ? { StringToken: this.#s.token.reveal() } : {}),
    });
    if (response.ErrorMsg) {
      throw new UnavailableError(`SendMessages to ${path} failed: ${response.ErrorMsg}`, {
        driver: DRIVER,
        details: { action: 'SendMessages', errorMsg: response.ErrorMsg },
      });
    }
  }
}

/**
 * Runs every step and waits for all; rejects with a non-retryable error if there was one, else
 * with a retryable one (the portable layer retries the call; finished steps are skipped then).
 */
async function settleAll(steps: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(steps);
  let retryable: SwitchyardError | undefined;
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const e = r.reason as SwitchyardError;
    if (!isSwitchyardError(e) || !e.retryable) throw r.reason;
    retryable ??= e;
  }
  if (retryable) throw retryable;
}
