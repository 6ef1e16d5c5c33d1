import type { Broker, BrokerConfig, ConnectOptions, ConsumerOptions } from '@switchyard/core';

/**
 * Where the transport gets its broker: one the application opened (and closes), or what to pass
 * to `connect()` (a Switchyard URL or config object: the one line that picks the flavour), in
 * which case the transport opens it on listen/connect and closes it on close.
 */
export type BrokerSource =
  | { readonly broker: Broker }
  | { readonly connect: string | BrokerConfig; readonly connectOptions?: ConnectOptions };

export type SwitchyardServerOptions = BrokerSource & {
  /**
   * The consumer group every pattern's consumer joins (default 'nestjs'); one per service. A
   * function names one group per destination instead: RocketMQ 4.x (Remoting) needs that, since a
   * 4.x group must subscribe the same single topic in every member and Switchyard refuses a second
   * topic for one group there.
   */
  readonly group?: string | ((destination: string) => string);
  /** Consumer options for every pattern (prefetch, concurrency, retry, dead letter, ...). */
  readonly consumer?: ConsumerOptions;
  /**
   * true (default): a message is acked when its handler finished (its promise or observable
   * completed), nacked with backoff when it threw. false: the handler settles it itself through
   * the context (`ctx.ack()`, `ctx.nack()`, `ctx.getMessage()`), as Nest's RMQ transport's
   * `noAck: false`; one it leaves unsettled comes back after the consumer's visibility timeout or
   * on close. A request (a `@MessagePattern` call) is acked once its reply is sent, in either mode.
   */
  readonly noAck?: boolean;
  /** A destination per pattern where they differ (default: the pattern is the destination). */
  readonly destinations?: Readonly<Record<string, string>>;
};

export type SwitchyardClientOptions = BrokerSource & {
  /** How long send() waits for its reply (default 30 s); then it errors with a TIMEOUT error. */
  readonly timeoutMs?: number;
  /** A destination per pattern where they differ (default: the pattern is the destination). */
  readonly destinations?: Readonly<Record<string, string>>;
};
