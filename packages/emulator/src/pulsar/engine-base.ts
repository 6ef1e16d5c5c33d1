// The Pulsar engine's shared state and topology: clusters, namespaces, topics and subscriptions,
// cursor upkeep (ack timeouts, TTL, retention) and the long-poll wake-ups. Messaging is layered on
// top in engine-messaging.ts; snapshots and the journal's records in engine.ts.

import type { Clock } from '../contracts.js';
import { type ChangeSink, NO_CHANGES } from '../state/journal.js';
import { PulsarError } from './errors.js';
import { cursorUnit } from './journal-units.js';
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

export interface Candidate {
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

export const POLL_MS = 100;

export abstract class PulsarEngineBase {
  /**
   * Where changes are reported for the `--state` journal: entries and cursors as units, topology
   * (namespaces, topics, subscriptions, cursor resets) as reshaped, so a direct engine call is as
   * durable as the same change made over the wire.
   */
  changes: ChangeSink = NO_CHANGES;
  protected readonly clock: Clock;
  protected readonly defaultAckTimeoutMs: number;
  protected readonly defaultMsgTtlSec: number;
  protected clusters = new Map<string, Cluster>();
  protected seq = 0;
  protected nextLedgerId = 100;
  protected readonly wakers = new Set<() => void>();

  constructor(options: PulsarEngineOptions) {
    this.clock = options.clock;
    this.defaultAckTimeoutMs = options.defaultAckTimeoutMs ?? 60_000;
    this.defaultMsgTtlSec = options.defaultMsgTtlSec ?? 86_400;
    for (const id of new Set([DEFAULT_CLUSTER_ID, ...(options.clusterIds ?? [])])) {
      this.addCluster(id);
    }
  }

  protected addCluster(id: string): void {
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

  protected addSubscription(topic: Topic, name: string, position: 'Earliest' | 'Latest', remark: string) {
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

  // ---- internals -------------------------------------------------------------------------------

  protected maintain(topic: Topic): void {
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

  protected wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Receives waiting for messages right now, so a test can act once a poll is really waiting. */
  get pendingPolls(): number {
    return this.wakers.size;
  }

  protected sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
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
}
