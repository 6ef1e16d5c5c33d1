import type { AttemptStore } from './attempt-store.js';
import type { BackoffPolicy } from './backoff.js';
import type { Producer } from './producer.js';

export interface ConsumerSettings {
  readonly source: string;
  readonly group: string;
  readonly prefetch: number;
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly maxDeliveries: number | undefined;
  readonly deadLetter: string | undefined;
  readonly pollWaitMs: number;
  /** Most handler starts per second in run() and runBatch() (messages, for batches); undefined: no limit. */
  readonly maxPerSecond?: number | undefined;
  /** Backoff between redeliveries of a message whose run() handler threw. */
  readonly handlerRetry: {
    readonly initialDelayMs: number;
    readonly maxDelayMs: number;
    readonly multiplier: number;
  };
  /** Retry of retryable transport errors on receive and ack. */
  readonly transportRetry: BackoffPolicy;
  /** Durable delivery counts per `Delivery.attemptKey`; undefined: counted in this process. */
  readonly attemptStore?: AttemptStore | undefined;
}

export interface ConsumerHooks {
  /** Opens (once, lazily) a producer on the same broker for emulated dead-lettering. */
  openProducer(destination: string): Promise<Producer>;
  onClose(): void;
}

export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
/**
 * Acks per driver call, and how long the oldest may wait for company: a lease stays open (and the
 * message's body in memory) until its ack reaches the broker.
 */
export const ACK_LIMITS = { maxBatch: 1_000, maxDelayMs: 10 } as const;
/** How long a message being dead-lettered stays invisible, for the copy and the ack. */
export const DEAD_LETTER_LEASE_MS = 60_000;
/** How much longer than its delay a message waiting for a delayed nack stays invisible. */
export const DELAYED_NACK_MARGIN_MS = 30_000;
