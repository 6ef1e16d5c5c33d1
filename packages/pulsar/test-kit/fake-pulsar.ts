// A fake pulsar-client module for the unit tests (pulsar-client itself cannot be installed on
// these machines). It keeps the semantics the driver relies on, as the real client and broker
// have them: receive() is asynchronous and resolves with the next message; acknowledge() takes a
// message; negativeAcknowledge() is synchronous and the message comes back after
// nAckRedeliverTimeoutMs (at least 100 ms); Shared and Key_Shared subscriptions count
// redeliveries and hold deliverAfter messages, Exclusive and Failover do neither; the dead-letter
// policy moves a message nacked at maxRedeliverCount redeliveries to its topic; an ack timeout
// redelivers; closing a consumer hands its un-acked messages back and fails its pending receive;
// errors are plain Errors whose text ends in the C++ result name. It is a test double, not a broker:
// one process, no partitions, no persistence.

import type {
  ClientConfig,
  ConsumerConfig,
  ProducerConfig,
  ProducerMessage,
  PulsarClient,
  PulsarConsumer,
  PulsarMessage,
  PulsarMessageId,
  PulsarModule,
  PulsarProducer,
  SubscriptionType,
} from '../src/native-api.js';

interface Entry {
  readonly id: FakeMessageId;
  readonly data: Buffer;
  readonly properties: Record<string, string>;
  readonly partitionKey: string;
  readonly orderingKey: string;
  readonly eventTimestamp: number;
  readonly publishTimestamp: number;
  readonly deliverAt: number;
}

class FakeMessageId implements PulsarMessageId {
  constructor(
    readonly ledger: number,
    readonly entry: number,
  ) {}
  serialize(): Buffer {
    return Buffer.from(this.toString());
  }
  toString(): string {
    return `${this.ledger}:${this.entry}:-1:-1`;
  }
}

class FakeMessage implements PulsarMessage {
  constructor(
    readonly entry: Entry,
    readonly topic: string,
    readonly redeliveryCount: number,
  ) {}
  getTopicName(): string {
    return this.topic;
  }
  getProperties(): Record<string, string> {
    return { ...this.entry.properties };
  }
  getData(): Buffer {
    return Buffer.from(this.entry.data);
  }
  getMessageId(): PulsarMessageId {
    return this.entry.id;
  }
  getPublishTimestamp(): number {
    return this.entry.publishTimestamp;
  }
  getEventTimestamp(): number {
    return this.entry.eventTimestamp;
  }
  getRedeliveryCount(): number {
    return this.redeliveryCount;
  }
  getPartitionKey(): string {
    return this.entry.partitionKey;
  }
  getOrderingKey(): string {
    return this.entry.orderingKey;
  }
}

interface Subscription {
  readonly name: string;
  readonly type: SubscriptionType;
  /** Entries waiting for dispatch, in order (redeliveries go to the front). */
  readonly pending: Entry[];
  readonly redeliveries: Map<string, number>;
  readonly consumers: FakeConsumer[];
}

class Topic {
  readonly entries: Entry[] = [];
  readonly subscriptions = new Map<string, Subscription>();
  constructor(
    readonly name: string,
    readonly ledger: number,
  ) {}
}

/** What a test can make the fake broker do. */
export interface FakeBrokerOptions {
  /** Token the broker accepts; when set, a client without it fails with AuthenticationError. */
  readonly token?: string;
  /** Create topics on first use (Pulsar's allowAutoTopicCreation); default true. */
  readonly autoCreateTopics?: boolean;
  /** The broker's maxMessageSize. */
  readonly maxMessageSize?: number;
}

type Operation = 'createProducer' | 'subscribe' | 'send' | 'receive' | 'acknowledge' | 'close';
const FAILURE_TEXT: Record<Operation, string> = {
  createProducer: 'Failed to create producer',
  subscribe: 'Failed to create consumer',
  send: 'Failed to send message',
  receive: 'Failed to receive message',
  acknowledge: 'Failed to acknowledge',
  close: 'Failed to close consumer',
};

export class FakePulsarBroker {
  readonly topics = new Map<string, Topic>();
  readonly options: FakeBrokerOptions;
  /** Every config object the driver passed, for the translation tests. */
  readonly clientConfigs: ClientConfig[] = [];
  readonly producerConfigs: ProducerConfig[] = [];
  readonly consumerConfigs: ConsumerConfig[] = [];
  readonly sent: ProducerMessage[] = [];
  readonly #faults = new Map<Operation, string[]>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #ledgers = 0;
  readonly module: PulsarModule;

  constructor(options: FakeBrokerOptions = {}) {
    this.options = options;
    const broker = this;
    const tokens = new WeakMap<object, string>();
    class AuthenticationToken {
      constructor(params: { token: string | (() => string) }) {
        // The real object keeps the token on the native side only; nothing enumerable here.
        tokens.set(this, typeof params.token === 'function' ? params.token() : params.token);
      }
    }
    class Client extends FakeClient {
      constructor(config: ClientConfig) {
        if (typeof config?.serviceUrl !== 'string' || config.serviceUrl === '') {
          throw new Error('Service URL is required and must be specified as a string');
        }
        const auth = config.authentication;
        super(broker, auth === undefined ? undefined : tokens.get(auth));
        broker.clientConfigs.push(config);
      }
    }
    this.module = { Client, AuthenticationToken };
  }

  /** The next `count` calls of `operation` fail with this C++ result name. */
  failNext(operation: Operation, result: string, count = 1): void {
    this.#faults.set(operation, [...(this.#faults.get(operation) ?? []), ...Array(count).fill(result)]);
  }

  fault(operation: Operation): Error | undefined {
    const result = this.#faults.get(operation)?.shift();
    return result === undefined ? undefined : new Error(`${FAILURE_TEXT[operation]}: ${result}`);
  }

  topic(name: string, create: boolean): Topic | undefined {
    let topic = this.topics.get(name);
    if (topic === undefined && create) {
      topic = new Topic(name, ++this.#ledgers);
      this.topics.set(name, topic);
    }
    return topic;
  }

  createTopic(name: string): void {
    this.topic(name, true);
  }

  publish(topicName: string, message: ProducerMessage): FakeMessageId {
    const topic = this.topic(topicName, true)!;
    const now = Date.now();
    const entry: Entry = {
      id: new FakeMessageId(topic.ledger, topic.entries.length),
      data: Buffer.from(message.data),
      properties: { ...message.properties },
      partitionKey: message.partitionKey ?? '',
      orderingKey: message.orderingKey ?? '',
      eventTimestamp: message.eventTimestamp ?? 0,
      publishTimestamp: now,
      deliverAt: now + (message.deliverAfter ?? 0),
    };
    topic.entries.push(entry);
    for (const sub of topic.subscriptions.values()) {
      sub.pending.push(entry);
      this.#scheduleDue(topic, sub, entry.deliverAt);
      this.dispatch(topic, sub);
    }
    return entry.id;
  }

  #scheduleDue(topic: Topic, sub: Subscription, at: number): void {
    if (at <= Date.now() || !isMulti(sub.type)) return;
    this.later(at - Date.now(), () => this.dispatch(topic, sub));
  }

  later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  subscription(topic: Topic, config: ConsumerConfig): Subscription {
    let sub = topic.subscriptions.get(config.subscription);
    if (sub === undefined) {
      const type = config.subscriptionType ?? 'Exclusive';
      const start = config.subscriptionInitialPosition === 'Earliest' ? 0 : topic.entries.length;
      sub = {
        name: config.subscription,
        type,
        pending: topic.entries.slice(start),
        redeliveries: new Map(),
        consumers: [],
      };
      topic.subscriptions.set(config.subscription, sub);
    }
    return sub;
  }

  /** Hands due messages to consumers with a waiting receive, by subscription type. */
  dispatch(topic: Topic, sub: Subscription): void {
    const now = Date.now();
    for (let i = 0; i < sub.pending.length; ) {
      const entry = sub.pending[i]!;
      // Only the multi-consumer dispatchers hold delayed messages (as in Pulsar).
      if (isMulti(sub.type) && entry.deliverAt > now) {
        i++;
        continue;
      }
      const consumer = this.#pick(sub, entry);
      if (consumer === undefined || !consumer.ready) {
        // Key_Shared and single-consumer types keep order: a key whose consumer is busy waits.
        if (sub.type === 'Shared') return;
        i++;
        continue;
      }
      sub.pending.splice(i, 1);
      const count = isMulti(sub.type) ? (sub.redeliveries.get(entry.id.toString()) ?? 0) : 0;
      consumer.deliver(new FakeMessage(entry, topic.name, count));
    }
  }

  #pick(sub: Subscription, entry: Entry): FakeConsumer | undefined {
    const open = sub.consumers.filter((c) => !c.closed);
    if (open.length === 0) return undefined;
    if (sub.type === 'Shared') return open.find((c) => c.ready);
    if (sub.type === 'KeyShared') {
      const key = entry.orderingKey || entry.partitionKey;
      return open[hash(key) % open.length];
    }
    return open[0]; // Exclusive, Failover: the first (active) consumer
  }

  /** Back to the subscription for redelivery; counted for Shared and Key_Shared. */
  redeliver(topic: Topic, sub: Subscription, messages: FakeMessage[], count: boolean): void {
    for (const message of [...messages].reverse()) {
      const id = message.entry.id.toString();
      if (count) sub.redeliveries.set(id, (sub.redeliveries.get(id) ?? 0) + 1);
      sub.pending.unshift(message.entry);
    }
    this.dispatch(topic, sub);
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

function isMulti(type: SubscriptionType): boolean {
  return type === 'Shared' || type === 'KeyShared';
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

class FakeClient implements PulsarClient {
  readonly #broker: FakePulsarBroker;
  readonly #token: string | undefined;
  readonly producers: FakeProducer[] = [];
  readonly consumers: FakeConsumer[] = [];
  closed = false;

  constructor(broker: FakePulsarBroker, token: string | undefined) {
    this.#broker = broker;
    this.#token = token;
  }

  #check(operation: 'createProducer' | 'subscribe', text: string): void {
    const fault = this.#broker.fault(operation);
    if (fault) throw fault;
    if (this.closed) throw new Error(`${text}: AlreadyClosed`);
    const wanted = this.#broker.options.token;
    if (wanted !== undefined && this.#token !== wanted) throw new Error(`${text}: AuthenticationError`);
  }

  async createProducer(config: ProducerConfig): Promise<PulsarProducer> {
    await Promise.resolve();
    this.#check('createProducer', FAILURE_TEXT.createProducer);
    this.#broker.producerConfigs.push(config);
    if (this.#broker.topic(config.topic, this.#broker.options.autoCreateTopics ?? true) === undefined) {
      throw new Error(`${FAILURE_TEXT.createProducer}: TopicNotFound`);
    }
    const producer = new FakeProducer(this.#broker, config.topic);
    this.producers.push(producer);
    return producer;
  }

  async subscribe(config: ConsumerConfig): Promise<PulsarConsumer> {
    await Promise.resolve();
    this.#check('subscribe', FAILURE_TEXT.subscribe);
    if (config.ackTimeoutMs !== undefined && config.ackTimeoutMs !== 0 && config.ackTimeoutMs < 10_000) {
      throw new Error('Ack timeout should be 0 or greater than or equal to 10000');
    }
    this.#broker.consumerConfigs.push(config);
    const topic = this.#broker.topic(config.topic, this.#broker.options.autoCreateTopics ?? true);
    if (topic === undefined) throw new Error(`${FAILURE_TEXT.subscribe}: TopicNotFound`);
    const sub = this.#broker.subscription(topic, config);
    if (sub.type === 'Exclusive' && sub.consumers.some((c) => !c.closed)) {
      throw new Error(`${FAILURE_TEXT.subscribe}: ConsumerBusy`);
    }
    const consumer = new FakeConsumer(this.#broker, topic, sub, config);
    sub.consumers.push(consumer);
    this.consumers.push(consumer);
    return consumer;
  }

  async close(): Promise<null> {
    this.closed = true;
    await Promise.all([...this.producers, ...this.consumers].map((c) => c.close().catch(() => null)));
    return null;
  }
}

class FakeProducer implements PulsarProducer {
  closed = false;
  constructor(
    readonly broker: FakePulsarBroker,
    readonly topic: string,
  ) {}

  async send(message: ProducerMessage): Promise<PulsarMessageId> {
    await Promise.resolve();
    const fault = this.broker.fault('send');
    if (fault) throw fault;
    if (this.closed) throw new Error('Failed to send message: AlreadyClosed');
    if (!Buffer.isBuffer(message.data)) throw new TypeError('data must be a Buffer');
    if (message.data.length > (this.broker.options.maxMessageSize ?? 5 * 1024 * 1024)) {
      throw new Error('Failed to send message: MessageTooBig');
    }
    this.broker.sent.push(message);
    return this.broker.publish(this.topic, message);
  }

  async flush(): Promise<null> {
    return null;
  }

  async close(): Promise<null> {
    this.closed = true;
    return null;
  }
}

class FakeConsumer implements PulsarConsumer {
  closed = false;
  readonly #waiters: Array<{ resolve(m: PulsarMessage): void; reject(e: Error): void }> = [];
  readonly #unacked = new Map<string, { message: FakeMessage; timer?: NodeJS.Timeout }>();
  readonly #acked = new Set<string>();
  readonly #broker: FakePulsarBroker;
  readonly #topic: Topic;
  readonly #sub: Subscription;
  readonly #config: ConsumerConfig;
  /** Messages nacked and not yet redelivered (they still count as un-acked here). */
  nackedCount = 0;

  constructor(broker: FakePulsarBroker, topic: Topic, sub: Subscription, config: ConsumerConfig) {
    this.#broker = broker;
    this.#topic = topic;
    this.#sub = sub;
    this.#config = config;
  }

  /** A receive is waiting (the real client would also have a receiver queue to fill). */
  get ready(): boolean {
    return !this.closed && this.#waiters.length > 0;
  }

  get unackedCount(): number {
    return this.#unacked.size;
  }

  deliver(message: FakeMessage): void {
    const id = message.entry.id.toString();
    const ackTimeout = this.#config.ackTimeoutMs ?? 0;
    const slot: { message: FakeMessage; timer?: NodeJS.Timeout } = { message };
    if (ackTimeout > 0) {
      slot.timer = setTimeout(() => this.#expire(id), ackTimeout);
    }
    this.#unacked.set(id, slot);
    this.#waiters.shift()!.resolve(message);
  }

  receive(timeout?: number): Promise<PulsarMessage> {
    return new Promise<PulsarMessage>((resolve, reject) => {
      const fault = this.#broker.fault('receive');
      if (fault) return reject(fault);
      if (this.closed) return reject(new Error('Failed to receive message: AlreadyClosed'));
      const waiter = { resolve, reject };
      this.#waiters.push(waiter);
      if (timeout !== undefined && timeout > 0) {
        setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index < 0) return;
          this.#waiters.splice(index, 1);
          reject(new Error('Failed to receive message: TimeOut'));
        }, timeout);
      }
      this.#broker.dispatch(this.#topic, this.#sub);
    });
  }

  async acknowledge(message: PulsarMessage): Promise<null> {
    await Promise.resolve();
    const fault = this.#broker.fault('acknowledge');
    if (fault) throw fault;
    if (this.closed) throw new Error('Failed to acknowledge: AlreadyClosed');
    const id = message.getMessageId().toString();
    const slot = this.#unacked.get(id);
    clearTimeout(slot?.timer);
    this.#unacked.delete(id);
    this.#acked.add(id);
    return null;
  }

  negativeAcknowledge(message: PulsarMessage): void {
    const id = message.getMessageId().toString();
    const slot = this.#unacked.get(id);
    if (slot === undefined) return;
    clearTimeout(slot.timer);
    const delay = Math.max(100, this.#config.nAckRedeliverTimeoutMs ?? 60_000);
    this.nackedCount++;
    this.#broker.later(delay, () => {
      this.nackedCount--;
      if (this.#unacked.get(id) !== slot) return;
      this.#unacked.delete(id);
      this.#redeliverOrDeadLetter(slot.message);
    });
  }

  #expire(id: string): void {
    const slot = this.#unacked.get(id);
    if (slot === undefined || this.closed) return;
    this.#unacked.delete(id);
    this.#redeliverOrDeadLetter(slot.message);
  }

  /** The client's dead-letter step: at maxRedeliverCount redeliveries it publishes and acks instead. */
  #redeliverOrDeadLetter(message: FakeMessage): void {
    const policy = this.#config.deadLetterPolicy;
    const max = policy?.maxRedeliverCount ?? 0;
    if (policy !== undefined && max > 0 && message.redeliveryCount >= max) {
      this.#broker.publish(policy.deadLetterTopic, {
        data: message.getData(),
        properties: {
          ...message.getProperties(),
          REAL_TOPIC: this.#topic.name,
          ORIGIN_MESSAGE_ID: message.getMessageId().toString(),
        },
        partitionKey: message.getPartitionKey(),
      });
      this.#acked.add(message.entry.id.toString());
      return;
    }
    this.#broker.redeliver(this.#topic, this.#sub, [message], true);
  }

  async close(): Promise<null> {
    await Promise.resolve();
    const fault = this.#broker.fault('close');
    if (fault) throw fault;
    if (this.closed) return null;
    this.closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new Error('Failed to receive message: AlreadyClosed'));
    }
    // The broker hands a closed consumer's un-acked messages to the others (not counted).
    const unacked = [...this.#unacked.values()];
    this.#unacked.clear();
    for (const slot of unacked) clearTimeout(slot.timer);
    unacked.sort((a, b) => a.message.entry.id.entry - b.message.entry.id.entry);
    this.#broker.redeliver(
      this.#topic,
      this.#sub,
      unacked.map((s) => s.message),
      false,
    );
    return null;
  }
}

export type { FakeClient, FakeConsumer };
