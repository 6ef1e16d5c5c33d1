// The RocketMQ engine's data: topics with one append-only log each, consumer groups, and per
// (group, topic) delivery state. Plain data so snapshots are a JSON dump.

export const TOPIC_TYPES = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION', 'MIXED'] as const;
export type TopicType = (typeof TOPIC_TYPES)[number];

export const MESSAGE_TYPES = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface TopicConfig {
  /** MIXED accepts every message type (what auto-created topics get). */
  readonly type: TopicType;
  /** Queues advertised in the route. Cosmetic: the emulator keeps one log per topic. */
  readonly queues: number;
}

export type RetryPolicyKind = 'exponential' | 'customized';

export interface GroupConfig {
  /** Ordered consumption per message group (`consumeMessageOrderly`). */
  readonly fifo: boolean;
  /** Deliveries before a message goes to `%DLQ%<group>` (the proxy: retryMaxTimes + 1 = 17). */
  readonly maxDeliveryAttempts: number;
  /**
   * Backoff announced to consumers. `exponential` (default) keeps the Node PushConsumer's retry
   * logic working; `customized` is the proxy default and triggers the client bugs of sheet §0.8.
   */
  readonly retryPolicy: RetryPolicyKind;
  /** `creation`: the group sees messages stored after it was created (the proxy's choice). */
  readonly startFrom: 'creation' | 'earliest';
}

export type TxState = 'prepared' | 'committed' | 'rolledback';

export interface StoredMessage {
  readonly offset: number;
  /** Engine-wide store order; groups start after the seq current at their creation. */
  readonly seq: number;
  readonly messageId: string;
  readonly type: MessageType;
  readonly tag?: string;
  readonly keys: readonly string[];
  readonly messageGroup?: string;
  readonly body: Buffer;
  readonly properties: Readonly<Record<string, string>>;
  readonly bornTimestamp: number;
  readonly bornHost: string;
  readonly storeTimestamp: number;
  readonly deliveryTimestamp?: number;
  readonly transactionId?: string;
  tx?: TxState;
  /** Half-message checks pushed to producers so far. */
  txChecks?: number;
  readonly deadLetter?: { readonly topic: string; readonly messageId: string };
  /** Set by the Remoting broker: the queue a 4.x producer chose (else derived from the offset). */
  readonly queueId?: number;
  /** Set by the Remoting broker: deliveries before this copy (retry topics), and the user flag. */
  readonly reconsumeTimes?: number;
  readonly flag?: number;
}

export interface Topic {
  readonly name: string;
  config: TopicConfig;
  readonly messages: StoredMessage[];
}

export interface Group {
  readonly name: string;
  config: GroupConfig;
  /** Engine seq at creation. */
  readonly createdSeq: number;
}

export interface Delivery {
  /** Deliveries so far (the next one is attempts + 1). */
  attempts: number;
  /** When the message becomes visible again. */
  visibleAt: number;
  handle?: string;
  done: boolean;
  clientId?: string;
  autoRenew?: boolean;
  /** Auto-renew stops here (the proxy renews for at most 3 h). */
  renewUntil?: number;
}

/** One group's progress on one topic. */
export interface Cursor {
  readonly group: string;
  readonly topic: string;
  /** Offsets below `low` are all done or before the group's start. */
  low: number;
  readonly deliveries: Map<number, Delivery>;
}

export const DEFAULT_GROUP: GroupConfig = Object.freeze({
  fifo: false,
  maxDeliveryAttempts: 17,
  retryPolicy: 'exponential',
  startFrom: 'creation',
});

export const DEFAULT_TOPIC: TopicConfig = Object.freeze({ type: 'MIXED', queues: 1 });

export function acceptedTypes(type: TopicType): readonly MessageType[] {
  return type === 'MIXED' ? MESSAGE_TYPES : [type];
}
