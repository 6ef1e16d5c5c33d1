// The RocketMQ engine: topics (one append-only log each), consumer groups, and POP-style
// consumption per (group, topic) — receive makes messages invisible for a while, ack finishes
// them, expiry makes them visible again with delivery_attempt + 1, and after the group's maximum
// attempts they move to `%DLQ%<group>`. Names here are full names (see names.ts); the gRPC service
// resolves namespaces before calling in. Also the in-process admin API for topics and groups.

import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../contracts.js';
import { type ChangeSink, type JournaledEngine, NO_CHANGES } from '../state/journal.js';
import { matches, type TagFilter } from './filter.js';
import {
  acceptedTypes,
  type Cursor,
  DEFAULT_GROUP,
  DEFAULT_TOPIC,
  type Delivery,
  type Group,
  type GroupConfig,
  type MessageType,
  type StoredMessage,
  TOPIC_TYPES,
  type Topic,
  type TopicConfig,
  type TxState,
} from './model.js';
import { dlqTopicOf } from './names.js';
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

export interface RocketMqSnapshot {
  readonly version: 1;
  readonly seq: number;
  readonly topics: readonly {
    name: string;
    config: TopicConfig;
    messages: readonly (Omit<StoredMessage, 'body'> & { body: string })[];
  }[];
  readonly groups: readonly { name: string; config: GroupConfig; createdSeq: number }[];
  readonly cursors: readonly {
    group: string;
    topic: string;
    low: number;
    deliveries: [number, Delivery][];
  }[];
}

const cursorKey = (group: string, topic: string) => `${group}\n${topic}`;
const MAX_RENEW_MS = 3 * 3600_000;
const RENEW_AHEAD_MS = 10_000;

export class RocketMqEngine implements JournaledEngine {
  readonly clock: Clock;
  /** Where message and cursor changes are reported for the `--state` journal. */
  changes: ChangeSink = NO_CHANGES;
  autoCreate: boolean;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly cursors = new Map<string, Cursor>();
  private readonly transactions = new Map<string, { topic: string; offset: number }>();
  private readonly waiters = new Set<() => void>();
  private seq = 0;
  private handleSeq = 0;
  private closed = false;

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
    for (const key of [...this.cursors.keys()]) if (key.endsWith(`\n${name}`)) this.cursors.delete(key);
    for (const [id, tx] of this.transactions) if (tx.topic === name) this.transactions.delete(id);
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

  // ---- protocol operations ---------------------------------------------------------------

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

  append(topicName: string, input: AppendInput): StoredMessage {
    const topic = this.requireTopic(topicName);
    if (!acceptedTypes(topic.config.type).includes(input.type)) {
      fail(
        'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE',
        `current message type ${input.type} does not match topic ${topicName} type ${topic.config.type}`,
      );
    }
    const now = this.clock.now();
    const transactionId = input.type === 'TRANSACTION' ? this.newId() : undefined;
    const message: StoredMessage = {
      offset: topic.messages.length,
      seq: ++this.seq,
      messageId: input.messageId,
      type: input.type,
      ...(input.tag !== undefined ? { tag: input.tag } : {}),
      keys: [...(input.keys ?? [])],
      ...(input.messageGroup !== undefined ? { messageGroup: input.messageGroup } : {}),
      body: input.body,
      properties: { ...input.properties },
      bornTimestamp: input.bornTimestamp ?? now,
      bornHost: input.bornHost ?? '',
      storeTimestamp: now,
      ...(input.deliveryTimestamp !== undefined ? { deliveryTimestamp: input.deliveryTimestamp } : {}),
      ...(transactionId !== undefined ? { transactionId, tx: 'prepared' as TxState, txChecks: 0 } : {}),
      ...(input.deadLetter !== undefined ? { deadLetter: input.deadLetter } : {}),
    };
    topic.messages.push(message);
    this.messageChanged(topicName, message);
    if (transactionId !== undefined)
      this.transactions.set(transactionId, { topic: topicName, offset: message.offset });
    this.notify();
    return message;
  }

  endTransaction(
    topicName: string,
    transactionId: string,
    messageId: string,
    resolution: 'COMMIT' | 'ROLLBACK',
  ): void {
    const entry = this.transactions.get(transactionId);
    const message =
      entry && entry.topic === topicName ? this.topics.get(topicName)?.messages[entry.offset] : undefined;
    if (message === undefined || (messageId !== '' && message.messageId !== messageId)) {
      fail(
        'INVALID_TRANSACTION_ID',
        `no half message with transaction id ${transactionId} in topic ${topicName}`,
      );
    }
    const target: TxState = resolution === 'COMMIT' ? 'committed' : 'rolledback';
    if (message.tx === target) return;
    if (message.tx !== 'prepared')
      fail('INVALID_TRANSACTION_ID', `transaction ${transactionId} already ended`);
    message.tx = target;
    this.messageChanged(topicName, message);
    this.notify();
  }

  /** Half messages older than `ageMs` whose last check is due; each call counts one check. */
  dueTransactionChecks(ageMs: number, maxChecks: number): { topic: string; message: StoredMessage }[] {
    const now = this.clock.now();
    const due: { topic: string; message: StoredMessage }[] = [];
    for (const [, entry] of this.transactions) {
      const message = this.topics.get(entry.topic)?.messages[entry.offset];
      if (message?.tx !== 'prepared') continue;
      const checks = message.txChecks ?? 0;
      if (now - message.storeTimestamp < ageMs * (checks + 1)) continue;
      if (checks >= maxChecks) {
        // The broker gives up on a half message after transactionCheckMax checks: rolled back.
        message.tx = 'rolledback';
        this.messageChanged(entry.topic, message);
        continue;
      }
      message.txChecks = checks + 1;
      this.messageChanged(entry.topic, message);
      due.push({ topic: entry.topic, message });
    }
    return due;
  }

  /**
   * Pop up to `max` visible messages for a group. Also returns when the next hidden message
   * (delayed or invisible) becomes visible, so a long poll knows when to look again.
   */
  receive(
    groupName: string,
    topicName: string,
    filter: TagFilter,
    options: ReceiveOptions,
  ): { delivered: Delivered[]; nextAt: number } {
    const group = this.requireGroup(groupName);
    const topic = this.requireTopic(topicName);
    const cursor = this.cursor(group, topic);
    const now = this.clock.now();
    const delivered: Delivered[] = [];
    const blocked = new Set<string>();
    let nextAt = Number.POSITIVE_INFINITY;
    this.advance(cursor, topic);
    for (
      let offset = cursor.low;
      offset < topic.messages.length && delivered.length < options.max;
      offset++
    ) {
      const message = topic.messages[offset]!;
      const delivery = cursor.deliveries.get(offset);
      if (delivery?.done) continue;
      if (message.tx === 'rolledback') {
        this.finish(cursor, offset);
        continue;
      }
      if (message.tx === 'prepared') continue;
      if (message.deliveryTimestamp !== undefined && message.deliveryTimestamp > now) {
        nextAt = Math.min(nextAt, message.deliveryTimestamp);
        continue;
      }
      // The broker acks filtered-out messages for the group: the consumer never sees them.
      if (!matches(filter, message.tag)) {
        this.finish(cursor, offset);
        continue;
      }
      const orderKey = group.config.fifo && message.messageGroup ? message.messageGroup : undefined;
      if (orderKey !== undefined && blocked.has(orderKey)) continue;
      if (delivery && delivery.visibleAt > now) {
        nextAt = Math.min(nextAt, delivery.visibleAt);
        // An in-flight message holds back the rest of its message group on a FIFO group.
        if (orderKey !== undefined) blocked.add(orderKey);
        continue;
      }
      if (delivery && delivery.attempts >= group.config.maxDeliveryAttempts) {
        this.deadLetter(group, topicName, message);
        this.finish(cursor, offset);
        continue;
      }
      const handle = this.newHandle(offset);
      const attempt = (delivery?.attempts ?? 0) + 1;
      cursor.deliveries.set(offset, {
        attempts: attempt,
        visibleAt: now + options.invisibleMs,
        handle,
        done: false,
        ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
        ...(options.autoRenew ? { autoRenew: true, renewUntil: now + MAX_RENEW_MS } : {}),
      });
      delivered.push({ message, handle, attempt, invisibleMs: options.invisibleMs });
    }
    this.advance(cursor, topic);
    this.cursorChanged(cursor);
    return { delivered, nextAt };
  }

  ack(groupName: string, topicName: string, handle: string): StoredMessage {
    const { cursor, offset, message } = this.current(groupName, topicName, handle);
    this.finish(cursor, offset);
    this.notify();
    return message;
  }

  /** New invisibility from now; the old handle dies and a new one is returned. */
  changeInvisibleDuration(groupName: string, topicName: string, handle: string, invisibleMs: number): string {
    const { delivery, offset } = this.current(groupName, topicName, handle);
    const next = this.newHandle(offset);
    delivery.handle = next;
    delivery.visibleAt = this.clock.now() + invisibleMs;
    delivery.autoRenew = false;
    this.cursorChanged(this.cursors.get(cursorKey(groupName, topicName)));
    this.notify();
    return next;
  }

  forwardToDeadLetter(groupName: string, topicName: string, handle: string): StoredMessage {
    const { cursor, offset, message, group } = this.current(groupName, topicName, handle);
    this.deadLetter(group, topicName, message);
    this.finish(cursor, offset);
    this.notify();
    return message;
  }

  /**
   * Dead-letter expired messages that used up their attempts, without waiting for their group to
   * poll again (the broker's revive does this in the background). Run periodically by the server.
   */
  reviveExpired(): number {
    const now = this.clock.now();
    let moved = 0;
    for (const cursor of this.cursors.values()) {
      const group = this.groups.get(cursor.group);
      const topic = this.topics.get(cursor.topic);
      if (!group || !topic) continue;
      for (const [offset, delivery] of cursor.deliveries) {
        if (delivery.done || delivery.visibleAt > now || delivery.attempts < group.config.maxDeliveryAttempts)
          continue;
        const message = topic.messages[offset];
        if (message === undefined) continue;
        this.deadLetter(group, topic.name, message);
        this.finish(cursor, offset);
        moved++;
      }
    }
    return moved;
  }

  /**
   * Keep auto-renew (PushConsumer) deliveries invisible while their client is connected, as the
   * proxy renews them shortly before they expire. Run periodically by the server.
   */
  renewHeld(connected: (clientId: string) => boolean, invisibleMs: number): void {
    const now = this.clock.now();
    for (const cursor of this.cursors.values()) {
      for (const d of cursor.deliveries.values()) {
        if (d.done || !d.autoRenew || d.clientId === undefined || d.visibleAt <= now) continue;
        if (d.visibleAt - now > RENEW_AHEAD_MS || (d.renewUntil ?? 0) <= now) continue;
        if (!connected(d.clientId)) continue;
        d.visibleAt = Math.min(now + invisibleMs, d.renewUntil ?? now);
        this.cursorChanged(cursor);
      }
    }
  }

  /** A client said goodbye: what it held with auto-renew (push consumers) is visible again now. */
  releaseClient(clientId: string): void {
    const now = this.clock.now();
    let released = false;
    for (const cursor of this.cursors.values()) {
      for (const delivery of cursor.deliveries.values()) {
        if (
          !delivery.done &&
          delivery.autoRenew &&
          delivery.clientId === clientId &&
          delivery.visibleAt > now
        ) {
          delivery.visibleAt = now;
          released = true;
          this.cursorChanged(cursor);
        }
      }
    }
    if (released) this.notify();
  }

  /** Long polls waiting for a change right now, so a test can act once a poll is really waiting. */
  get pendingPolls(): number {
    return this.waiters.size;
  }

  /** Resolves on the next change, after `ms`, on abort, or when the engine closes. */
  waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wake every long poll for good (stop()). */
  close(): void {
    this.closed = true;
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- state ----------------------------------------------------------------------------------

  snapshot(): RocketMqSnapshot {
    return {
      version: 1,
      seq: this.seq,
      topics: [...this.topics.values()].map((t) => ({
        name: t.name,
        config: t.config,
        messages: t.messages.map((m) => ({ ...m, body: m.body.toString('base64') })),
      })),
      groups: [...this.groups.values()].map((g) => ({
        name: g.name,
        config: g.config,
        createdSeq: g.createdSeq,
      })),
      cursors: [...this.cursors.entries()].map(([key, c]) => {
        const [group = '', topic = ''] = key.split('\n');
        return { group, topic, low: c.low, deliveries: [...c.deliveries.entries()] };
      }),
    };
  }

  restore(snapshot: RocketMqSnapshot): void {
    this.topics.clear();
    this.groups.clear();
    this.cursors.clear();
    this.transactions.clear();
    this.seq = snapshot.seq;
    for (const t of snapshot.topics) {
      const messages: StoredMessage[] = t.messages.map((m) => ({
        ...m,
        body: Buffer.from(m.body, 'base64'),
      }));
      this.topics.set(t.name, { name: t.name, config: t.config, messages });
      for (const m of messages) {
        if (m.transactionId !== undefined)
          this.transactions.set(m.transactionId, { topic: t.name, offset: m.offset });
      }
    }
    for (const g of snapshot.groups)
      this.groups.set(g.name, { name: g.name, config: g.config, createdSeq: g.createdSeq });
    for (const c of snapshot.cursors) {
      this.cursors.set(cursorKey(c.group, c.topic), {
        group: c.group,
        topic: c.topic,
        low: c.low,
        deliveries: new Map(c.deliveries),
      });
    }
  }

  /** Journal record of `m\n<topic>\n<offset>` (one message) or `c\n<group>\n<topic>` (a cursor). */
  record(unit: string): unknown {
    const [kind, a = '', b = ''] = unit.split('\n');
    if (kind === 'm') {
      const m = this.topics.get(a)?.messages[Number(b)];
      return m === undefined ? null : { ...m, body: m.body.toString('base64') };
    }
    const c = this.cursors.get(cursorKey(a, b));
    return c === undefined ? null : { low: c.low, deliveries: [...c.deliveries] };
  }

  apply(unit: string, record: unknown): void {
    const [kind, a = '', b = ''] = unit.split('\n');
    if (record === null) return;
    if (kind === 'm') {
      const topic = this.topics.get(a);
      const m = record as RocketMqSnapshot['topics'][number]['messages'][number];
      if (topic === undefined || m.offset > topic.messages.length) return;
      const message: StoredMessage = { ...m, body: Buffer.from(m.body, 'base64') };
      topic.messages[m.offset] = message;
      if (m.transactionId !== undefined)
        this.transactions.set(m.transactionId, { topic: a, offset: m.offset });
      this.seq = Math.max(this.seq, m.seq);
      return;
    }
    if (!this.groups.has(a) || !this.topics.has(b)) return;
    const c = record as { low: number; deliveries: [number, Delivery][] };
    this.cursors.set(cursorKey(a, b), { group: a, topic: b, low: c.low, deliveries: new Map(c.deliveries) });
  }

  inspect(): unknown {
    const now = this.clock.now();
    return {
      autoCreate: this.autoCreate,
      topics: this.listTopics(),
      groups: this.listGroups().map((g) => {
        const progress: Record<string, { inflight: number; done: number; pending: number }> = {};
        for (const [key, cursor] of this.cursors) {
          const [group = '', topic = ''] = key.split('\n');
          if (group !== g.name) continue;
          let inflight = 0;
          let done = 0;
          for (const d of cursor.deliveries.values()) {
            if (d.done) done++;
            else if (d.visibleAt > now) inflight++;
          }
          const total = this.topics.get(topic)?.messages.length ?? 0;
          // Offsets below `low` are finished (or predate the group); their records are dropped.
          progress[topic] = {
            inflight,
            done: cursor.low + done,
            pending: Math.max(0, total - cursor.low - done - inflight),
          };
        }
        return { ...g, progress };
      }),
    };
  }

  // ---- internals ------------------------------------------------------------------------

  private topicInfo(t: Topic): TopicInfo {
    return { name: t.name, type: t.config.type, queues: t.config.queues, messages: t.messages.length };
  }

  private cursor(group: Group, topic: Topic): Cursor {
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
  private advance(cursor: Cursor, topic: Topic): void {
    while (cursor.low < topic.messages.length && cursor.deliveries.get(cursor.low)?.done) {
      cursor.deliveries.delete(cursor.low);
      cursor.low++;
    }
  }

  private finish(cursor: Cursor, offset: number): void {
    this.cursorChanged(cursor);
    const delivery = cursor.deliveries.get(offset);
    if (delivery) {
      delivery.done = true;
      delete delivery.handle;
    } else cursor.deliveries.set(offset, { attempts: 0, visibleAt: 0, done: true });
  }

  private current(groupName: string, topicName: string, handle: string) {
    const group = this.existingGroup(groupName);
    const topic = this.existingTopic(topicName);
    const offset = parseHandleOffset(handle);
    const cursor = this.cursors.get(cursorKey(group.name, topic.name));
    const delivery = offset === undefined ? undefined : cursor?.deliveries.get(offset);
    const message = offset === undefined ? undefined : topic.messages[offset];
    if (
      cursor === undefined ||
      offset === undefined ||
      delivery === undefined ||
      message === undefined ||
      delivery.done ||
      delivery.handle !== handle
    ) {
      fail('INVALID_RECEIPT_HANDLE', 'receipt handle is invalid or was already used');
    }
    if (delivery.visibleAt <= this.clock.now()) fail('INVALID_RECEIPT_HANDLE', 'receipt handle is expired');
    return { group, topic, cursor, offset, delivery, message };
  }

  private deadLetter(group: Group, topicName: string, message: StoredMessage): void {
    const dlq = dlqTopicOf(group.name);
    if (!this.topics.has(dlq)) this.createTopic(dlq, { type: 'MIXED', queues: 1 });
    this.append(dlq, {
      messageId: message.messageId,
      // Dead letters are plain messages whatever they were; the DLQ accepts them all.
      type: 'NORMAL',
      ...(message.tag !== undefined ? { tag: message.tag } : {}),
      keys: message.keys,
      ...(message.messageGroup !== undefined ? { messageGroup: message.messageGroup } : {}),
      body: message.body,
      properties: message.properties,
      bornTimestamp: message.bornTimestamp,
      bornHost: message.bornHost,
      deadLetter: { topic: topicName, messageId: message.messageId },
    });
  }

  private newHandle(offset: number): string {
    return `${offset.toString(36)}_${(++this.handleSeq).toString(36)}_${randomBytes(6).toString('hex')}`;
  }

  private newId(): string {
    return randomBytes(16).toString('hex').toUpperCase();
  }

  private messageChanged(topic: string, message: StoredMessage): void {
    this.changes.changed(`m\n${topic}\n${message.offset}`);
  }

  private cursorChanged(cursor: Cursor | undefined): void {
    if (cursor !== undefined) this.changes.changed(`c\n${cursorKey(cursor.group, cursor.topic)}`);
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

function parseHandleOffset(handle: string): number | undefined {
  const m = /^([0-9a-z]{1,11})_[0-9a-z]+_[0-9a-f]{12}$/.exec(handle);
  if (!m) return undefined;
  const n = Number.parseInt(m[1]!, 36);
  return Number.isSafeInteger(n) ? n : undefined;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
