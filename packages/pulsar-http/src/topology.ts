import { isSwitchyardError } from '@switchyard/core/driver';
import type { Api } from './client.js';
import type { TopicName } from './naming.js';

export type StartFrom = 'earliest' | 'latest' | Date | undefined;

/**
 * Creates what is missing, once per broker: partitioned topics (ReceiveMessage refuses
 * non-partitioned ones) and subscriptions. Concurrent callers share one request.
 */
export class Topology {
  readonly #api: Api;
  readonly #partitions: number;
  readonly #topics = new Map<string, Promise<void>>();
  readonly #subscriptions = new Map<string, Promise<void>>();

  constructor(api: Api, partitions: number) {
    this.#api = api;
    this.#partitions = partitions;
  }

  ensureTopic(topic: TopicName): Promise<void> {
    const key = `${topic.clusterId}/${topic.environmentId}/${topic.topicName}`;
    let pending = this.#topics.get(key);
    if (pending === undefined) {
      pending = this.#createTopic(topic);
      this.#topics.set(key, pending);
      // A failure is not cached: the next open tries again.
      pending.catch(() => this.#topics.delete(key));
    }
    return pending;
  }

  /**
   * Creates the subscription if it is missing. A new one starts where `startFrom` says (the
   * API's own default for a new subscription is Earliest); an existing one keeps its position.
   */
  ensureSubscription(topic: TopicName, name: string, startFrom: StartFrom): Promise<void> {
    const key = `${topic.path}\u0000${name}`;
    let pending = this.#subscriptions.get(key);
    if (pending === undefined) {
      pending = this.#createSubscription(topic, name, startFrom);
      this.#subscriptions.set(key, pending);
      pending.catch(() => this.#subscriptions.delete(key));
    }
    return pending;
  }

  async #createTopic(topic: TopicName): Promise<void> {
    const found = await this.#api.call<{ TotalCount?: number }>('DescribeTopics', {
      ClusterId: topic.clusterId,
      EnvironmentId: topic.environmentId,
      Filters: [{ Name: 'TopicName', Values: [topic.topicName] }],
      Limit: 1,
    });
    if ((found.TotalCount ?? 0) > 0) return;
    try {
      await this.#api.call('CreateTopic', {
        ClusterId: topic.clusterId,
        EnvironmentId: topic.environmentId,
        TopicName: topic.topicName,
        Partitions: this.#partitions,
        PulsarTopicType: 3, // persistent, partitioned
        Remark: 'created by switchyard',
      });
    } catch (error) {
      if (!alreadyExists(error)) throw error;
    }
  }

  async #createSubscription(topic: TopicName, name: string, startFrom: StartFrom): Promise<void> {
    await this.ensureTopic(topic);
    try {
      await this.#api.call('CreateSubscription', {
        ClusterId: topic.clusterId,
        EnvironmentId: topic.environmentId,
        TopicName: topic.topicName,
        SubscriptionName: name,
        IsIdempotent: false,
        AutoCreatePolicyTopic: false,
        Remark: 'created by switchyard',
      });
    } catch (error) {
      if (alreadyExists(error)) return;
      throw error;
    }
    // CreateSubscription starts at the latest message (Pulsar admin semantics).
    if (startFrom === 'latest') return;
    await this.#api.call('ResetMsgSubOffsetByTimestamp', {
      ClusterId: topic.clusterId,
      EnvironmentId: topic.environmentId,
      TopicName: topic.topicName,
      Subscription: name,
      ToTimestamp: startFrom instanceof Date ? startFrom.getTime() : 0,
    });
  }
}

function alreadyExists(error: unknown): boolean {
  return isSwitchyardError(error) && error.code === 'ALREADY_EXISTS';
}
