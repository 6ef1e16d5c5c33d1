// The Pulsar engine's messaging side, what the data-plane API actions call: topic paths, send,
// the long-polled shared-subscription receive, and acknowledgement.

import {
  type Candidate,
  DEFAULT_CLUSTER_ID,
  type Delivered,
  MAX_MESSAGE_BYTES,
  POLL_MS,
  PulsarEngineBase,
  type ReceiveOptions,
} from './engine-base.js';
import { PulsarError, ReceiveAborted } from './errors.js';
import { cursorUnit, entryUnit } from './journal-units.js';
import { formatMessageId, parseMessageId } from './message-id.js';
import { entryAt, type PartitionLog, type Subscription, settleCursor, type Topic } from './model.js';
import { formatTopicPath, parseTopicPath } from './topic-name.js';

export abstract class PulsarMessaging extends PulsarEngineBase {
  // ---- messaging (topic named by one path string) ----------------------------------------------

  /** Resolves a messaging-action topic string; errors use the messaging actions' codes. */
  resolve(path: string): Topic {
    const parsed = parseTopicPath(path);
    if (!parsed) {
      throw new PulsarError(
        'InvalidParameterValue.TopicNotFound',
        `The topic \`${path}\` is not a valid topic name.`,
      );
    }
    // `public` is Pulsar's default tenant; here it stands for the default cluster.
    const clusterId = parsed.tenant === 'public' ? DEFAULT_CLUSTER_ID : parsed.tenant;
    const cluster = this.clusters.get(clusterId);
    if (!cluster) {
      throw new PulsarError(
        'InvalidParameter.TenantNotFound',
        `The tenant \`${parsed.tenant}\` does not exist.`,
      );
    }
    const ns = cluster.namespaces.get(parsed.namespace);
    let topic = ns?.topics.get(parsed.topic);
    // Ack topics may name one partition (`topic-partition-N`); the partition is in the message id.
    const partMatch = /^(.+)-partition-\d+$/.exec(parsed.topic);
    if (!topic && partMatch) topic = ns?.topics.get(partMatch[1] as string);
    if (!topic)
      throw new PulsarError('InvalidParameterValue.TopicNotFound', `The topic \`${path}\` does not exist.`);
    this.maintain(topic);
    return topic;
  }

  topicPath(topic: Topic): string {
    return formatTopicPath(topic.clusterId, topic.namespace, topic.name);
  }

  send(topic: Topic, payload: string): string {
    const bytes = Buffer.byteLength(payload, 'utf8');
    if (bytes > MAX_MESSAGE_BYTES) {
      throw new PulsarError(
        'FailedOperation.MaxMessageSizeError',
        `Message size ${bytes} exceeds the limit of ${MAX_MESSAGE_BYTES} bytes.`,
      );
    }
    const partIndex = topic.rr++ % topic.parts.length;
    const part = topic.parts[partIndex] as PartitionLog;
    const entryId = part.nextEntryId++;
    this.changes.changed(entryUnit(topic, partIndex, entryId));
    part.entries.push({ entryId, seq: this.seq++, publishTime: this.clock.now(), payload, bytes });
    part.totalBytes += bytes;
    topic.updatedAt = this.clock.now();
    this.maintain(topic);
    this.wake();
    return formatMessageId({ ledgerId: part.ledgerId, entryId, partition: part.index });
  }

  /**
   * One ReceiveMessage call: a competing consumer on the shared subscription (created on first use at
   * `subInitialPosition`). Resolves with at least one message, or an empty list when the wait ran out.
   */
  async receive(topic: Topic, subName: string, opts: ReceiveOptions): Promise<Delivered[]> {
    if (!topic.partitioned) {
      throw new PulsarError(
        'FailedOperation.TopicTypeError',
        'ReceiveMessage only supports partitioned topics; please use a partitioned topic.',
      );
    }
    const sub = topic.subs.get(subName) ?? this.addSubscription(topic, subName, opts.subInitialPosition, '');
    const deadline = Date.now() + opts.waitMs;
    const got: Candidate[] = [];
    let bytes = 0;
    for (;;) {
      if (opts.signal?.aborted) {
        this.release(topic, sub, got);
        throw new ReceiveAborted();
      }
      if (topic.deleted || sub.deleted) break;
      for (const c of this.take(topic, sub, opts.maxMessages - got.length, opts.maxBytes, bytes)) {
        got.push(c);
        bytes += entryAt(c.part, c.entryId)?.bytes ?? 0;
      }
      const full = got.length >= opts.maxMessages || (opts.maxBytes > 0 && bytes >= opts.maxBytes);
      if (full || (opts.returnEarly && got.length > 0)) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await this.sleep(Math.min(remaining, POLL_MS), opts.signal);
    }
    return got.flatMap((c) => {
      const e = entryAt(c.part, c.entryId);
      if (!e) return [];
      const messageId = formatMessageId({
        ledgerId: c.part.ledgerId,
        entryId: c.entryId,
        partition: c.part.index,
      });
      return [{ messageId, payload: e.payload, bytes: e.bytes, publishTime: e.publishTime }];
    });
  }

  /**
   * Acknowledges one message on a subscription. Like Pulsar, acking a message the subscription does
   * not hold (unknown subscription, already acked, other ledger) is silently ignored; a malformed id or
   * a partition the topic does not have is an error.
   */
  acknowledge(topic: Topic, subName: string, messageIdText: string): void {
    const id = parseMessageId(messageIdText);
    const partIndex = id ? (topic.partitioned ? id.partition : id.partition === -1 ? 0 : -1) : -1;
    const part = id ? topic.parts[partIndex] : undefined;
    if (!id || !part) {
      throw new PulsarError(
        'FailedOperation.MessageIDError',
        `The message id \`${messageIdText}\` is not valid.`,
      );
    }
    const sub = topic.subs.get(subName);
    const cursor = sub?.cursors[partIndex];
    if (!cursor || id.ledgerId !== part.ledgerId) return;
    if (id.entryId >= cursor.markDelete && id.entryId < cursor.readPos) {
      cursor.acked.add(id.entryId);
      cursor.inflight.delete(id.entryId);
      settleCursor(cursor, part);
      if (sub) this.changes.changed(cursorUnit(topic, sub, partIndex));
      this.maintain(topic);
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  protected take(topic: Topic, sub: Subscription, maxCount: number, maxBytes: number, bytesSoFar: number) {
    this.maintain(topic);
    if (maxCount <= 0) return [];
    const now = this.clock.now();
    const candidates: Candidate[] = [];
    topic.parts.forEach((part, i) => {
      const cursor = sub.cursors[i];
      if (!cursor) return;
      let found = 0;
      // Redeliveries: dispatched before, neither acked nor still within the ack timeout.
      for (let id = cursor.markDelete; id < cursor.readPos && found < maxCount; id++) {
        if (cursor.acked.has(id)) continue;
        const deadline = cursor.inflight.get(id);
        if (deadline !== undefined && deadline > now) continue;
        const e = entryAt(part, id);
        if (!e) continue;
        candidates.push({ part, index: i, cursor, seq: e.seq, entryId: id });
        found++;
      }
      for (let id = cursor.readPos; id < part.nextEntryId && found < maxCount; id++) {
        const e = entryAt(part, id);
        if (!e) continue;
        candidates.push({ part, index: i, cursor, seq: e.seq, entryId: id });
        found++;
      }
    });
    candidates.sort((a, b) => a.seq - b.seq);
    const ackTimeoutMs =
      topic.ackTimeoutSec !== undefined ? topic.ackTimeoutSec * 1000 : this.defaultAckTimeoutMs;
    const taken: Candidate[] = [];
    let bytes = bytesSoFar;
    for (const c of candidates) {
      if (taken.length >= maxCount) break;
      if (maxBytes > 0 && bytes >= maxBytes) break;
      taken.push(c);
      bytes += entryAt(c.part, c.entryId)?.bytes ?? 0;
      c.cursor.inflight.set(c.entryId, now + ackTimeoutMs);
      if (c.entryId >= c.cursor.readPos) c.cursor.readPos = c.entryId + 1;
      this.changes.changed(cursorUnit(topic, sub, c.index));
    }
    return taken;
  }

  /** Makes messages taken by an abandoned receive immediately available again. */
  protected release(topic: Topic, sub: Subscription, list: readonly Candidate[]): void {
    for (const c of list) {
      c.cursor.inflight.delete(c.entryId);
      this.changes.changed(cursorUnit(topic, sub, c.index));
    }
    if (list.length > 0) this.wake();
  }
}
