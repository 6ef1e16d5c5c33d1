// Queue, topic and subscription management through the Tencent Cloud API 3.0 (TDMQ 2020-02-17:
// CreateCmqQueue, CreateCmqTopic, CreateCmqSubscribe, ...), sent by tencentcloud-sdk-nodejs-common's
// CommonClient: the full SDK's signing and transport code without every product's client. It is
// loaded only when management is first used, so a data-plane-only service never pays for it.
// Every call is idempotent in effect: "already exists" counts as done.

import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { type CredentialProvider, cloudApiCredential, InvalidArgumentError } from '@switchyard/core/driver';
import type { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { apiError, DRIVER } from './errors.js';

const require = createRequire(import.meta.url);

export interface ManagementOptions {
  readonly endpoint: string;
  readonly region: string;
  /** SecretId, SecretKey and the temporary key's token, asked for each request. */
  readonly credentials: CredentialProvider;
  readonly requestTimeoutMs: number;
}

export interface QueueSpec {
  readonly visibilityTimeoutSeconds: number;
  readonly maxMsgSize: number;
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number } | undefined;
}

export interface SubscriptionSpec {
  readonly topic: string;
  readonly name: string;
  readonly queue: string;
  readonly filterTags?: readonly string[];
  readonly bindingKeys?: readonly string[];
}

/** The fields of the TDMQ answers this module reads (the rest pass through untyped). */
interface QueueDetail {
  QueueDescribe?: {
    QueueName?: string;
    VisibilityTimeout?: number;
    MaxMsgSize?: number;
    [k: string]: unknown;
  };
}
interface TopicDetail {
  TopicDescribe?: { FilterType?: number; [k: string]: unknown };
}
interface SubscriptionDetail {
  SubscriptionSet?: Array<{
    SubscriptionName?: string;
    FilterTags?: string[] | null;
    BindingKey?: string[] | null;
  }>;
}

export class CmqManagement {
  readonly #options: ManagementOptions;
  #client: CommonClient | undefined;
  readonly #agent: http.Agent;

  constructor(options: ManagementOptions) {
    this.#options = options;
    const url = new URL(options.endpoint);
    // An explicit keep-alive agent also stops the SDK from tunnelling through an http_proxy env var.
    this.#agent =
      url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** The SDK client (escape hatch: `client.request(action, params)`); created on first use. */
  get client(): CommonClient {
    if (this.#client === undefined) {
      const { CommonClient: SdkClient } = require('tencentcloud-sdk-nodejs-common') as {
        CommonClient: typeof CommonClient;
      };
      const o = this.#options;
      const url = new URL(o.endpoint);
      this.#client = new SdkClient('tdmq.tencentcloudapi.com', '2020-02-17', {
        // Asked at signing time, so a refreshed key is used from the next call on and the client
        // holds no plain secret.
        credential: cloudApiCredential(o.credentials) as never,
        region: o.region,
        profile: {
          httpProfile: {
            endpoint: url.host,
            protocol: `${url.protocol}//`,
            reqMethod: 'POST',
            reqTimeout: Math.ceil(o.requestTimeoutMs / 1000),
            agent: this.#agent,
          },
        },
      });
    }
    return this.#client;
  }

  async #call<T = unknown>(action: string, subject: string, request: object): Promise<T> {
    const provider = this.#options.credentials;
    // Asked first so an expired key with no replacement is the provider's typed UNAUTHENTICATED.
    const used = await provider.get();
    try {
      return (await this.client.request(action, request)) as T;
    } catch (error) {
      const mapped = apiError(action, error, subject);
      // A key rotated or revoked before its expiry: one more ask of the provider, one more try.
      if (mapped.code !== 'UNAUTHENTICATED' || (await provider.replacementFor(used)) === undefined)
        throw mapped;
      try {
        return (await this.client.request(action, request)) as T;
      } catch (again) {
        throw apiError(action, again, subject);
      }
    }
  }

  /** Creates the queue, or leaves an existing one as it is. Returns true when it created it. */
  async ensureQueue(name: string, spec: QueueSpec): Promise<boolean> {
    try {
      await this.#call('CreateCmqQueue', name, {
        QueueName: name,
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        MaxMsgSize: spec.maxMsgSize,
        ...(spec.deadLetter === undefined
          ? {}
          : {
              DeadLetterQueueName: spec.deadLetter.queue,
              Policy: 0,
              MaxReceiveCount: spec.deadLetter.maxReceiveCount,
            }),
      });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ALREADY_EXISTS') return false;
      throw error;
    }
  }

  async modifyQueue(
    name: string,
    change: { visibilityTimeoutSeconds?: number; deadLetter?: QueueSpec['deadLetter'] },
  ): Promise<void> {
    await this.#call('ModifyCmqQueueAttribute', name, {
      QueueName: name,
      ...(change.visibilityTimeoutSeconds === undefined
        ? {}
        : { VisibilityTimeout: change.visibilityTimeoutSeconds }),
      ...(change.deadLetter === undefined
        ? {}
        : {
            DeadLetterQueueName: change.deadLetter.queue,
            Policy: 0,
            MaxReceiveCount: change.deadLetter.maxReceiveCount,
          }),
    });
  }

  async describeQueue(name: string) {
    return (await this.#call<QueueDetail>('DescribeCmqQueueDetail', name, { QueueName: name })).QueueDescribe;
  }

  /** Every queue (or topic) name, a page of 100 at a time (DescribeCmqQueues / DescribeCmqTopics). */
  async listNames(kind: 'queue' | 'topic'): Promise<string[]> {
    const [action, list, field] =
      kind === 'queue'
        ? (['DescribeCmqQueues', 'QueueList', 'QueueName'] as const)
        : (['DescribeCmqTopics', 'TopicList', 'TopicName'] as const);
    const names: string[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await this.#call<Record<string, unknown>>(action, kind, { Offset: offset, Limit: 100 });
      const items = (page[list] ?? []) as Array<Record<string, unknown>>;
      names.push(...items.map((item) => String(item[field])));
      if (items.length < 100 || names.length >= Number(page.TotalCount ?? 0)) return names;
    }
  }

  /** Deletes every message in the queue (ClearCmqQueue). */
  async clearQueue(name: string): Promise<void> {
    await this.#call('ClearCmqQueue', name, { QueueName: name });
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#call('DeleteCmqQueue', name, { QueueName: name });
  }

  async ensureTopic(name: string, filter: 'tag' | 'routing', maxMsgSize: number): Promise<void> {
    try {
      await this.#call('CreateCmqTopic', name, {
        TopicName: name,
        FilterType: filter === 'tag' ? 1 : 2,
        MaxMsgSize: maxMsgSize,
      });
    } catch (error) {
      if ((error as { code?: string }).code !== 'ALREADY_EXISTS') throw error;
      const topic = (await this.#call<TopicDetail>('DescribeCmqTopicDetail', name, { TopicName: name }))
        .TopicDescribe;
      const want = filter === 'tag' ? 1 : 2;
      if (topic?.FilterType !== undefined && topic.FilterType !== want) {
        throw new InvalidArgumentError(
          `CMQ topic "${name}" filters by ${topic.FilterType === 1 ? 'tag' : 'routing key'}, but the driver is configured with topicFilter "${filter}" (a topic's filter type cannot change)`,
          { driver: DRIVER },
        );
      }
    }
  }

  async deleteTopic(name: string): Promise<void> {
    await this.#call('DeleteCmqTopic', name, { TopicName: name });
  }

  /** Creates a queue subscription with the filter, or brings an existing one's filter up to date. */
  async ensureSubscription(spec: SubscriptionSpec): Promise<void> {
    const tags = spec.filterTags ?? [];
    const keys = spec.bindingKeys ?? [];
    try {
      await this.#call('CreateCmqSubscribe', spec.topic, {
        TopicName: spec.topic,
        SubscriptionName: spec.name,
        Protocol: 'queue',
        Endpoint: spec.queue,
        NotifyContentFormat: 'SIMPLIFIED',
        ...(tags.length > 0 ? { FilterTag: [...tags] } : {}),
        ...(keys.length > 0 ? { BindingKey: [...keys] } : {}),
      });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ALREADY_EXISTS') throw error;
    }
    const found = await this.#call<SubscriptionDetail>('DescribeCmqSubscriptionDetail', spec.topic, {
      TopicName: spec.topic,
      SubscriptionName: spec.name,
      Limit: 50,
    });
    const current = found.SubscriptionSet?.find((s) => s.SubscriptionName === spec.name);
    const same = (a: readonly string[] | undefined | null, b: readonly string[]) =>
      [...(a ?? [])].sort().join('\n') === [...b].sort().join('\n');
    if (current !== undefined && same(current.FilterTags, tags) && same(current.BindingKey, keys)) return;
    if (tags.length === 0 && (current?.FilterTags?.length ?? 0) > 0) {
      await this.#call('ClearCmqSubscriptionFilterTags', spec.topic, {
        TopicName: spec.topic,
        SubscriptionName: spec.name,
      });
    }
    if (tags.length > 0 || keys.length > 0) {
      await this.#call('ModifyCmqSubscriptionAttribute', spec.topic, {
        TopicName: spec.topic,
        SubscriptionName: spec.name,
        ...(tags.length > 0 ? { FilterTags: [...tags] } : {}),
        ...(keys.length > 0 ? { BindingKey: [...keys] } : {}),
      });
    }
  }

  async deleteSubscription(topic: string, name: string): Promise<void> {
    await this.#call('DeleteCmqSubscribe', topic, { TopicName: topic, SubscriptionName: name });
  }

  close(): void {
    this.#agent.destroy();
  }
}
