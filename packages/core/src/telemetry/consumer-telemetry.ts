// Telemetry of one consumer: a process span per message handed to user code (a child of the
// producer's span), a receive span per receive() call linked to the producers, the consume and
// settle metrics, and the lag gauge.

import type { Attributes, Context, Link, Span, SpanContext } from '@opentelemetry/api';
import type { Message } from '../message.js';
import type { Delivery } from '../message-types.js';
import { TelemetryAttributes as Attr } from './attributes.js';
import { rememberMessageContext } from './message-context.js';
import { BAGGAGE, headerGetter, TRACEPARENT } from './propagation.js';
import type { Telemetry } from './telemetry.js';
import { errorType, seconds } from './values.js';

/** What a process span needs until the message is settled. */
interface ProcessState {
  readonly span: Span | undefined;
  readonly context: Context | undefined;
  readonly parent: SpanContext | undefined;
  readonly started: number;
}

/** The OpenTelemetry context a received message is processed in (its process span), if traced. */
const processStates = new WeakMap<Message, ProcessState>();

export type Settlement = 'acked' | 'nacked' | 'dead-lettered' | 'released';

export class ConsumerTelemetry {
  readonly #telemetry: Telemetry;
  readonly #source: string;
  readonly #group: string;
  readonly #processName: string;
  readonly #receiveName: string;
  readonly attributes: Attributes;
  readonly #unwatch: (() => void) | undefined;

  constructor(
    telemetry: Telemetry,
    source: string,
    group: string,
    backlog?: () => number | undefined | Promise<number | undefined>,
  ) {
    this.#telemetry = telemetry;
    this.#source = source;
    this.#group = group;
    this.#processName = `process ${source}`;
    this.#receiveName = `receive ${source}`;
    this.attributes = Object.freeze({
      [Attr.system]: telemetry.driver,
      [Attr.destination]: source,
      [Attr.group]: group,
    });
    this.#unwatch =
      backlog === undefined
        ? undefined
        : telemetry.instruments?.watchLag({ attributes: this.attributes, backlog });
  }

  /** A delivery arrived from the driver. */
  accepted(delivery: Delivery): void {
    const instruments = this.#telemetry.instruments;
    if (instruments === undefined) return;
    instruments.consumed.add(1, this.attributes);
    if (delivery.publishedAt !== undefined)
      instruments.endToEnd.record(Math.max(0, seconds(Date.now() - delivery.publishedAt)), this.attributes);
  }

  /** The message goes to user code (run handler, receive(), iterator): its process span starts. */
  handOut(message: Message): void {
    const { api, tracer, propagator } = this.#telemetry;
    const traced =
      tracer !== undefined &&
      (this.#telemetry.recording || TRACEPARENT in message.headers || BAGGAGE in message.headers);
    if (!traced) {
      // Metrics only (process duration), or a no-op tracer with no context to pass through.
      if (this.#telemetry.instruments !== undefined)
        processStates.set(message, {
          span: undefined,
          context: undefined,
          parent: undefined,
          started: performance.now(),
        });
      return;
    }
    try {
      const extracted = propagator.extract(api.context.active(), message.headers, headerGetter);
      const parent = api.trace.getSpanContext(extracted);
      const remote = parent !== undefined && parent.isRemote === true ? parent : undefined;
      // Child of the producer's span (one trace across the broker), per the messaging conventions'
      // option for single-message processing; see docs/observability.md.
      const span = tracer.startSpan(
        this.#processName,
        {
          kind: api.SpanKind.CONSUMER,
          // The per-message attributes first: added after a spread they cost V8's slow path
          // (≈ 3 µs per span on Node 20; docs/bench-profiles.md §17).
          attributes: {
            [Attr.operationType]: 'process',
            [Attr.operationName]: 'process',
            [Attr.messageId]: message.id,
            [Attr.bodySize]: message.body.length,
            [Attr.deliveryAttempt]: message.deliveryAttempt,
            ...this.attributes,
          },
        },
        extracted,
      );
      const context = api.trace.setSpan(extracted, span);
      processStates.set(message, { span, context, parent: remote, started: performance.now() });
      rememberMessageContext(message, context);
    } catch {
      // Tracing must never break consumption.
    }
  }

  /** A receive() or iterator call returned messages: one receive span linked to their producers. */
  received(messages: readonly Message[], startedAt: number): void {
    const { api, tracer } = this.#telemetry;
    if (tracer === undefined || messages.length === 0 || !this.#telemetry.recording) return;
    try {
      const links: Link[] = [];
      for (const message of messages) {
        const parent = processStates.get(message)?.parent;
        if (parent !== undefined) links.push({ context: parent });
      }
      const attributes: Attributes =
        messages.length === 1
          ? {
              [Attr.operationType]: 'receive',
              [Attr.operationName]: 'receive',
              [Attr.messageId]: messages[0]!.id,
              [Attr.bodySize]: messages[0]!.body.length,
              ...this.attributes,
            }
          : {
              [Attr.operationType]: 'receive',
              [Attr.operationName]: 'receive',
              [Attr.batchCount]: messages.length,
              ...this.attributes,
            };
      tracer
        .startSpan(
          this.#receiveName,
          { kind: api.SpanKind.CONSUMER, attributes, links, startTime: startedAt },
          api.context.active(),
        )
        .end();
    } catch {
      // Tracing must never break consumption.
    }
  }

  /** Runs a run() handler inside the message's process span context. */
  run<T>(message: Message, handler: (message: Message) => T): T {
    const context = processStates.get(message)?.context;
    if (context === undefined) return handler(message);
    return this.#telemetry.api.context.with(context, handler, undefined, message);
  }

  /**
   * Runs `fn` in the message's trace context: its process span's, or (a message never handed out)
   * the context its headers carry. Needs a context manager, as every OpenTelemetry SDK setup has.
   */
  inContext<T>(message: Message, fn: () => T): T {
    const { api, tracer, propagator } = this.#telemetry;
    if (tracer === undefined) return fn();
    let context = processStates.get(message)?.context;
    try {
      context ??= propagator.extract(api.context.active(), message.headers, headerGetter);
    } catch {
      return fn();
    }
    return api.context.with(context, fn);
  }

  /** A run() handler threw. */
  handlerFailed(message: Message, error: unknown): void {
    const span = processStates.get(message)?.span;
    if (span === undefined) return;
    const api = this.#telemetry.api;
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    span.setAttribute(Attr.errorType, errorType(error));
  }

  /** The message was settled (or given back on close): ends its process span, counts it. */
  settled(message: Message, settlement: Settlement): void {
    const instruments = this.#telemetry.instruments;
    if (instruments !== undefined) {
      if (settlement === 'acked') instruments.acked.add(1, this.attributes);
      else if (settlement === 'nacked') instruments.nacked.add(1, this.attributes);
      else if (settlement === 'dead-lettered') instruments.deadLettered.add(1, this.attributes);
    }
    const state = processStates.get(message);
    if (state === undefined) return;
    processStates.delete(message);
    if (instruments !== undefined && settlement !== 'released')
      instruments.processDuration.record(seconds(performance.now() - state.started), this.attributes);
    if (state.span === undefined) return;
    state.span.setAttribute(Attr.settlement, settlement);
    state.span.end();
  }

  error(operation: string, error: unknown): void {
    this.#telemetry.error(operation, error, this.attributes);
  }

  close(): void {
    this.#unwatch?.();
  }

  /** @internal */
  get source(): string {
    return this.#source;
  }

  /** @internal */
  get group(): string {
    return this.#group;
  }
}
