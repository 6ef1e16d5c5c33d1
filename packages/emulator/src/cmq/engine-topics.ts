// The CMQ engine's topic side: topics, publishing with tag and routing-key filters, and
// subscriptions (queue or http endpoints).

import type { Subscription, Topic } from './engine-base.js';
import { CmqQueueOps } from './engine-queues.js';
import { cmqErrors } from './errors.js';
import { routingMatch, tagsMatch } from './routing.js';
import {
  key,
  MAX_BATCH,
  MAX_BATCH_BYTES,
  MAX_SUBSCRIPTIONS,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  matchesSearch,
  NAME_PATTERN,
  paginate,
  parseFormat,
  parseStrategy,
  seconds,
  TOPIC_RETENTION_SECONDS,
  validateBindingKeys,
  validateFilterTags,
  validateHttpEndpoint,
  validateKey,
  validateTopicSize,
} from './settings.js';
import type {
  ListOptions,
  PublishOptions,
  SubscriptionAttributes,
  SubscriptionInput,
  SubscriptionUpdate,
  TopicAttributes,
} from './types.js';

export abstract class CmqTopicOps extends CmqQueueOps {
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
      publishTimesKept: 0,
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
    const out = bodies.map((body) => {
      const msgId = this.newMsgId();
      topic.publishTimes.push(now);
      for (const sub of matched) {
        sub.msgCount++;
        this.deliver(topic, sub, { msgId, body, tags, publishAt: now });
      }
      return { msgId };
    });
    // Times past the retention window were dropped only when msgCount was read, so a topic
    // published to for longer than a day and never described kept one per message for good.
    // Sweep once the list has doubled since the last sweep: O(1) amortised per publish.
    if (topic.publishTimes.length > 2 * topic.publishTimesKept + PUBLISH_TIMES_SLACK)
      this.topicMsgCount(topic);
    return out;
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
}

/** Publish times a topic may gain beyond twice its last swept count before it sweeps again. */
const PUBLISH_TIMES_SLACK = 1024;
