import { deadLetterHeaders } from '../dead-letter.js';
import type { DriverFilter } from '../driver.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Outgoing } from '../message-types.js';
import { Subscription } from './subscription.js';
import type { Entry, StoredMessage } from './types.js';

const DRIVER = 'memory';

export interface StoreOptions {
  /** Messages a topic keeps for `startFrom: 'earliest'`. */
  readonly retention: number;
}

class Topic {
  readonly subscriptions = new Map<string, Subscription>();
  /** The subscriptions' values, for publish: a Map iterator per message was a share of its cost. */
  readonly fanOut: Subscription[] = [];
  /** Recent messages, for replay; bounded by retention. */
  readonly log: StoredMessage[] = [];
  /** Published while no group existed: claimed by the first group (queue semantics, nothing lost). */
  unclaimed: Array<{ message: StoredMessage; availableAt: number }> = [];
}

/**
 * The memory broker: topics, each with subscriptions per consumer group. Stores are named and
 * shared per process (`memory://` and `memory://name`), so services in one process that connect
 * to the same URL talk to each other like they would through a real broker.
 */
export class MemoryStore {
  readonly name: string;
  readonly options: StoreOptions;
  readonly #topics = new Map<string, Topic>();

  constructor(name: string, options: StoreOptions) {
    this.name = name;
    this.options = options;
  }

  createTopic(name: string): void {
    if (this.#topics.has(name))
      throw new AlreadyExistsError(`memory destination "${name}" already exists`, { driver: DRIVER });
    this.#topics.set(name, new Topic());
  }

  hasTopic(name: string): boolean {
    return this.#topics.has(name);
  }

  deleteTopic(name: string): void {
    const topic = this.#topics.get(name);
    if (topic === undefined) throw this.notFound(name);
    for (const subscription of topic.subscriptions.values()) subscription.delete();
    this.#topics.delete(name);
  }

  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Backlog and in-flight counts per group, for tests and tools. */
  stats(name: string): Record<string, { backlog: number; inFlight: number }> {
    const topic = this.#topic(name, false);
    const out: Record<string, { backlog: number; inFlight: number }> = {};
    for (const [group, s] of topic.subscriptions) out[group] = { backlog: s.backlog, inFlight: s.inFlight };
    return out;
  }

  /**
   * Up to `max` messages `group` would get next, with the deliveries each had, left in place. With
   * no group named: the topic's only group, or what waits for the first group when it has none.
   */
  peek(
    name: string,
    group: string | undefined,
    max: number,
  ): Array<{ message: StoredMessage; attempts: number }> {
    const topic = this.#topic(name, false);
    const groups = [...topic.subscriptions.keys()];
    if (group === undefined && groups.length === 0)
      return topic.unclaimed.slice(0, max).map(({ message }) => ({ message, attempts: 0 }));
    if (group === undefined && groups.length > 1)
      throw new InvalidArgumentError(
        `memory destination "${name}" has ${groups.length} groups (${groups.join(', ')}); name the one to peek`,
        { driver: DRIVER, details: { destination: name } },
      );
    const wanted = group ?? groups[0]!;
    const subscription = topic.subscriptions.get(wanted);
    if (subscription === undefined)
      throw new NotFoundError(`memory destination "${name}" has no group "${wanted}"`, {
        driver: DRIVER,
        details: { destination: name, group: wanted },
      });
    return subscription.peek(max);
  }

  /** `create`: make the destination when missing (the connection's autoCreate). */
  publish(name: string, message: StoredMessage, delayMs: number | undefined, create: boolean): void {
    this.#publishTo(this.#topic(name, create), message, delayMs, Date.now());
  }

  /** Stores a batch as one publish each, with one lookup and one clock reading for all. */
  publishBatch(name: string, messages: readonly Outgoing[], create: boolean): void {
    const topic = this.#topic(name, create);
    const now = Date.now();
    for (const m of messages) this.#publishTo(topic, m, m.delayMs, now);
  }

  #publishTo(topic: Topic, message: StoredMessage, delayMs: number | undefined, now: number): void {
    const availableAt = delayMs === undefined ? now : now + delayMs;
    if (this.options.retention > 0) {
      topic.log.push(message);
      if (topic.log.length > this.options.retention * 2)
        topic.log.splice(0, topic.log.length - this.options.retention);
    }
    if (topic.subscriptions.size === 0) {
      topic.unclaimed.push({ message, availableAt });
      return;
    }
    const { fanOut } = topic;
    for (let i = 0; i < fanOut.length; i++) {
      const subscription = fanOut[i]!;
      if (subscription.matches(message)) subscription.enqueue(message, availableAt, now);
    }
  }

  subscribe(
    name: string,
    group: string,
    filter: DriverFilter,
    startFrom: 'earliest' | 'latest' | Date | undefined,
    create: boolean,
  ): Subscription {
    const topic = this.#topic(name, create);
    const existing = topic.subscriptions.get(group);
    if (existing !== undefined) {
      // Like RocketMQ and CMQ, the group's filter is the latest one a consumer declared.
      existing.filter = filter;
      return existing;
    }
    const subscription = new Subscription(group, filter);
    const now = Date.now();
    if (startFrom === 'earliest' || startFrom instanceof Date) {
      const from = startFrom instanceof Date ? startFrom.getTime() : -Infinity;
      const log = topic.log.slice(-this.options.retention);
      for (const message of log) {
        if (message.publishedAt >= from && subscription.matches(message))
          subscription.enqueue(message, now, now);
      }
    } else if (topic.subscriptions.size === 0) {
      for (const { message, availableAt } of topic.unclaimed) {
        if (subscription.matches(message)) subscription.enqueue(message, availableAt, now);
      }
    }
    topic.unclaimed = [];
    topic.subscriptions.set(group, subscription);
    topic.fanOut.push(subscription);
    return subscription;
  }

  /** Moves an entry to a dead-letter destination with the reason and origin in its headers. */
  deadLetter(entry: Entry, reason: string, destination: string, source: string, group: string): void {
    const message = entry.message;
    const headers = deadLetterHeaders(
      { id: message.id, deliveryAttempt: entry.attempts },
      reason,
      source,
      group,
    );
    // The dead-letter destination is created on demand: failing here would lose the message.
    this.publish(destination, { ...message, headers: { ...message.headers, ...headers } }, undefined, true);
  }

  #topic(name: string, create: boolean): Topic {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      if (!create) throw this.notFound(name);
      topic = new Topic();
      this.#topics.set(name, topic);
    }
    return topic;
  }

  notFound(name: string): NotFoundError {
    return new NotFoundError(
      `memory destination "${name}" does not exist in store "${this.name || 'default'}"; create it first or connect with autoCreate`,
      {
        driver: DRIVER,
        details: { destination: name },
      },
    );
  }
}

const stores = new Map<string, MemoryStore>();

/** The process-wide store of that name; its options are fixed by whoever opened it first. */
export function memoryStore(name: string, options: StoreOptions): MemoryStore {
  let store = stores.get(name);
  if (store === undefined) {
    store = new MemoryStore(name, options);
    stores.set(name, store);
  }
  return store;
}
