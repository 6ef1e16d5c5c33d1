import {
  ClosedError,
  CopyNacks,
  type Delivery,
  type DriverConsumer,
  isAborted,
  isSwitchyardError,
  Leases,
  type Logger,
  offAbort,
  onAbortOnce,
  type RequeueCopy,
  type Secret,
  UnavailableError,
  UnsupportedError,
} from '@switchyard/core/driver';
import { acknowledge, acknowledgeAll, type Handle } from './acknowledge.js';
import type { NackMode } from './capabilities.js';
import type { Api } from './client.js';
import type { BodyMode } from './codec.js';
import { DRIVER } from './errors.js';
import type { TopicName } from './naming.js';
import { Reader } from './reader.js';
import { RetryTopic, retryCopyPayload } from './retry-topic.js';
import type { StartFrom, Topology } from './topology.js';

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
  /** ReceiveMessage calls, turned into deliveries. */
  readonly #reader: Reader;
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
    this.#reader = new Reader(settings, this.#retry !== undefined);
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
    while (out.length === 0 && !isAborted(signal)) {
      const remaining = deadline - Date.now();
      if (this.#s.receiveMode === 'auto' && !this.#reader.backlog && remaining >= LONG_POLL_MIN_MS) {
        // Idle topic: a single-message ReceiveMessage returns as soon as one message arrives (a
        // batch one would wait out its Timeout); then whatever else is there comes in one batch.
        out.push(...(await this.#guard(this.#reader.read(path, 1, 0, true, 'single'), signal, true)));
        if (out.length > 0 && out.length < max && !isAborted(signal)) {
          // A failure here must not lose the message already taken: hand it out, try again later.
          const more = await this.#guard(
            this.#reader.read(path, max - out.length, 1, true, 'batch'),
            signal,
          ).catch(() => [] as Delivery[]);
          out.push(...more);
        }
      } else {
        const wait = Math.max(1, Math.min(remaining, this.#s.receiveWaitMs));
        const kind = this.#s.receiveMode === 'single' ? 'single' : 'batch';
        out.push(...(await this.#guard(this.#reader.read(path, max, wait, true, kind), signal)));
      }
      if (out.length === 0 && this.#retry?.due())
        out.push(...(await this.#guard(this.#pollRetry(max), signal)));
      if (Date.now() >= deadline) break;
    }
    // Only a pack gives more than asked for; its other members wait here for the next call
    // (at most pack - 1 beyond prefetch, the price of packing).
    if (out.length > max) this.#leftover.push(...out.splice(max));
    const vis = this.#s.visibilityTimeoutMs;
    if (vis !== undefined && this.#retry !== undefined) this.#leases.leaseAll(out, vis);
    return out;
  }

  /**
   * Retry-topic mode: the API's ack timeout is per topic and at least 60 s, so a consumer's shorter
   * visibility timeout is kept here: an un-acked delivery goes back through the retry topic when it
   * expires (the portable layer copies it, as for a nack). If this process dies first, the topic's
   * ack timeout still brings the message back.
   */
  readonly #leases = new Leases<Delivery>(
    (d) => {
      if ((d.handle as Handle).acked || this.#closed) return;
      this.#s.leaseExpired?.(d);
    },
    (d) => d.handle as Handle,
  );

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const handles = new Array<Handle>(deliveries.length);
    for (let i = 0; i < deliveries.length; i++) {
      const d = deliveries[i] as Delivery;
      this.#leases.end(d);
      handles[i] = d.handle as Handle;
    }
    return acknowledgeAll(this.#s.api, handles);
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
      ack: (d) => acknowledge(this.#s.api, d.handle as Handle),
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
    if (isAborted(signal)) return this.#keepLate(request);
    let stop: (() => void) | undefined;
    const stopped = new Promise<'stopped'>((resolve) => {
      stop = () => resolve('stopped');
    });
    const onStop = stop as () => void;
    if (signal !== undefined) onAbortOnce(signal, onStop);
    if (wakeable) this.#wakers.add(onStop);
    try {
      const winner = await Promise.race([request, stopped]);
      return winner === 'stopped' ? this.#keepLate(request) : winner;
    } finally {
      if (signal !== undefined) offAbort(signal, onStop);
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

  // ---- the group's retry topic (retry-topic mode) ----

  async #pollRetry(max: number): Promise<Delivery[]> {
    const retry = this.#retry;
    if (retry === undefined) return [];
    retry.polling();
    try {
      return await this.#reader.read(retry.name.path, max, 1, false, 'batch');
    } catch (error) {
      if (isSwitchyardError(error) && error.code === 'NOT_FOUND') {
        retry.absent();
        return [];
      }
      throw error;
    }
  }

  // ---- settling ----

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
