import { type Delivery, type EnvelopeFields, encodeCopyEnvelope } from '@switchyard/core/driver';
import { ENVELOPE_LIMIT } from './codec.js';
import { retryTopicName, type TopicName } from './naming.js';
import type { Topology } from './topology.js';

// nackMode 'retry-topic' (opt-in): a nacked message is copied, in an envelope, to the group's
// retry topic and the original is acked. The copy carries its delivery count in a header, so the
// count survives restarts and is never shared between distinct messages that share an id.

/** Deliveries of the message before this copy; stripped before a handler sees the headers. */
export const RETRY_ATTEMPTS_HEADER = 'x-switchyard-pulsar-http-attempts';

/** How often the group's retry topic is polled when this process has not nacked lately. */
const RETRY_POLL_MS = 1_000;
/** How long a missing retry topic is assumed to stay missing (another process may create it). */
const RETRY_ABSENT_RECHECK_MS = 5_000;

/**
 * The payload of a retry-topic copy of `d` carrying `attempts`. One too large for the API (its
 * headers leave too little room) fails MESSAGE_TOO_LARGE; the original then comes back after the
 * topic's ack timeout.
 */
export function retryCopyPayload(d: Delivery, attempts: number): string {
  return encodeCopyEnvelope(d, { [RETRY_ATTEMPTS_HEADER]: String(attempts) }, ENVELOPE_LIMIT);
}

/** A copy read back: its fields without the count header, and this delivery's attempt. */
export function fromRetryCopy(fields: EnvelopeFields): { fields: EnvelopeFields; deliveryAttempt: number } {
  const { [RETRY_ATTEMPTS_HEADER]: carried, ...headers } = fields.headers;
  const before = carried === undefined || carried === '' ? Number.NaN : Number(carried);
  // 0 is a copy of a delivery no handler saw. A copy without a readable count (written by an older
  // version) is at least a second delivery.
  const deliveryAttempt = Number.isSafeInteger(before) && before >= 0 ? before + 1 : 2;
  return { fields: { ...fields, headers }, deliveryAttempt };
}

/** The group's retry topic: its name, its creation, and when it is worth polling. */
export class RetryTopic {
  readonly name: TopicName;
  readonly #topology: Topology | undefined;
  readonly #group: string;
  #ready: Promise<void> | undefined;
  #absentUntil = 0;
  #polledAt = 0;
  #nackedSincePoll = false;

  constructor(topology: Topology | undefined, topic: TopicName, group: string) {
    this.name = retryTopicName(topic, group);
    this.#topology = topology;
    this.#group = group;
  }

  /** Poll now: this process just nacked, or the last poll is a while ago (other processes nack too). */
  due(): boolean {
    const now = Date.now();
    if (this.#nackedSincePoll) return true;
    if (now < this.#absentUntil) return false;
    return now - this.#polledAt >= RETRY_POLL_MS;
  }

  polling(): void {
    this.#polledAt = Date.now();
    this.#nackedSincePoll = false;
  }

  /** Nobody has nacked in this group yet: there is no retry topic. */
  absent(): void {
    this.#absentUntil = Date.now() + RETRY_ABSENT_RECHECK_MS;
  }

  nacked(): void {
    this.#nackedSincePoll = true;
  }

  /** Creates the topic and the group's subscription on it, once (a failure is tried again). */
  ensure(): Promise<void> {
    const topology = this.#topology;
    if (topology === undefined) return Promise.resolve();
    this.#ready ??= topology
      .ensureSubscription(this.name, this.#group, 'earliest')
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }
}
