import type { Message } from '../message.js';

// Public, and free of OpenTelemetry types on purpose: the API is an optional peer, so nothing a
// user's declarations reach may import it (see test/declarations.test.ts).

/** The shape of an OpenTelemetry `Context` (assignable to it), so core's types need no peer. */
export interface TraceContext {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): TraceContext;
  deleteValue(key: symbol): TraceContext;
}

const contexts = new WeakMap<Message, TraceContext>();

/**
 * The OpenTelemetry `Context` of a received message's process span: a child of the producer's
 * span when trace context travelled with the message. run() handlers already run inside it; with
 * receive() or `for await`, wrap work in `context.with(messageContext(m), ...)`. Undefined when
 * tracing is off.
 */
export function messageContext(message: Message): TraceContext | undefined {
  return contexts.get(message);
}

/** @internal The telemetry records each traced message's process context here. */
export function rememberMessageContext(message: Message, context: TraceContext): void {
  contexts.set(message, context);
}
