// The CMQ engine: queues, topics and subscriptions with the semantics of protocols/cmq.md §5–§7.
// It knows nothing about HTTP: the CMQ HTTP handler and the Tencent Cloud API handler both call it,
// so both wire protocols share one state. Every failure is a CmqError carrying the CMQ code.

import { setMaxListeners } from 'node:events';
import { type Clock, systemClock } from '../contracts.js';
import { mulberry32, type Random } from '../faults/prng.js';
import { type ChangeSink, type JournaledEngine, NO_CHANGES } from '../state/journal.js';
import { cmqErrors } from './errors.js';
import { HttpPusher } from './push.js';
import { CmqQueue, type Eviction, type MessageSnapshot, type StoredMessage } from './queue.js';
import { routingMatch, tagsMatch } from './routing.js';
import type {
  BatchDeleteFailure,
  DeadLetterPolicy,
  ListOptions,
  NotifyContentFormat,
  NotifyStrategy,
  PublishOptions,
  QueueAttributes,
  QueueSettings,
  QueueSettingsInput,
  ReceivedMessage,
  ReceiveOptions,
  SubscriptionAttributes,
  SubscriptionInput,
  SubscriptionUpdate,
  TopicAttributes,
  TopicSettings,
} from './types.js';

export interface CmqEngineOptions {
  readonly clock?: Clock;
  /** Seeds ids and push jitter so runs repeat. */
  readonly seed?: number;
  /** Reply 6030 when a publish reaches no subscription (documented; TDMQ behaviour uncertain). Default true. */
  readonly strictPublish?: boolean;
  /** Seconds during which a deleted name cannot be reused (6040/10660). Default 10; 0 disables. */
  readonly recreateGuardSeconds?: number;
  /** Multiplies http push retry intervals (1 = real 10–20 s / 2^n s). Default 1. */
  readonly pushRetryScale?: number;
  /** Per-attempt http push timeout. Default 15000. */
  readonly pushTimeoutMs?: number;
  /** TopicOwner shown in JSON push bodies. */
  readonly appId?: number;
  readonly maxQueues?: number;
  readonly maxTopics?: number;
}

export const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
const MAX_BATCH = 16;
const MAX_BATCH_BYTES = 1024 * 1024;
const MAX_TAGS = 5;
const MAX_TAG_LENGTH = 16;
const MAX_KEY_BYTES = 64;
const MAX_KEY_DOTS = 15;
const TOPIC_RETENTION_SECONDS = 86400;
const MAX_SUBSCRIPTIONS = 100;

export const DEFAULT_QUEUE_SETTINGS: Readonly<QueueSettings> = {
  maxMsgHeapNum: 10_000_000,
  pollingWaitSeconds: 0,
  visibilityTimeout: 30,
  maxMsgSize: 65536,
  msgRetentionSeconds: 345600,
  rewindSeconds: 0,
  deadLetterPolicy: null,
};

interface Subscription {
  readonly subscriptionId: string;
  readonly subscriptionName: string;
  readonly protocol: 'http' | 'queue';
  readonly endpoint: string;
  notifyStrategy: NotifyStrategy;
  notifyContentFormat: NotifyContentFormat;
  filterTags: string[];
  bindingKeys: string[];
  readonly createAt: number;
  modifyAt: number;
  msgCount: number;
}

interface Topic {
  readonly topicId: string;
  readonly topicName: string;
  settings: TopicSettings;
  readonly createAt: number;
  modifyAt: number;
  publishTimes: number[];
  readonly subscriptions: Map<string, Subscription>;
}

export interface CmqSnapshot {
  readonly version: 1;
  readonly counters: { seq: number; handle: number; id: number };
  readonly queues: Array<{
    queueId: string;
    queueName: string;
    settings: QueueSettings;
    createAt: number;
    modifyAt: number;
    live: MessageSnapshot[];
    archive: MessageSnapshot[];
  }>;
  readonly topics: Array<{
    topicId: string;
    topicName: string;
    settings: TopicSettings;
    createAt: number;
    modifyAt: number;
    publishTimes: number[];
    subscriptions: Subscription[];
  }>;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);
const key = (name: string): string => name.toLowerCase();

export class CmqEngine implements JournaledEngine {
  readonly clock: Clock;
  /**
   * Where changes are reported for the `--state` journal: messages as units, everything else
   * (queues, topics, subscriptions, settings) as reshaped, so a direct engine call is as durable as
   * the same change made over the wire.
   */
  changes: ChangeSink = NO_CHANGES;
  private readonly queues = new Map<string, CmqQueue>();
  private readonly topics = new Map<string, Topic>();
  private readonly deletedQueues = new Map<string, number>();
  private readonly deletedTopics = new Map<string, number>();
  private readonly random: Random;
  private readonly pusher: HttpPusher;
  private readonly stop = new AbortController();
  private readonly strictPublish: boolean;
  private readonly recreateGuardMs: number;
  private readonly maxQueues: number;
  private readonly maxTopics: number;
  private readonly appId: number;
  private seq = 0;
  private handleSeq = 0;
  private idSeq = 0;
  private readonly hooks = {
    newReceiptHandle: () => String(++this.handleSeq + 1_000_000_000),
    evicted: (queue: CmqQueue, message: StoredMessage, why: Eviction) => this.evicted(queue, message, why),
    changed: (queue: CmqQueue, message: StoredMessage) => {
      this.changes.changed(`m:${key(queue.queueName)}:${message.seq}`);
      // Message ids and receipt handles come from the counters: a replay must not hand them out again.
      this.changes.changed('counters');
    },
    reshaped: () => this.changes.reshaped(),
  };

  constructor(options: CmqEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    // Every waiting receive listens for close(); that is not a leak.
    setMaxListeners(0, this.stop.signal);
    this.random = mulberry32(options.seed ?? 0x5eed);
    this.strictPublish = options.strictPublish ?? true;
    this.recreateGuardMs = (options.recreateGuardSeconds ?? 10) * 1000;
    this.maxQueues = options.maxQueues ?? 1000;
    this.maxTopics = options.maxTopics ?? 1000;
    this.appId = options.appId ?? 1250000000;
    this.pusher = new HttpPusher({
      topicOwner: this.appId,
      retryScale: options.pushRetryScale ?? 1,
      timeoutMs: options.pushTimeoutMs ?? 15_000,
      random: this.random,
    });
  }

  // ---------------------------------------------------------------- queues

  /** Create a queue (names are unique case-insensitively). Throws 4460 if it exists, 4000/10020 on a bad name. */
  createQueue(queueName: string, settings: QueueSettingsInput = {}): { queueId: string } {
    if (!NAME_PATTERN.test(queueName)) throw cmqErrors.queueNameFormat();
    const k = key(queueName);
    if (this.queues.has(k)) throw cmqErrors.queueExisted();
    this.checkRecreate(this.deletedQueues, k);
    if (this.queues.size >= this.maxQueues) throw cmqErrors.queueLimit();
    const merged = this.validateQueueSettings({ ...DEFAULT_QUEUE_SETTINGS, ...stripUndefined(settings) }, k);
    const now = this.clock.now();
    const queue = new CmqQueue(this.newId('queue'), queueName, merged, now, now, this.hooks);
    this.queues.set(k, queue);
    this.changes.reshaped();
    return { queueId: queue.queueId };
  }

  /** Delete a queue and its messages; waiting receives on it return empty. Throws 4440 if missing. */
  deleteQueue(queueName: string): void {
    const queue = this.queue(queueName);
    queue.deleted = true;
    queue.wake();
    this.queues.delete(key(queueName));
    this.deletedQueues.set(key(queueName), this.clock.now());
    this.changes.reshaped();
  }

  /** ListQueue: fuzzy `searchWord`, SQL-like offset/limit; totalCount counts all matches. */
  listQueues(options: ListOptions = {}): {
    totalCount: number;
    queueList: Array<{ queueId: string; queueName: string }>;
  } {
    const matches = [...this.queues.values()].filter((q) => matchesSearch(q.queueName, options.searchWord));
    const page = paginate(matches, options);
    return {
      totalCount: matches.length,
      queueList: page.map((q) => ({ queueId: q.queueId, queueName: q.queueName })),
    };
  }

  /** Current settings plus message counts. Throws 4440 if missing. */
  getQueueAttributes(queueName: string): QueueAttributes {
    const queue = this.queue(queueName);
    const now = this.clock.now();
    const counts = queue.counts(now);
    return {
      ...queue.settings,
      queueId: queue.queueId,
      queueName: queue.queueName,
      createTime: seconds(queue.createAt),
      lastModifyTime: seconds(queue.modifyAt),
      activeMsgNum: counts.active,
      inactiveMsgNum: counts.inactive,
      delayMsgNum: counts.delayed,
      rewindMsgNum: counts.rewindable,
      minMsgTime: seconds(counts.minEnqueueAt),
    };
  }

  /** Change any subset of the queue settings; returns the new attributes. */
  setQueueAttributes(queueName: string, settings: QueueSettingsInput): QueueAttributes {
    const queue = this.queue(queueName);
    queue.settings = this.validateQueueSettings(
      { ...queue.settings, ...stripUndefined(settings) },
      key(queueName),
    );
    queue.modifyAt = this.clock.now();
    this.changes.reshaped();
    return this.getQueueAttributes(queueName);
  }

  /** Make messages produced since `startConsumeTime` (Unix s) consumable again. Needs rewindSeconds > 0. */
  rewindQueue(queueName: string, startConsumeTime: number): { rewoundCount: number } {
    const queue = this.queue(queueName);
    if (queue.settings.rewindSeconds <= 0) throw cmqErrors.cannotRewind();
    const now = this.clock.now();
    const startAt = startConsumeTime * 1000;
    if (
      !Number.isFinite(startAt) ||
      startAt > now ||
      startAt < now - queue.settings.rewindSeconds * 1000 - 1000
    ) {
      throw cmqErrors.invalidRewindTime();
    }
    return { rewoundCount: queue.rewind(startAt, now) };
  }

  /** Delete every message of a queue (ClearCmqQueue); settings stay. Returns how many were dropped. */
  clearQueue(queueName: string): { clearedCount: number } {
    return { clearedCount: this.queue(queueName).clear() };
  }

  // ---------------------------------------------------------------- messages

  /** Enqueue one message, visible after `delaySeconds`. Throws 4000/10120, 4400, 4410, 4440. */
  sendMessage(queueName: string, body: string, options: { delaySeconds?: number } = {}): { msgId: string } {
    const [result] = this.sendMessages(queueName, [body], options);
    return result!;
  }

  /** Enqueue 1–16 messages atomically (all validated first). */
  sendMessages(
    queueName: string,
    bodies: readonly string[],
    options: { delaySeconds?: number } = {},
  ): Array<{ msgId: string }> {
    const queue = this.queue(queueName);
    if (bodies.length < 1 || bodies.length > MAX_BATCH) throw cmqErrors.batchSize('msgBody');
    const delaySeconds = options.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 6_048_000) {
      throw cmqErrors.outOfRange('delaySeconds');
    }
    let total = 0;
    for (const body of bodies) {
      if (body.length === 0) throw cmqErrors.emptyBody();
      const size = Buffer.byteLength(body);
      if (size > queue.settings.maxMsgSize) throw cmqErrors.msgTooLarge();
      total += size;
    }
    if (bodies.length > 1 && total > MAX_BATCH_BYTES) throw cmqErrors.totalTooLarge();
    if (queue.size + bodies.length > queue.settings.maxMsgHeapNum) throw cmqErrors.heapFull();
    const now = this.clock.now();
    return bodies.map((body) => ({ msgId: this.enqueue(queue, body, now, now + delaySeconds * 1000) }));
  }

  /**
   * Receive up to `max` (default 1) messages. Returns at once when any is visible, otherwise
   * long-polls up to `waitSeconds` (default: the queue's pollingWaitSeconds) and returns [] on expiry
   * (the wire reply for that is 7000). Each message stays invisible for the queue's visibilityTimeout.
   */
  async receiveMessages(queueName: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const queue = this.queue(queueName);
    const max = options.max ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) throw cmqErrors.outOfRange('numOfMsg');
    const waitSeconds = options.waitSeconds ?? queue.settings.pollingWaitSeconds;
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 30) {
      throw cmqErrors.outOfRange('pollingWaitSeconds');
    }
    const first = queue.take(this.clock.now(), max);
    if (first.length > 0 || waitSeconds === 0) return first;
    const deadline = performance.now() + waitSeconds * 1000;
    const signals = [this.stop.signal, ...(options.signal ? [options.signal] : [])];
    queue.polls++;
    try {
      while (!queue.deleted && !signals.some((s) => s.aborted)) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) break;
        const nextDue = queue.nextDueAt();
        const untilDue = nextDue === undefined ? remaining : Math.max(1, nextDue - this.clock.now());
        await waitFor(queue, Math.min(remaining, untilDue), signals);
        if (queue.deleted) break;
        const got = queue.take(this.clock.now(), max);
        if (got.length > 0) return got;
      }
      return [];
    } finally {
      queue.polls--;
    }
  }

  /**
   * Receives long-polling on `queueName` (0 for an unknown queue), so a test or a tool can act once a
   * poll is really waiting instead of guessing with a sleep.
   */
  pendingPolls(queueName: string): number {
    return this.queues.get(key(queueName))?.polls ?? 0;
  }

  /** Delete by the latest receipt handle while it is still in flight; else 4430 (4000/10470 if malformed). */
  deleteMessage(queueName: string, receiptHandle: string): void {
    const queue = this.queue(queueName);
    if (!isWellFormedHandle(receiptHandle)) throw cmqErrors.receiptHandleMalformed();
    if (!queue.delete(receiptHandle, this.clock.now())) throw cmqErrors.receiptHandleInvalid();
  }

  /** Delete up to 16 handles; returns the per-handle failures (empty = all deleted). */
  deleteMessages(queueName: string, receiptHandles: readonly string[]): BatchDeleteFailure[] {
    this.queue(queueName);
    if (receiptHandles.length < 1 || receiptHandles.length > MAX_BATCH)
      throw cmqErrors.batchSize('receiptHandle');
    const failures: BatchDeleteFailure[] = [];
    for (const receiptHandle of receiptHandles) {
      try {
        this.deleteMessage(queueName, receiptHandle);
      } catch (error) {
        const e = error as { code: number; message: string };
        failures.push({ receiptHandle, code: e.code, message: e.message });
      }
    }
    return failures;
  }

  // ---------------------------------------------------------------- topics

  /** Create a topic; filterType 1 = tags (default), 2 = routing keys. Throws 4460/10550 if it exists. */
  createTopic(
    topicName: string,
    settings: { maxMsgSize?: number; filterType?: number } = {},
  ): { topicId: string } {
    if (!NAME_PATTERN.test(topicName)) throw cmqErrors.topicNameFormat();
    const k = key(topicName);
    if (this.topics.has(k)) throw cmqErrors.topicExisted();
    this.checkRecreate(this.deletedTopics, k);
    if (this.topics.size >= this.maxTopics) throw cmqErrors.topicLimit();
    const filterType = settings.filterType ?? 1;
    if (filterType !== 1 && filterType !== 2) throw cmqErrors.outOfRange('filterType');
    const maxMsgSize = validateTopicSize(settings.maxMsgSize ?? 65536);
    const now = this.clock.now();
    const topic: Topic = {
      topicId: this.newId('topic'),
      topicName,
      settings: { maxMsgSize, filterType },
      createAt: now,
      modifyAt: now,
      publishTimes: [],
      subscriptions: new Map(),
    };
    this.topics.set(k, topic);
    this.changes.reshaped();
    return { topicId: topic.topicId };
  }

  /** Delete a topic; 4000/10540 while subscriptions exist. */
  deleteTopic(topicName: string): void {
    const topic = this.topic(topicName);
    if (topic.subscriptions.size > 0) throw cmqErrors.topicHasSubscriptions();
    this.topics.delete(key(topicName));
    this.deletedTopics.set(key(topicName), this.clock.now());
    this.changes.reshaped();
  }

  listTopics(options: ListOptions = {}): {
    totalCount: number;
    topicList: Array<{ topicId: string; topicName: string }>;
  } {
    const matches = [...this.topics.values()].filter((t) => matchesSearch(t.topicName, options.searchWord));
    return {
      totalCount: matches.length,
      topicList: paginate(matches, options).map((t) => ({ topicId: t.topicId, topicName: t.topicName })),
    };
  }

  getTopicAttributes(topicName: string): TopicAttributes {
    const topic = this.topic(topicName);
    return {
      topicId: topic.topicId,
      topicName: topic.topicName,
      msgCount: this.topicMsgCount(topic),
      maxMsgSize: topic.settings.maxMsgSize,
      msgRetentionSeconds: TOPIC_RETENTION_SECONDS,
      createTime: seconds(topic.createAt),
      lastModifyTime: seconds(topic.modifyAt),
      filterType: topic.settings.filterType,
    };
  }

  /** Only maxMsgSize can change; filterType is fixed at creation. */
  setTopicAttributes(topicName: string, settings: { maxMsgSize?: number }): TopicAttributes {
    const topic = this.topic(topicName);
    if (settings.maxMsgSize !== undefined) topic.settings.maxMsgSize = validateTopicSize(settings.maxMsgSize);
    topic.modifyAt = this.clock.now();
    this.changes.reshaped();
    return this.getTopicAttributes(topicName);
  }

  /**
   * Publish one message: queue subscriptions get the raw body enqueued at once, http subscriptions
   * get a push. Throws 6030/10650 (no subscription) or 6030/10730 (nothing matched) unless the
   * engine was built with strictPublish: false.
   */
  publishMessage(topicName: string, body: string, options: PublishOptions = {}): { msgId: string } {
    const [result] = this.publishMessages(topicName, [body], options);
    return result!;
  }

  /** Publish 1–16 messages sharing one tag set / routing key. */
  publishMessages(
    topicName: string,
    bodies: readonly string[],
    options: PublishOptions = {},
  ): Array<{ msgId: string }> {
    const topic = this.topic(topicName);
    if (bodies.length < 1 || bodies.length > MAX_BATCH) throw cmqErrors.batchSize('msgBody');
    let total = 0;
    for (const body of bodies) {
      if (body.length === 0) throw cmqErrors.emptyBody();
      const size = Buffer.byteLength(body);
      if (size > topic.settings.maxMsgSize) throw cmqErrors.msgTooLarge();
      total += size;
    }
    if (bodies.length > 1 && total > MAX_BATCH_BYTES) throw cmqErrors.totalTooLarge();
    const tags = [...(options.tags ?? [])];
    if (tags.length > MAX_TAGS) throw cmqErrors.tooManyMsgTags();
    if (tags.some((t) => t.length === 0 || t.length > MAX_TAG_LENGTH)) throw cmqErrors.outOfRange('msgTag');
    const routingKey = options.routingKey ?? '';
    if (topic.settings.filterType === 2) {
      if (routingKey === '') throw cmqErrors.lackRoutingKey();
      validateKey(routingKey, 'routingKey');
    }
    const subscriptions = [...topic.subscriptions.values()];
    const matched = subscriptions.filter((s) =>
      topic.settings.filterType === 2
        ? routingMatch(s.bindingKeys, routingKey)
        : tagsMatch(s.filterTags, tags),
    );
    if (this.strictPublish && subscriptions.length === 0) throw cmqErrors.noSubscription();
    if (this.strictPublish && matched.length === 0) throw cmqErrors.noMatch();
    const now = this.clock.now();
    return bodies.map((body) => {
      const msgId = this.newMsgId();
      topic.publishTimes.push(now);
      for (const sub of matched) {
        sub.msgCount++;
        this.deliver(topic, sub, { msgId, body, tags, publishAt: now });
      }
      return { msgId };
    });
  }

  // ---------------------------------------------------------------- subscriptions

  /** Subscribe a queue (raw body, SIMPLIFIED only) or an http endpoint to a topic. */
  subscribe(
    topicName: string,
    subscriptionName: string,
    input: SubscriptionInput,
  ): { subscriptionId: string } {
    const topic = this.topic(topicName);
    if (!NAME_PATTERN.test(subscriptionName)) throw cmqErrors.subscriptionNameFormat();
    if (topic.subscriptions.has(key(subscriptionName))) throw cmqErrors.subscriptionExisted();
    if (topic.subscriptions.size >= MAX_SUBSCRIPTIONS) throw cmqErrors.subscriptionLimit();
    if (input.protocol !== 'http' && input.protocol !== 'queue') throw cmqErrors.undefinedProtocol();
    if (input.protocol === 'http') validateHttpEndpoint(input.endpoint);
    else if (!NAME_PATTERN.test(input.endpoint)) throw cmqErrors.endpointFormat();
    else if (!this.queues.has(key(input.endpoint))) throw cmqErrors.illegalEndpoint();
    const notifyStrategy = parseStrategy(input.notifyStrategy ?? 'EXPONENTIAL_DECAY_RETRY');
    const notifyContentFormat = parseFormat(input.notifyContentFormat ?? 'JSON');
    if (input.protocol === 'queue' && notifyContentFormat !== 'SIMPLIFIED')
      throw cmqErrors.queueNeedsSimplified();
    const filterTags = validateFilterTags(input.filterTags ?? []);
    const bindingKeys = validateBindingKeys(input.bindingKeys ?? []);
    if (topic.settings.filterType === 2 && bindingKeys.length === 0) throw cmqErrors.lackBindingKey();
    const now = this.clock.now();
    const sub: Subscription = {
      subscriptionId: this.newId('subscription'),
      subscriptionName,
      protocol: input.protocol,
      endpoint: input.endpoint,
      notifyStrategy,
      notifyContentFormat,
      filterTags,
      bindingKeys,
      createAt: now,
      modifyAt: now,
      msgCount: 0,
    };
    topic.subscriptions.set(key(subscriptionName), sub);
    this.changes.reshaped();
    return { subscriptionId: sub.subscriptionId };
  }

  unsubscribe(topicName: string, subscriptionName: string): void {
    const topic = this.topic(topicName);
    if (!topic.subscriptions.delete(key(subscriptionName))) throw cmqErrors.subscriptionNotExisted();
    this.changes.reshaped();
  }

  listSubscriptions(
    topicName: string,
    options: ListOptions = {},
  ): {
    totalCount: number;
    subscriptionList: Array<{
      subscriptionId: string;
      subscriptionName: string;
      protocol: string;
      endpoint: string;
    }>;
  } {
    const topic = this.topic(topicName);
    const matches = [...topic.subscriptions.values()].filter((s) =>
      matchesSearch(s.subscriptionName, options.searchWord),
    );
    return {
      totalCount: matches.length,
      subscriptionList: paginate(matches, options).map((s) => ({
        subscriptionId: s.subscriptionId,
        subscriptionName: s.subscriptionName,
        protocol: s.protocol,
        endpoint: s.endpoint,
      })),
    };
  }

  getSubscriptionAttributes(topicName: string, subscriptionName: string): SubscriptionAttributes {
    const topic = this.topic(topicName);
    const sub = this.subscription(topic, subscriptionName);
    return {
      subscriptionId: sub.subscriptionId,
      subscriptionName: sub.subscriptionName,
      topicName: topic.topicName,
      topicOwner: String(this.appId),
      msgCount: sub.msgCount,
      protocol: sub.protocol,
      endpoint: sub.endpoint,
      notifyStrategy: sub.notifyStrategy,
      notifyContentFormat: sub.notifyContentFormat,
      filterTags: [...sub.filterTags],
      bindingKeys: [...sub.bindingKeys],
      createTime: seconds(sub.createAt),
      lastModifyTime: seconds(sub.modifyAt),
    };
  }

  setSubscriptionAttributes(
    topicName: string,
    subscriptionName: string,
    update: SubscriptionUpdate,
  ): SubscriptionAttributes {
    const topic = this.topic(topicName);
    const sub = this.subscription(topic, subscriptionName);
    const strategy =
      update.notifyStrategy !== undefined ? parseStrategy(update.notifyStrategy) : sub.notifyStrategy;
    const format =
      update.notifyContentFormat !== undefined
        ? parseFormat(update.notifyContentFormat)
        : sub.notifyContentFormat;
    if (sub.protocol === 'queue' && format !== 'SIMPLIFIED') throw cmqErrors.queueNeedsSimplified();
    const filterTags =
      update.filterTags !== undefined ? validateFilterTags(update.filterTags) : sub.filterTags;
    const bindingKeys =
      update.bindingKeys !== undefined ? validateBindingKeys(update.bindingKeys) : sub.bindingKeys;
    if (topic.settings.filterType === 2 && bindingKeys.length === 0) throw cmqErrors.lackBindingKey();
    sub.notifyStrategy = strategy;
    sub.notifyContentFormat = format;
    sub.filterTags = filterTags;
    sub.bindingKeys = bindingKeys;
    sub.modifyAt = this.clock.now();
    this.changes.reshaped();
    return this.getSubscriptionAttributes(topicName, subscriptionName);
  }

  clearSubscriptionFilterTags(topicName: string, subscriptionName: string): void {
    const sub = this.subscription(this.topic(topicName), subscriptionName);
    sub.filterTags = [];
    sub.modifyAt = this.clock.now();
    this.changes.reshaped();
  }

  // ---------------------------------------------------------------- state

  /** A JSON-friendly summary for `/_emulator/state`. */
  inspect(): unknown {
    const now = this.clock.now();
    return {
      queues: [...this.queues.values()].map((q) => {
        const c = q.counts(now);
        return {
          queueName: q.queueName,
          queueId: q.queueId,
          ...q.settings,
          activeMsgNum: c.active,
          inactiveMsgNum: c.inactive,
          delayMsgNum: c.delayed,
          rewindMsgNum: c.rewindable,
        };
      }),
      topics: [...this.topics.values()].map((t) => ({
        topicName: t.topicName,
        topicId: t.topicId,
        filterType: t.settings.filterType,
        maxMsgSize: t.settings.maxMsgSize,
        msgCount: this.topicMsgCount(t),
        subscriptions: [...t.subscriptions.values()].map((s) => ({
          subscriptionName: s.subscriptionName,
          protocol: s.protocol,
          endpoint: s.endpoint,
          notifyStrategy: s.notifyStrategy,
          notifyContentFormat: s.notifyContentFormat,
          filterTags: s.filterTags,
          bindingKeys: s.bindingKeys,
          msgCount: s.msgCount,
          ...(s.protocol === 'http'
            ? {
                push: {
                  ...this.pusher.statsFor({ topicName: t.topicName, subscriptionName: s.subscriptionName }),
                },
              }
            : {}),
        })),
      })),
    };
  }

  /** Everything needed to rebuild the engine (messages included); see restore(). */
  snapshot(): CmqSnapshot {
    return {
      version: 1,
      counters: { seq: this.seq, handle: this.handleSeq, id: this.idSeq },
      queues: [...this.queues.values()].map((q) => ({
        queueId: q.queueId,
        queueName: q.queueName,
        settings: q.settings,
        createAt: q.createAt,
        modifyAt: q.modifyAt,
        ...q.snapshot(),
      })),
      topics: [...this.topics.values()].map((t) => ({
        topicId: t.topicId,
        topicName: t.topicName,
        settings: t.settings,
        createAt: t.createAt,
        modifyAt: t.modifyAt,
        publishTimes: t.publishTimes,
        subscriptions: [...t.subscriptions.values()],
      })),
    };
  }

  /** Replace all state with a snapshot taken by snapshot(). */
  restore(snapshot: CmqSnapshot): void {
    if (snapshot.version !== 1)
      throw new Error(`unsupported CMQ snapshot version ${String(snapshot.version)}`);
    for (const q of this.queues.values()) {
      q.deleted = true;
      q.wake();
    }
    this.queues.clear();
    this.topics.clear();
    this.seq = snapshot.counters.seq;
    this.handleSeq = snapshot.counters.handle;
    this.idSeq = snapshot.counters.id;
    for (const s of snapshot.queues) {
      const queue = new CmqQueue(
        s.queueId,
        s.queueName,
        { ...s.settings },
        s.createAt,
        s.modifyAt,
        this.hooks,
      );
      queue.restore(s.live, s.archive);
      this.queues.set(key(s.queueName), queue);
    }
    for (const s of snapshot.topics) {
      this.topics.set(key(s.topicName), {
        topicId: s.topicId,
        topicName: s.topicName,
        settings: { ...s.settings },
        createAt: s.createAt,
        modifyAt: s.modifyAt,
        publishTimes: [...s.publishTimes],
        subscriptions: new Map(s.subscriptions.map((sub) => [key(sub.subscriptionName), { ...sub }])),
      });
    }
  }

  /** Journal record of a unit: `counters`, or `m:<queue key>:<seq>` (one live message). */
  record(unit: string): unknown {
    if (unit === 'counters') return { seq: this.seq, handle: this.handleSeq, id: this.idSeq };
    const [, queueKey = '', seq = ''] = unit.split(':');
    return this.queues.get(queueKey)?.record(Number(seq)) ?? null;
  }

  apply(unit: string, record: unknown): void {
    if (unit === 'counters') {
      const c = record as CmqSnapshot['counters'];
      this.seq = Math.max(this.seq, c.seq);
      this.handleSeq = Math.max(this.handleSeq, c.handle);
      this.idSeq = Math.max(this.idSeq, c.id);
      return;
    }
    const [, queueKey = '', seq = ''] = unit.split(':');
    this.queues.get(queueKey)?.replace(Number(seq), record as MessageSnapshot | null);
  }

  /** Stop pushes and end every waiting receive (they return empty). */
  close(): void {
    this.stop.abort();
    this.pusher.close();
    for (const q of this.queues.values()) q.wake();
  }

  // ---------------------------------------------------------------- internals

  private queue(queueName: string): CmqQueue {
    const queue = this.queues.get(key(queueName));
    if (queue === undefined) throw cmqErrors.queueNotExisted();
    return queue;
  }

  private topic(topicName: string): Topic {
    const topic = this.topics.get(key(topicName));
    if (topic === undefined) throw cmqErrors.topicNotExisted();
    return topic;
  }

  private subscription(topic: Topic, subscriptionName: string): Subscription {
    const sub = topic.subscriptions.get(key(subscriptionName));
    if (sub === undefined) throw cmqErrors.subscriptionNotExisted();
    return sub;
  }

  private enqueue(
    queue: CmqQueue,
    body: string,
    now: number,
    visibleAt: number,
    msgId = this.newMsgId(),
  ): string {
    queue.add({
      seq: ++this.seq,
      msgId,
      body,
      enqueueAt: now,
      visibleAt,
      dequeueCount: 0,
      firstDequeueAt: 0,
      receiptHandle: null,
      gen: 0,
      alive: true,
    });
    return msgId;
  }

  private deliver(
    topic: Topic,
    sub: Subscription,
    message: { msgId: string; body: string; tags: string[]; publishAt: number },
  ): void {
    if (sub.protocol === 'queue') {
      const queue = this.queues.get(key(sub.endpoint));
      if (queue !== undefined && queue.size < queue.settings.maxMsgHeapNum) {
        this.enqueue(queue, message.body, message.publishAt, message.publishAt);
      }
      return;
    }
    this.pusher.push(
      {
        topicName: topic.topicName,
        subscriptionName: sub.subscriptionName,
        endpoint: sub.endpoint,
        notifyStrategy: sub.notifyStrategy,
        notifyContentFormat: sub.notifyContentFormat,
      },
      message,
    );
  }

  private evicted(queue: CmqQueue, message: StoredMessage, why: Eviction): void {
    if (why === 'expired') return;
    const policy = queue.settings.deadLetterPolicy;
    if (policy === null) return;
    const target = this.queues.get(key(policy.deadLetterQueue));
    if (target === undefined || target === queue) return;
    const now = this.clock.now();
    this.enqueue(target, message.body, now, now, message.msgId);
  }

  private topicMsgCount(topic: Topic): number {
    const horizon = this.clock.now() - TOPIC_RETENTION_SECONDS * 1000;
    if (topic.publishTimes.length > 0 && topic.publishTimes[0]! < horizon) {
      topic.publishTimes = topic.publishTimes.filter((t) => t >= horizon);
    }
    return topic.publishTimes.length;
  }

  private checkRecreate(deleted: Map<string, number>, k: string): void {
    const at = deleted.get(k);
    if (at === undefined) return;
    if (this.clock.now() - at < this.recreateGuardMs) throw cmqErrors.recreateTooSoon();
    deleted.delete(k);
  }

  private validateQueueSettings(s: QueueSettings, selfKey: string): QueueSettings {
    range(s.maxMsgHeapNum, 1, 1_000_000_000, 'maxMsgHeapNum');
    range(s.pollingWaitSeconds, 0, 30, 'pollingWaitSeconds');
    range(s.visibilityTimeout, 1, 43200, 'visibilityTimeout');
    range(s.maxMsgSize, 1024, 1_048_576, 'maxMsgSize');
    range(s.msgRetentionSeconds, 60, 1_296_000, 'msgRetentionSeconds');
    range(s.rewindSeconds, 0, Math.min(43200, s.msgRetentionSeconds), 'rewindSeconds');
    const p = s.deadLetterPolicy;
    if (p !== null) this.validateDeadLetter(p, s, selfKey);
    return { ...s };
  }

  private validateDeadLetter(p: DeadLetterPolicy, s: QueueSettings, selfKey: string): void {
    if (typeof p.deadLetterQueue !== 'string' || key(p.deadLetterQueue) === selfKey) {
      throw cmqErrors.outOfRange('deadLetterQueue');
    }
    if (!this.queues.has(key(p.deadLetterQueue))) throw cmqErrors.queueNotExisted();
    if (p.policy === 0) {
      range(p.maxReceiveCount ?? Number.NaN, 1, 1000, 'maxReceiveCount');
    } else if (p.policy === 1) {
      range(p.maxTimeToLive ?? Number.NaN, 300, Math.min(43200, s.msgRetentionSeconds), 'maxTimeToLive');
    } else {
      throw cmqErrors.outOfRange('policy');
    }
  }

  private newId(prefix: string): string {
    this.idSeq++;
    const rand = Math.floor(this.random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    return `${prefix}-${rand}${this.idSeq.toString(36).padStart(2, '0')}`;
  }

  private newMsgId(): string {
    return String(281_474_976_710_656 + ++this.idSeq);
  }
}

function range(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw cmqErrors.outOfRange(name);
}

function validateTopicSize(size: number): number {
  range(size, 1024, 1_048_576, 'maxMsgSize');
  return size;
}

function validateKey(k: string, name: string): void {
  if (Buffer.byteLength(k) > MAX_KEY_BYTES) throw cmqErrors.outOfRange(name);
  if (k.split('.').length - 1 > MAX_KEY_DOTS) throw cmqErrors.tooManyDelimiters();
}

function validateFilterTags(tags: readonly string[]): string[] {
  if (tags.length > MAX_TAGS) throw cmqErrors.tooManyFilterTags();
  if (tags.some((t) => t.length === 0 || t.length > MAX_TAG_LENGTH)) throw cmqErrors.outOfRange('filterTag');
  return [...tags];
}

function validateBindingKeys(keys: readonly string[]): string[] {
  if (keys.length > MAX_TAGS) throw cmqErrors.tooManyBindingKeys();
  for (const k of keys) {
    if (k.length === 0) throw cmqErrors.outOfRange('bindingKey');
    validateKey(k, 'bindingKey');
  }
  return [...keys];
}

function validateHttpEndpoint(endpoint: string): void {
  if (/\s/.test(endpoint)) throw cmqErrors.blankInUrl();
  if (!/^https?:\/\//i.test(endpoint)) throw cmqErrors.endpointFormat();
  try {
    new URL(endpoint);
  } catch {
    throw cmqErrors.endpointFormat();
  }
}

function parseStrategy(value: string): NotifyStrategy {
  if (value === 'BACKOFF_RETRY' || value === 'EXPONENTIAL_DECAY_RETRY') return value;
  throw cmqErrors.undefinedStrategy();
}

function parseFormat(value: string): NotifyContentFormat {
  if (value === 'JSON' || value === 'SIMPLIFIED') return value;
  throw cmqErrors.undefinedContentFormat();
}

function isWellFormedHandle(handle: string): boolean {
  return /^[a-zA-Z\d%#:_-]{1,256}$/.test(handle);
}

function matchesSearch(name: string, searchWord: string | undefined): boolean {
  return (
    searchWord === undefined || searchWord === '' || name.toLowerCase().includes(searchWord.toLowerCase())
  );
}

function paginate<T>(items: readonly T[], options: ListOptions): T[] {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? 20;
  return items.slice(offset, offset + limit);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function waitFor(queue: CmqQueue, ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const change = queue.waitForChange();
    const finish = () => {
      clearTimeout(timer);
      change.cancel();
      for (const s of signals) s.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    change.promise.then(finish);
    for (const s of signals) s.addEventListener('abort', finish, { once: true });
  });
}
