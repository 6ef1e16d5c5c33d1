// Public shapes of the CMQ engine. Times the wire shows are Unix seconds; internal times are ms.

/** Dead-letter policy: policy 0 = moved after maxReceiveCount receives, 1 = moved when unconsumed for maxTimeToLive s. */
export interface DeadLetterPolicy {
  readonly deadLetterQueue: string;
  readonly policy: 0 | 1;
  readonly maxReceiveCount?: number;
  readonly maxTimeToLive?: number;
}

export interface QueueSettings {
  maxMsgHeapNum: number;
  pollingWaitSeconds: number;
  visibilityTimeout: number;
  maxMsgSize: number;
  msgRetentionSeconds: number;
  rewindSeconds: number;
  deadLetterPolicy: DeadLetterPolicy | null;
}

export type QueueSettingsInput = Partial<QueueSettings>;

export interface QueueAttributes extends QueueSettings {
  readonly queueId: string;
  readonly queueName: string;
  readonly createTime: number;
  readonly lastModifyTime: number;
  readonly activeMsgNum: number;
  readonly inactiveMsgNum: number;
  readonly delayMsgNum: number;
  readonly rewindMsgNum: number;
  /** Enqueue time (s) of the oldest live message, 0 when empty. */
  readonly minMsgTime: number;
}

export interface ReceivedMessage {
  readonly msgId: string;
  readonly msgBody: string;
  readonly receiptHandle: string;
  readonly enqueueTime: number;
  readonly firstDequeueTime: number;
  readonly nextVisibleTime: number;
  readonly dequeueCount: number;
}

export interface ReceiveOptions {
  /** 1–16. */
  readonly max?: number;
  /** Long-poll wait, 0–30 s; the queue's pollingWaitSeconds when absent. */
  readonly waitSeconds?: number;
  /** Stops the wait early (client gone, server stopping). */
  readonly signal?: AbortSignal;
}

export interface BatchDeleteFailure {
  readonly receiptHandle: string;
  readonly code: number;
  readonly message: string;
}

export interface ListOptions {
  readonly searchWord?: string;
  readonly offset?: number;
  readonly limit?: number;
}

export interface TopicSettings {
  maxMsgSize: number;
  /** 1 = tag filtering, 2 = routing-key filtering; fixed at creation. */
  readonly filterType: 1 | 2;
}

export interface TopicAttributes {
  readonly topicId: string;
  readonly topicName: string;
  readonly msgCount: number;
  readonly maxMsgSize: number;
  readonly msgRetentionSeconds: number;
  readonly createTime: number;
  readonly lastModifyTime: number;
  readonly filterType: 1 | 2;
}

export type NotifyStrategy = 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY';
export type NotifyContentFormat = 'JSON' | 'SIMPLIFIED';

export interface SubscriptionInput {
  readonly protocol: string;
  readonly endpoint: string;
  readonly notifyStrategy?: string;
  readonly notifyContentFormat?: string;
  readonly filterTags?: readonly string[];
  readonly bindingKeys?: readonly string[];
}

export interface SubscriptionUpdate {
  readonly notifyStrategy?: string;
  readonly notifyContentFormat?: string;
  readonly filterTags?: readonly string[];
  readonly bindingKeys?: readonly string[];
}

export interface SubscriptionAttributes {
  readonly subscriptionId: string;
  readonly subscriptionName: string;
  readonly topicName: string;
  readonly topicOwner: string;
  readonly msgCount: number;
  readonly protocol: 'http' | 'queue';
  readonly endpoint: string;
  readonly notifyStrategy: NotifyStrategy;
  readonly notifyContentFormat: NotifyContentFormat;
  readonly filterTags: string[];
  readonly bindingKeys: string[];
  readonly createTime: number;
  readonly lastModifyTime: number;
}

export interface PublishOptions {
  readonly tags?: readonly string[];
  readonly routingKey?: string;
}
