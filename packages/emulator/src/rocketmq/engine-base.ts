// The RocketMQ engine's shared state: topics, groups, cursors and transactions, the admin API
// that creates them, lookups, handles and ids, and change reporting. Consumption is layered on
// top in engine-delivery.ts; the state summary, snapshots and journal records in engine.ts.

import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../contracts.js';
import { type ChangeSink, NO_CHANGES } from '../state/journal.js';
import {
  type Cursor,
  DEFAULT_GROUP,
  DEFAULT_TOPIC,
  type Group,
  type GroupConfig,
  type MessageType,
  type StoredMessage,
  TOPIC_TYPES,
  type Topic,
  type TopicConfig,
} from './model.js';
import { fail } from './statuses.js';

export interface RocketMqEngineOptions {
  readonly clock?: Clock;
  /**
   * Create unknown topics (type MIXED) and groups on first use. Default true for convenience; the
   * real service requires both to be created in the console first, so turn it off to test that.
   */
  readonly autoCreate?: boolean;
}

export interface TopicInfo {
  readonly name: string;
  readonly type: TopicConfig['type'];
  readonly queues: number;
  readonly messages: number;
}

export interface GroupInfo extends GroupConfig {
  readonly name: string;
}

export interface AppendInput {
  readonly messageId: string;
  readonly type: MessageType;
  readonly tag?: string;
  readonly keys?: readonly string[];
  readonly messageGroup?: string;
  readonly body: Buffer;
  readonly properties?: Readonly<Record<string, string>>;
  readonly bornTimestamp?: number;
  readonly bornHost?: string;
  readonly deliveryTimestamp?: number;
  readonly deadLetter?: { readonly topic: string; readonly messageId: string };
  /** Remoting (4.x) producers only; see StoredMessage. */
  readonly queueId?: number;
  readonly reconsumeTimes?: number;
  readonly flag?: number;
}

export interface Delivered {
  readonly message: StoredMessage;
  readonly handle: string;
  readonly attempt: number;
  readonly invisibleMs: number;
}

export interface ReceiveOptions {
  readonly max: number;
  readonly invisibleMs: number;
  readonly clientId?: string;
  readonly autoRenew?: boolean;
}

export const cursorKey = (group: string, topic: string) => `${group}\n${topic}`;
export const offsetKey = (group: string, topic: string, queueId: number) => `${group}\n${topic}\n${queueId}`;
export const MAX_RENEW_MS = 3 * 3600_000;
export const RENEW_AHEAD_MS = 10_000;

export abstract class RocketMqEngineBase {
  readonly clock: Clock;
  /** Where message and cursor changes are reported for the `--state` journal. */
  changes: ChangeSink = NO_CHANGES;
  autoCreate: boolean;
  protected readonly topics = new Map<string, Topic>();
  protected readonly groups = new Map<string, Group>();
  protected readonly cursors = new Map<string, Cursor>();
  /** Every transaction id ever sent, kept so that a repeated EndTransaction still answers OK. */
  protected readonly transactions = new Map<string, { topic: string; offset: number }>();
  /**
   * The ids among them whose half message is still prepared: the periodic orphan check walks
   * only these, so its cost follows the open transactions, not every transaction ever sent.
   */
  protected readonly preparedTransactions = new Set<string>();
  /** Remoting (4.x) consumer offsets, `group\ntopic\nqueueId` → next offset to consume. */
  protected readonly consumerOffsets = new Map<string, number>();
  protected readonly waiters = new Set<() => void>();
  /** Told when a topic's log goes (see onTopicDropped). */
  private readonly dropListeners = new Set<(topic: string | undefined) => void>();
  protected seq = 0;
  protected handleSeq = 0;
  protected closed = false;

  constructor(options: RocketMqEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.autoCreate = options.autoCreate ?? true;
  }

  // ---- admin API -------------------------------------------------------------------------

  /** Create or update a topic (PUT semantics). Throws RocketMqError ILLEGAL_TOPIC on a bad name or config. */
  createTopic(name: string, config: Partial<TopicConfig> = {}): TopicInfo {
    const type = config.type ?? this.topics.get(name)?.config.type ?? 'NORMAL';
    const queues = config.queues ?? this.topics.get(name)?.config.queues ?? 1;
    if (!TOPIC_TYPES.includes(type))
      fail('ILLEGAL_TOPIC', `topic type must be one of ${TOPIC_TYPES.join(', ')}`);
    if (!Number.isInteger(queues) || queues < 1 || queues > 64)
      fail('ILLEGAL_TOPIC', 'queues must be an integer 1-64');
    const existing = this.topics.get(name);
    if (existing) existing.config = { type, queues };
    else this.topics.set(name, { name, config: { type, queues }, messages: [] });
    this.changes.reshaped();
    return this.topicInfo(this.topics.get(name)!);
  }

  deleteTopic(name: string): boolean {
    const topic = this.topics.get(name);
    if (!topic) return false;
    this.topics.delete(name);
    this.changes.reshaped();
    this.topicsDropped(name);
    for (const key of [...this.cursors.keys()]) if (key.endsWith(`\n${name}`)) this.cursors.delete(key);
    for (const key of [...this.consumerOffsets.keys()])
      if (key.split('\n')[1] === name) this.consumerOffsets.delete(key);
    for (const [id, tx] of this.transactions)
      if (tx.topic === name) {
        this.transactions.delete(id);
        this.preparedTransactions.delete(id);
      }
    return true;
  }

  getTopic(name: string): TopicInfo | undefined {
    const topic = this.topics.get(name);
    return topic && this.topicInfo(topic);
  }

  listTopics(): TopicInfo[] {
    return [...this.topics.values()].map((t) => this.topicInfo(t));
  }

  /** Create or update a consumer group (PUT semantics). */
  createGroup(name: string, config: Partial<GroupConfig> = {}): GroupInfo {
    const existing = this.groups.get(name);
    const merged: GroupConfig = { ...DEFAULT_GROUP, ...existing?.config, ...stripUndefined(config) };
    if (
      !Number.isInteger(merged.maxDeliveryAttempts) ||
      merged.maxDeliveryAttempts < 1 ||
      merged.maxDeliveryAttempts > 1000
    )
      fail('ILLEGAL_CONSUMER_GROUP', 'maxDeliveryAttempts must be an integer 1-1000');
    if (merged.retryPolicy !== 'exponential' && merged.retryPolicy !== 'customized')
      fail('ILLEGAL_CONSUMER_GROUP', 'retryPolicy must be exponential or customized');
    if (merged.startFrom !== 'creation' && merged.startFrom !== 'earliest')
      fail('ILLEGAL_CONSUMER_GROUP', 'startFrom must be creation or earliest');
    if (typeof merged.fifo !== 'boolean') fail('ILLEGAL_CONSUMER_GROUP', 'fifo must be a boolean');
    if (existing) existing.config = merged;
    else this.groups.set(name, { name, config: merged, createdSeq: this.seq });
    this.changes.reshaped();
    return { name, ...merged };
  }

  deleteGroup(name: string): boolean {
    if (!this.groups.delete(name)) return false;
    this.changes.reshaped();
    for (const key of [...this.cursors.keys()]) if (key.startsWith(`${name}\n`)) this.cursors.delete(key);
    for (const key of [...this.consumerOffsets.keys()])
      if (key.startsWith(`${name}\n`)) this.consumerOffsets.delete(key);
    return true;
  }

  getGroup(name: string): GroupInfo | undefined {
    const group = this.groups.get(name);
    return group && { name, ...group.config };
  }

  listGroups(): GroupInfo[] {
    return [...this.groups.values()].map((g) => ({ name: g.name, ...g.config }));
  }

  /** Every message stored in a topic (bodies included), for tests and inspection. */
  messages(topic: string): readonly StoredMessage[] {
    return this.topics.get(topic)?.messages ?? [];
  }

  /** A Remoting consumer group's committed offset in one queue, if any. */
  consumerOffset(group: string, topic: string, queueId: number): number | undefined {
    return this.consumerOffsets.get(offsetKey(group, topic, queueId));
  }

  /** Store a Remoting consumer offset (journaled with `--state`, like the gRPC cursors). */
  commitConsumerOffset(group: string, topic: string, queueId: number, offset: number): void {
    const key = offsetKey(group, topic, queueId);
    if (this.consumerOffsets.get(key) === offset) return;
    this.consumerOffsets.set(key, offset);
    this.changes.changed(`o\n${key}`);
  }

  /**
   * Calls `listener` with a topic's name when the topic is deleted, and with undefined when every
   * log is replaced (restore), so an index derived from the logs can let go of their messages.
   * Returns the unsubscribe.
   */
  onTopicDropped(listener: (topic: string | undefined) => void): () => void {
    this.dropListeners.add(listener);
    return () => this.dropListeners.delete(listener);
  }

  /** Listeners registered with onTopicDropped (diagnostics and tests). */
  get topicDropListeners(): number {
    return this.dropListeners.size;
  }

  /** How many half messages the periodic orphan check walks: those still prepared (for tests). */
  get preparedTransactionCount(): number {
    return this.preparedTransactions.size;
  }

  /** Tells the onTopicDropped listeners that `topic`'s log is gone (undefined: every log). */
  protected topicsDropped(topic: string | undefined): void {
    for (const listener of this.dropListeners) listener(topic);
  }

  // ---- lookups -----------------------------------------------------------------------------

  /** The topic, auto-created when allowed; else TOPIC_NOT_FOUND as the proxy answers. */
  requireTopic(name: string): Topic {
    const topic = this.topics.get(name);
    if (topic) return topic;
    if (!this.autoCreate)
      fail('TOPIC_NOT_FOUND', `No topic route info in name server for the topic: ${name}`);
    this.createTopic(name, DEFAULT_TOPIC);
    return this.topics.get(name)!;
  }

  requireGroup(name: string): Group {
    const group = this.groups.get(name);
    if (group) return group;
    if (!this.autoCreate) fail('CONSUMER_GROUP_NOT_FOUND', `consumer group ${name} does not exist`);
    this.createGroup(name);
    return this.groups.get(name)!;
  }

  existingTopic(name: string): Topic {
    return this.topics.get(name) ?? fail('TOPIC_NOT_FOUND', `topic ${name} does not exist`);
  }

  existingGroup(name: string): Group {
    return this.groups.get(name) ?? fail('CONSUMER_GROUP_NOT_FOUND', `consumer group ${name} does not exist`);
  }

  // ---- internals ------------------------------------------------------------------------

  protected topicInfo(t: Topic): TopicInfo {
    return { name: t.name, type: t.config.type, queues: t.config.queues, messages: t.messages.length };
  }

  protected cursor(group: Group, topic: Topic): Cursor {
    const key = cursorKey(group.name, topic.name);
    let cursor = this.cursors.get(key);
    if (cursor === undefined) {
      let low = 0;
      if (group.config.startFrom === 'creation') {
        while (low < topic.messages.length && topic.messages[low]!.seq <= group.createdSeq) low++;
      }
      cursor = { group: group.name, topic: topic.name, low, deliveries: new Map() };
      this.cursors.set(key, cursor);
    }
    return cursor;
  }

  /** Move `low` past finished offsets and forget their delivery records. */
  protected advance(cursor: Cursor, topic: Topic): void {
    while (cursor.low < topic.messages.length && cursor.deliveries.get(cursor.low)?.done) {
      cursor.deliveries.delete(cursor.low);
      cursor.low++;
    }
  }

  protected finish(cursor: Cursor, offset: number): void {
    this.cursorChanged(cursor);
    const delivery = cursor.deliveries.get(offset);
    if (delivery) {
      delivery.done = true;
      delete delivery.handle;
    } else cursor.deliveries.set(offset, { attempts: 0, visibleAt: 0, done: true });
  }

  protected newHandle(offset: number): string {
    return `${offset.toString(36)}_${(++this.handleSeq).toString(36)}_${randomBytes(6).toString('hex')}`;
  }

  protected newId(): string {
    return randomBytes(16).toString('hex').toUpperCase();
  }

  /** Index a stored message's transaction id; a half message is on the orphan check's list while prepared. */
  protected indexTransaction(topic: string, message: StoredMessage): void {
    const id = message.transactionId;
    if (id === undefined) return;
    this.transactions.set(id, { topic, offset: message.offset });
    if (message.tx === 'prepared') this.preparedTransactions.add(id);
    else this.preparedTransactions.delete(id);
  }

  protected messageChanged(topic: string, message: StoredMessage): void {
    this.changes.changed(`m\n${topic}\n${message.offset}`);
  }

  protected cursorChanged(cursor: Cursor | undefined): void {
    if (cursor !== undefined) this.changes.changed(`c\n${cursorKey(cursor.group, cursor.topic)}`);
  }

  protected notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export function parseHandleOffset(handle: string): number | undefined {
  const m = /^([0-9a-z]{1,11})_[0-9a-z]+_[0-9a-f]{12}$/.exec(handle);
  if (!m) return undefined;
  const n = Number.parseInt(m[1]!, 36);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
