// The options of send() and receive(), in a module of their own: they are public types, and the
// modules that implement those calls also reach the telemetry types, which name
// @opentelemetry/api (an optional peer that a user's type-check must never meet).

/** Options of Producer.send. */
export interface SendOptions {
  /** Stops waiting for the send: see Producer.send for what an aborted send says was sent. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of Consumer.receive. */
export interface ReceiveOptions {
  /** Most messages returned (default 1). */
  readonly max?: number;
  /** Longest wait for the first message, ms (default the consumer's pollWaitMs). */
  readonly waitMs?: number;
  /** Aborting stops the wait: receive() rejects CLOSED and takes no message. */
  readonly signal?: AbortSignal | undefined;
}
