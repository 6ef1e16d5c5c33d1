// The Pulsar engine behind the TDMQ API actions. Semantics the HTTP API leaves undocumented are
// chosen to match a Pulsar *shared* subscription (see docs/tencentcloud-api.md): every
// ReceiveMessage call is a competing consumer on the subscription's cursor, a delivered message is
// redelivered when it is not acknowledged within the ack timeout, unacknowledged messages older than
// the message TTL expire, and acknowledged messages are kept only as long as the namespace's retention
// policy says (so ResetMsgSubOffsetByTimestamp can rewind into them).

import type { Clock } from '../contracts.js';
import { type ChangeSink, type JournaledEngine, NO_CHANGES } from '../state/journal.js';
import { PulsarError, ReceiveAborted } from './errors.js';
import { applyUnit, cursorUnit, entryUnit, unitRecord } from './journal-units.js';
import { formatMessageId, parseMessageId } from './message-id.js';
import {
  backlogOf,
  type Cluster,
  type Cursor,
  entryAt,
  firstEntryId,
  type Namespace,
  newCursor,
  type PartitionLog,
  type RetentionPolicy,
  type Subscription,
  settleCursor,
  type Topic,
} from './model.js';
import { fromSnapshot, type PulsarSnapshot, toSnapshot } from './snapshot.js';
import { formatTopicPath, parseTopicPath } from './topic-name.js';

export const DEFAULT_CLUSTER_ID = 'pulsar-emulator';
export const DEFAULT_NAMESPACE = 'default';
/** Largest accepted payload (TDMQ: FailedOperation.MaxMessageSizeError above 1 MB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface PulsarEngineOptions {
  readonly clock: Clock;
  /** Clusters that exist from the start, each with a `default` namespace. */
  readonly clusterIds?: readonly string[];
  /** Redelivery delay for unacknowledged messages when the topic sets no AckTimeOut. */
  readonly defaultAckTimeoutMs?: number;
  /** MsgTTL of the auto-created `default` namespaces, seconds. */
  readonly defaultMsgTtlSec?: number;
}

export interface Delivered {
  readonly messageId: string;
  readonly payload: string;
  readonly bytes: number;
  readonly publishTime: number;
}

export interface ReceiveOptions {
  readonly subInitialPosition: 'Earliest' | 'Latest';
  /** At most this many messages (≥ 1). */
  readonly maxMessages: number;
  /** Stop adding messages once this many payload bytes are collected; 0 = no byte limit. */
  readonly maxBytes: number;
  /** Wall-clock wait for the batch to fill, ms. */
  readonly waitMs: number;
  /** Return as soon as anything arrived (single-message mode) instead of waiting to fill the batch. */
  readonly returnEarly: boolean;
  readonly signal?: AbortSignal;
}

interface Candidate {
  readonly part: PartitionLog;
  /** Index into topic.parts and sub.cursors. */
  readonly index: number;
  readonly cursor: Cursor;
  readonly seq: number;
  readonly entryId: number;
}

export interface TopicCreate {
  readonly partitions: number;
  readonly partitioned: boolean;
  readonly pulsarTopicType: number;
  readonly topicType: number;
  readonly remark: string;
  readonly msgTtlSec: number | undefined;
  readonly ackTimeoutSec: number | undefined;
}

const POLL_MS = 100;

export class PulsarEngine implements JournaledEngine {
  /**
   * Where changes are reported for the `--state` journal: entries and cursors as units, topology
   * (namespaces, topics, subscriptions, cursor resets) as reshaped, so a direct engine call is as
   * durable as the same change made over the wire.
   */
  changes: ChangeSink = NO_CHANGES;
  private readonly clock: Clock;
  private readonly defaultAckTimeoutMs: number;
  private readonly defaultMsgTtlSec: number;
  private clusters = new Map<string, Cluster>();
  private seq = 0;
  private nextLedgerId = 100;
  private readonly wakers = new Set<() => void>();

  constructor(options: PulsarEngineOptions) {
    this.clock = options.clock;
    this.defaultAckTimeoutMs = options.defaultAckTimeoutMs ?? 60_000;
    this.defaultMsgTtlSec = options.defaultMsgTtlSec ?? 86_400;
    for (const id of new Set([DEFAULT_CLUSTER_ID, ...(options.clusterIds ?? [])])) {
      this.addCluster(id);
    }
  }

  private addCluster(id: string): void {
    const now = this.clock.now();
    const cluster: Cluster = { id, name: id, remark: '', createdAt: now, namespaces: new Map() };
    this.clusters.set(id, cluster);
    this.createNamespace(id, DEFAULT_NAMESPACE, this.defaultMsgTtlSec, undefined, '');
  }

  // ---- clusters and namespaces ---------------------------------------------------------------

  listClusters(): Cluster[] {
    return [...this.clusters.values()];
  }

  cluster(id: string): Cluster {
    const c = this.clusters.get(id);
    if (!c) throw new PulsarError('ResourceNotFound.Cluster', `The cluster \`${id}\` does not exist.`);
    return c;
  }

  createNamespace(
    clusterId: string,
    name: string,
    msgTtlSec: number,
    retention: RetentionPolicy | undefined,
    remark: string,
  ): Namespace {
    const cluster = this.cluster(clusterId);
    if (cluster.namespaces.has(name)) {
      throw new PulsarError('ResourceInUse.Namespace', `The environment \`${name}\` already exists.`);
    }
    const now = this.clock.now();
    const ns: Namespace = {
      clusterId,
      name,
      msgTtlSec,
      retention,
      remark,
      createdAt: now,
      updatedAt: now,
      topics: new Map(),
    };
    cluster.namespaces.set(name, ns);
    this.changes.reshaped();
    return ns;
  }

  namespace(clusterId: string, name: string): Namespace {
    const ns = this.cluster(clusterId).namespaces.get(name);
    if (!ns)
      throw new PulsarError('ResourceNotFound.Environment', `The environment \`${name}\` does not exist.`);
    return ns;
  }

  // ---- topics ----------------------------------------------------------------------------------

  createTopic(clusterId: string, namespace: string, name: string, spec: TopicCreate): Topic {
    const ns = this.namespace(clusterId, namespace);
    if (ns.topics.has(name)) {
      throw new PulsarError('ResourceInUse.Topic', `The topic \`${name}\` already exists.`);
    }
    const now = this.clock.now();
    const count = spec.partitioned ? spec.partitions : 1;
    const parts: PartitionLog[] = [];
    for (let i = 0; i < count; i++) {
      parts.push({
        index: spec.partitioned ? i : -1,
        ledgerId: this.nextLedgerId++,
        nextEntryId: 0,
        entries: [],
        totalBytes: 0,
      });
    }
    const topic: Topic = {
      clusterId,
      namespace,
      name,
      partitioned: spec.partitioned,
      partitions: spec.partitions,
      pulsarTopicType: spec.pulsarTopicType,
      topicType: spec.topicType,
      remark: spec.remark,
      msgTtlSec: spec.msgTtlSec,
      ackTimeoutSec: spec.ackTimeoutSec,
      createdAt: now,
      updatedAt: now,
      parts,
      subs: new Map(),
      rr: 0,
      deleted: false,
    };
    ns.topics.set(name, topic);
    this.changes.reshaped();
    return topic;
  }

  topic(clusterId: string, namespace: string, name: string): Topic {
    const t = this.namespace(clusterId, namespace).topics.get(name);
    if (!t) throw new PulsarError('ResourceNotFound.Topic', `The topic \`${name}\` does not exist.`);
    this.maintain(t);
    return t;
  }

  listTopics(clusterId: string, namespace: string): Topic[] {
    const topics = [...this.namespace(clusterId, namespace).topics.values()];
    for (const t of topics) this.maintain(t);
    return topics;
  }

  deleteTopic(topic: Topic): void {
    const ns = this.namespace(topic.clusterId, topic.namespace);
    ns.topics.delete(topic.name);
    topic.deleted = true;
    this.changes.reshaped();
    this.wake();
  }

  // ---- subscriptions ---------------------------------------------------------------------------

  /** Creates a subscription; like Pulsar's admin API it starts at the latest position. */
  createSubscription(topic: Topic, name: string, remark: string, idempotent: boolean): Subscription {
    const existing = topic.subs.get(name);
    if (existing) {
      if (idempotent) return existing;
      throw new PulsarError('ResourceInUse.Subscription', `The subscription \`${name}\` already exists.`);
    }
    return this.addSubscription(topic, name, 'Latest', remark);
  }

  private addSubscription(topic: Topic, name: string, position: 'Earliest' | 'Latest', remark: string) {
    const now = this.clock.now();
    const sub: Subscription = {
      name,
      createdAt: now,
      updatedAt: now,
      remark,
      cursors: topic.parts.map((p) => newCursor(position === 'Earliest' ? firstEntryId(p) : p.nextEntryId)),
      deleted: false,
    };
    topic.subs.set(name, sub);
    this.changes.reshaped();
    return sub;
  }

  subscription(topic: Topic, name: string): Subscription {
    const s = topic.subs.get(name);
    if (!s)
      throw new PulsarError('ResourceNotFound.Subscription', `The subscription \`${name}\` does not exist.`);
    return s;
  }

  deleteSubscription(topic: Topic, name: string): void {
    const s = this.subscription(topic, name);
    s.deleted = true;
    topic.subs.delete(name);
    this.changes.reshaped();
    this.maintain(topic);
  }

  backlog(topic: Topic, sub: Subscription): number {
    let n = 0;
    topic.parts.forEach((p, i) => {
      const c = sub.cursors[i];
      if (c) n += backlogOf(c, p);
    });
    return n;
  }

  /** Moves every partition's cursor to the first message published at or after `toTimestampMs`. */
  resetByTimestamp(topic: Topic, sub: Subscription, toTimestampMs: number): void {
    topic.parts.forEach((p, i) => {
      const target = p.entries.find((e) => e.publishTime >= toTimestampMs)?.entryId ?? p.nextEntryId;
      sub.cursors[i] = newCursor(target);
    });
    sub.updatedAt = this.clock.now();
    this.changes.reshaped();
    this.wake();
  }

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

  private take(topic: Topic, sub: Subscription, maxCount: number, maxBytes: number, bytesSoFar: number) {
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
  private release(topic: Topic, sub: Subscription, list: readonly Candidate[]): void {
    for (const c of list) {
      c.cursor.inflight.delete(c.entryId);
      this.changes.changed(cursorUnit(topic, sub, c.index));
    }
    if (list.length > 0) this.wake();
  }

  /** Applies message TTL (expires unacked messages) and retention (drops consumed messages). */
  private maintain(topic: Topic): void {
    const ns = this.clusters.get(topic.clusterId)?.namespaces.get(topic.namespace);
    if (!ns) return;
    const now = this.clock.now();
    const ttlSec = topic.msgTtlSec ?? ns.msgTtlSec;
    const subs = [...topic.subs.values()];
    topic.parts.forEach((part, i) => {
      for (const sub of subs) {
        const c = sub.cursors[i];
        if (!c) continue;
        const before = [c.markDelete, c.readPos, c.acked.size, c.inflight.size];
        if (ttlSec > 0) {
          let id = c.markDelete;
          for (;;) {
            const e = entryAt(part, id);
            if (!e || e.publishTime + ttlSec * 1000 > now) break;
            c.acked.add(id);
            c.inflight.delete(id);
            id++;
          }
          if (c.readPos < id) c.readPos = id;
        }
        settleCursor(c, part);
        // TTL only adds acks and settling only folds them into markDelete, so a cursor that moved
        // differs in one of these.
        const after = [c.markDelete, c.readPos, c.acked.size, c.inflight.size];
        if (after.some((v, k) => v !== before[k])) this.changes.changed(cursorUnit(topic, sub, i));
      }
      // Consumed = below every subscription's mark-delete position (everything, with no subscription).
      let consumedUpTo = part.nextEntryId;
      for (const sub of subs) consumedUpTo = Math.min(consumedUpTo, sub.cursors[i]?.markDelete ?? 0);
      const retention = ns.retention;
      const keepMs = retention
        ? retention.timeInMinutes < 0
          ? Number.POSITIVE_INFINITY
          : retention.timeInMinutes * 60_000
        : 0;
      const sizeLimit =
        retention && retention.sizeInMB > 0 ? retention.sizeInMB * 1024 * 1024 : Number.POSITIVE_INFINITY;
      // Only when the whole partition is over the size limit can its consumed part be.
      let consumedBytes = 0;
      if (part.totalBytes > sizeLimit) {
        for (const e of part.entries) {
          if (e.entryId >= consumedUpTo) break;
          consumedBytes += e.bytes;
        }
      }
      let drop = 0;
      for (const e of part.entries) {
        if (e.entryId >= consumedUpTo) break;
        if (now - e.publishTime < keepMs && consumedBytes <= sizeLimit) break;
        consumedBytes -= e.bytes;
        part.totalBytes -= e.bytes;
        drop++;
      }
      if (drop > 0) part.entries.splice(0, drop);
    });
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Receives waiting for messages right now, so a test can act once a poll is really waiting. */
  get pendingPolls(): number {
    return this.wakers.size;
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  // ---- state -----------------------------------------------------------------------------------

  snapshot(): PulsarSnapshot {
    return toSnapshot(this.clusters, this.seq, this.nextLedgerId);
  }

  record(unit: string): unknown {
    return unitRecord(this.clusters, unit);
  }

  apply(unit: string, record: unknown): void {
    this.seq = Math.max(this.seq, applyUnit(this.clusters, unit, record) + 1);
  }

  restore(data: unknown): void {
    const restored = fromSnapshot(data);
    this.clusters = restored.clusters;
    this.seq = restored.seq;
    this.nextLedgerId = restored.nextLedgerId;
    this.wake();
  }

  inspect(): unknown {
    return {
      clusters: this.listClusters().map((c) => ({
        clusterId: c.id,
        environments: [...c.namespaces.values()].map((ns) => ({
          environmentId: ns.name,
          msgTtlSec: ns.msgTtlSec,
          retention: ns.retention ?? null,
          topics: [...ns.topics.values()].map((t) => {
            this.maintain(t);
            return {
              topic: this.topicPath(t),
              partitioned: t.partitioned,
              partitions: t.parts.length,
              storedMessages: t.parts.reduce((n, p) => n + p.entries.length, 0),
              subscriptions: [...t.subs.values()].map((s) => ({
                name: s.name,
                backlog: this.backlog(t, s),
                inFlight: s.cursors.reduce((n, c) => n + c.inflight.size, 0),
              })),
            };
          }),
        })),
      })),
    };
  }
}
