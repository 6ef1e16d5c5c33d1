// The part of pulsar-client's API this driver uses, written out here because pulsar-client is an
// optional peer dependency: the driver must type-check and build without it installed. Checked
// against apache/pulsar-client-node index.d.ts and src/*.cc (the option names the C++ addon
// reads) for releases 1.14.0 to 1.19.0-rc.0; 1.14.0 is the first with `batchingType`, which
// Key_Shared subscriptions need (a batch is dispatched by the key of its first message).

export type SubscriptionType = 'Exclusive' | 'Shared' | 'KeyShared' | 'Failover';
export type InitialPosition = 'Latest' | 'Earliest';
export type BatchingType = 'DefaultBatching' | 'KeyBasedBatching';

/** An authentication object (`new AuthenticationToken({ token })`); opaque to the driver. */
export type PulsarAuthentication = object;

export interface ClientConfig {
  serviceUrl: string;
  authentication?: PulsarAuthentication;
  operationTimeoutSeconds?: number;
  connectionTimeoutMs?: number;
  ioThreads?: number;
  tlsTrustCertsFilePath?: string;
  tlsValidateHostname?: boolean;
  tlsAllowInsecureConnection?: boolean;
  listenerName?: string;
}

export interface ProducerConfig {
  topic: string;
  sendTimeoutMs?: number;
  /** false: a full queue fails the send with ProducerQueueIsFull instead of blocking. */
  blockIfQueueFull?: boolean;
  maxPendingMessages?: number;
  batchingEnabled?: boolean;
  batchingMaxPublishDelayMs?: number;
  batchingMaxMessages?: number;
  batchingType?: BatchingType;
}

export interface DeadLetterPolicy {
  deadLetterTopic: string;
  maxRedeliverCount?: number;
  initialSubscriptionName?: string;
}

export interface ConsumerConfig {
  topic: string;
  subscription: string;
  subscriptionType?: SubscriptionType;
  subscriptionInitialPosition?: InitialPosition;
  /** 0 (off) or at least 10 000 ms; the client redelivers un-acked messages after it. */
  ackTimeoutMs?: number;
  /** Delay before a negatively acknowledged message is redelivered (client minimum 100 ms). */
  nAckRedeliverTimeoutMs?: number;
  receiverQueueSize?: number;
  consumerName?: string;
  deadLetterPolicy?: DeadLetterPolicy;
}

export interface ProducerMessage {
  data: Buffer;
  properties?: Record<string, string>;
  eventTimestamp?: number;
  partitionKey?: string;
  orderingKey?: string;
  /** Relative delay in ms; the broker holds the message for Shared and Key_Shared subscriptions. */
  deliverAfter?: number;
}

export interface PulsarMessageId {
  serialize(): Buffer;
  toString(): string;
}

export interface PulsarMessage {
  getTopicName(): string;
  getProperties(): Record<string, string>;
  getData(): Buffer;
  getMessageId(): PulsarMessageId;
  getPublishTimestamp(): number;
  getEventTimestamp(): number;
  /** 0 on the first delivery; counted by the broker for Shared and Key_Shared subscriptions. */
  getRedeliveryCount(): number;
  getPartitionKey(): string;
  getOrderingKey(): string;
}

export interface PulsarProducer {
  send(message: ProducerMessage): Promise<PulsarMessageId>;
  flush(): Promise<null>;
  close(): Promise<null>;
}

export interface PulsarConsumer {
  /** Without a timeout: asynchronous, resolves with the next message (rejects when closed). */
  receive(timeout?: number): Promise<PulsarMessage>;
  acknowledge(message: PulsarMessage): Promise<null>;
  /** Fire and forget: the client redelivers after nAckRedeliverTimeoutMs. */
  negativeAcknowledge(message: PulsarMessage): void;
  close(): Promise<null>;
}

export interface PulsarClient {
  createProducer(config: ProducerConfig): Promise<PulsarProducer>;
  subscribe(config: ConsumerConfig): Promise<PulsarConsumer>;
  close(): Promise<null>;
}

/** What `require('pulsar-client')` returns, as far as the driver uses it. */
export interface PulsarModule {
  readonly Client: new (config: ClientConfig) => PulsarClient;
  readonly AuthenticationToken: new (params: { token: string | (() => string) }) => PulsarAuthentication;
}
