// The CMQ engine's shared state and internals: the queue and topic maps, ids and counters, delivery
// into queues and http pushes, dead-lettering and the checks both sides use. The public operations
// are layered on top (engine-queues.ts, engine-topics.ts, engine.ts).

import { setMaxListeners } from 'node:events';
import { type Clock, systemClock } from '../contracts.js';
import { mulberry32, type Random } from '../faults/prng.js';
import { type ChangeSink, NO_CHANGES } from '../state/journal.js';
import { cmqErrors } from './errors.js';
import { HttpPusher } from './push.js';
import type { CmqQueue, Eviction, StoredMessage } from './queue.js';
import { key, range, TOPIC_RETENTION_SECONDS } from './settings.js';
import type {
  DeadLetterPolicy,
  NotifyContentFormat,
  NotifyStrategy,
  QueueSettings,
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

export interface Subscription {
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

export interface Topic {
  readonly topicId: string;
  readonly topicName: string;
  settings: TopicSettings;
  readonly createAt: number;
  modifyAt: number;
  publishTimes: number[];
  /** publishTimes' length after its last sweep; publishing sweeps again once it has doubled. */
  publishTimesKept: number;
  readonly subscriptions: Map<string, Subscription>;
}

export abstract class CmqEngineBase {
  readonly clock: Clock;
  /**
   * Where changes are reported for the `--state` journal: messages as units, everything else
   * (queues, topics, subscriptions, settings) as reshaped, so a direct engine call is as durable as
   * the same change made over the wire.
   */
  changes: ChangeSink = NO_CHANGES;
  protected readonly queues = new Map<string, CmqQueue>();
  protected readonly topics = new Map<string, Topic>();
  protected readonly deletedQueues = new Map<string, number>();
  protected readonly deletedTopics = new Map<string, number>();
  protected readonly random: Random;
  protected readonly pusher: HttpPusher;
  protected readonly stop = new AbortController();
  protected readonly strictPublish: boolean;
  protected readonly recreateGuardMs: number;
  protected readonly maxQueues: number;
  protected readonly maxTopics: number;
  protected readonly appId: number;
  protected seq = 0;
  protected handleSeq = 0;
  protected idSeq = 0;
  protected readonly hooks = {
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

  // ---------------------------------------------------------------- internals

  protected queue(queueName: string): CmqQueue {
    const queue = this.queues.get(key(queueName));
    if (queue === undefined) throw cmqErrors.queueNotExisted();
    return queue;
  }

  protected topic(topicName: string): Topic {
    const topic = this.topics.get(key(topicName));
    if (topic === undefined) throw cmqErrors.topicNotExisted();
    return topic;
  }

  protected subscription(topic: Topic, subscriptionName: string): Subscription {
    const sub = topic.subscriptions.get(key(subscriptionName));
    if (sub === undefined) throw cmqErrors.subscriptionNotExisted();
    return sub;
  }

  protected enqueue(
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

  protected deliver(
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

  protected evicted(queue: CmqQueue, message: StoredMessage, why: Eviction): void {
    if (why === 'expired') return;
    const policy = queue.settings.deadLetterPolicy;
    if (policy === null) return;
    const target = this.queues.get(key(policy.deadLetterQueue));
    if (target === undefined || target === queue) return;
    const now = this.clock.now();
    this.enqueue(target, message.body, now, now, message.msgId);
  }

  protected topicMsgCount(topic: Topic): number {
    const horizon = this.clock.now() - TOPIC_RETENTION_SECONDS * 1000;
    if (topic.publishTimes.length > 0 && topic.publishTimes[0]! < horizon) {
      topic.publishTimes = topic.publishTimes.filter((t) => t >= horizon);
    }
    topic.publishTimesKept = topic.publishTimes.length;
    return topic.publishTimes.length;
  }

  protected checkRecreate(deleted: Map<string, number>, k: string): void {
    const at = deleted.get(k);
    if (at === undefined) return;
    if (this.clock.now() - at < this.recreateGuardMs) throw cmqErrors.recreateTooSoon();
    deleted.delete(k);
  }

  protected validateQueueSettings(s: QueueSettings, selfKey: string): QueueSettings {
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

  protected validateDeadLetter(p: DeadLetterPolicy, s: QueueSettings, selfKey: string): void {
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

  protected newId(prefix: string): string {
    this.idSeq++;
    const rand = Math.floor(this.random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    return `${prefix}-${rand}${this.idSeq.toString(36).padStart(2, '0')}`;
  }

  protected newMsgId(): string {
    return String(281_474_976_710_656 + ++this.idSeq);
  }
}
