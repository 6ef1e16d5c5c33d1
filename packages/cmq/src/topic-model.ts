// Topic model: producers publish to a CMQ topic with tags (filterType 1) or a routing key
// (filterType 2) via PublishMessage / BatchPublishMessage; each consumer group reads its own queue
// (`<topic>-<group>`) fed by a `queue` subscription of the same name carrying the group's filter.
// Groups therefore fan out and consumers of one group compete on the group's queue.

import {
  ClosedError,
  type DriverProducer,
  InvalidArgumentError,
  type Outgoing,
  type Receipt,
} from '@switchyard/core/driver';
import { MAX_TAGS } from './capabilities.js';
import { CMQ_NO_SUBSCRIBER, DRIVER } from './errors.js';
import type { CmqHttpClient } from './http-client.js';
import { type Prepared, prepare, requests, type SendSettings, sendChunks } from './queue-model.js';

const MAX_TAG_CHARS = 16;
const MAX_KEY_BYTES = 64;
const MAX_KEY_DOTS = 15;

export function checkTags(tags: readonly string[], what: string): void {
  if (tags.length > MAX_TAGS) {
    throw new InvalidArgumentError(`${what}: CMQ allows at most ${MAX_TAGS} tags, got ${tags.length}`, {
      driver: DRIVER,
    });
  }
  for (const tag of tags) {
    if (tag.length > MAX_TAG_CHARS) {
      throw new InvalidArgumentError(
        `${what}: CMQ tags are at most ${MAX_TAG_CHARS} characters, "${tag}" is longer`,
        {
          driver: DRIVER,
        },
      );
    }
  }
}

/** Routing keys and binding keys: `.`-separated words, ≤64 bytes, ≤15 dots. */
export function checkRoutingKey(key: string, what: string): void {
  const dots = key.split('.').length - 1;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES || dots > MAX_KEY_DOTS || key.split('.').some((w) => w === '')) {
    throw new InvalidArgumentError(
      `${what} "${key}" is invalid: CMQ keys are non-empty words joined by ".", at most ${MAX_KEY_BYTES} bytes and ${MAX_KEY_DOTS} dots`,
      { driver: DRIVER },
    );
  }
}

export interface TopicSendSettings extends SendSettings {
  readonly filter: 'tag' | 'routing';
  readonly defaultRoutingKey: string;
}

export class TopicProducer implements DriverProducer {
  readonly #client: CmqHttpClient;
  readonly #topic: string;
  readonly #settings: TopicSendSettings;
  #closed = false;

  constructor(client: CmqHttpClient, topic: string, settings: TopicSendSettings) {
    this.#client = client;
    this.#topic = topic;
    this.#settings = settings;
  }

  get native(): CmqHttpClient {
    return this.#client;
  }

  async sendBatch(messages: readonly Outgoing[]): Promise<Array<Receipt | Error>> {
    if (this.#closed)
      throw new ClosedError(`CMQ producer for "${this.#topic}" is closed`, { driver: DRIVER });
    const { ready, results } = prepare(
      messages,
      this.#settings,
      // BatchPublishMessage takes one tag set and one routing key for the whole request.
      (m) => JSON.stringify([[...m.tags].sort(), this.#routingKey(m) ?? null]),
      (m) => {
        checkTags(m.tags, 'message tags');
        if (m.routingKey !== undefined) checkRoutingKey(m.routingKey, 'routing key');
      },
    );
    return sendChunks(requests(ready), results, (chunk) => this.#publish(chunk));
  }

  /** CMQ rejects a message without a routing key on a routing topic; such messages get the configured default. */
  #routingKey(m: Outgoing): string | undefined {
    return this.#settings.filter === 'routing'
      ? (m.routingKey ?? this.#settings.defaultRoutingKey)
      : m.routingKey;
  }

  async #publish(chunk: Prepared[]): Promise<Receipt[]> {
    const first = chunk[0]!.message;
    const routingKey = this.#routingKey(first);
    const params = {
      topicName: this.#topic,
      ...(first.tags.length > 0 ? { msgTag: first.tags } : {}),
      ...(routingKey !== undefined ? { routingKey } : {}),
    };
    // 6030: no subscription exists or none matches. Publish/subscribe semantics: the message was
    // accepted and nobody wanted it — not a send failure.
    const options = { subject: this.#topic, accept: [CMQ_NO_SUBSCRIBER] };
    if (chunk.length === 1) {
      const reply = await this.#client.call(
        'PublishMessage',
        { ...params, msgBody: chunk[0]!.text },
        options,
      );
      return [{ messageId: typeof reply.msgId === 'string' ? reply.msgId : first.id }];
    }
    const reply = await this.#client.call(
      'BatchPublishMessage',
      { ...params, msgBody: chunk.map((c) => c.text) },
      options,
    );
    const list = (reply.msgList as Array<{ msgId: string }> | undefined) ?? [];
    return chunk.map((item, i) => ({ messageId: list[i]?.msgId ?? item.message.id }));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
