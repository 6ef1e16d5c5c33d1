import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  TextMapPropagator,
  Tracer,
} from '@opentelemetry/api';
import type { Capabilities } from '../capabilities.js';
import type { Message } from '../message.js';
import type { Delivery, Outgoing, Receipt } from '../message-types.js';
import { TelemetryAttributes as Attr } from './attributes.js';
import type { TelemetryOptions } from './config.js';
import { rememberMessageContext } from './message-context.js';
import { Instruments } from './metrics.js';
import { hasGlobalMeterProvider, hasGlobalTracerProvider, loadOpenTelemetry, type OtelApi } from './otel.js';
import { BAGGAGE, headerGetter, headerSetter, TRACEPARENT, w3cPropagator } from './propagation.js';

const SCOPE = '@switchyard/core';
const SCOPE_VERSION = '0.1.0';
/** Room left for the envelope's own growth when trace headers ride inside it. */
const ENVELOPE_MARGIN = 512;

/** What a process span needs until the message is settled. */
interface ProcessState {
  readonly span: Span | undefined;
  readonly context: Context | undefined;
  readonly parent: SpanContext | undefined;
  readonly started: number;
}

/** The OpenTelemetry context a received message is processed in (its process span), if traced. */
const processStates = new WeakMap<Message, ProcessState>();

/**
 * Telemetry of one broker: created by connect() only when @opentelemetry/api is installed and
 * tracing or metrics is on, so with telemetry off producers and consumers carry no object at all.
 */
export class Telemetry {
  readonly api: OtelApi;
  readonly driver: string;
  readonly tracer: Tracer | undefined;
  readonly instruments: Instruments | undefined;
  readonly propagator: TextMapPropagator<unknown>;
  /**
   * The API's no-op tracer provider when the tracer is the API's proxy (tracing on, no provider
   * registered at connect): spans are no-ops until one is registered.
   */
  readonly #globalNoop: unknown;
  #recordingChecks = 0;
  #recordingCached = false;

  constructor(
    api: OtelApi,
    driver: string,
    tracer: Tracer | undefined,
    instruments: Instruments | undefined,
    propagator: TextMapPropagator<unknown>,
    usesGlobalProvider: boolean,
  ) {
    this.#globalNoop =
      usesGlobalProvider && tracer instanceof api.ProxyTracer
        ? new api.ProxyTracerProvider().getDelegate()
        : undefined;
    this.api = api;
    this.driver = driver;
    this.tracer = tracer;
    this.instruments = instruments;
    this.propagator = propagator;
  }

  /**
   * False while spans would be no-ops: tracing through the global provider and none is
   * registered (yet). Then the hot paths skip span work unless a context has to pass through.
   */
  get recording(): boolean {
    if (this.tracer === undefined) return false;
    if (this.#globalNoop === undefined || this.#recordingCached) return true;
    // Looked up once per 256 calls: a provider registered later is picked up within 256 messages.
    if ((this.#recordingChecks++ & 255) !== 0) return false;
    const provider = this.api.trace.getTracerProvider() as { getDelegate?: () => unknown };
    this.#recordingCached = provider.getDelegate?.() !== this.#globalNoop;
    return this.#recordingCached;
  }

  producer(destination: string, capabilities: Capabilities): ProducerTelemetry {
    return new ProducerTelemetry(this, destination, capabilities);
  }

  consumer(
    source: string,
    group: string,
    backlog?: () => number | undefined | Promise<number | undefined>,
  ): ConsumerTelemetry {
    return new ConsumerTelemetry(this, source, group, backlog);
  }

  /** Counts a failed operation by its portable error code. */
  error(operation: string, error: unknown, attributes: Attributes): void {
    this.instruments?.errors.add(1, {
      ...attributes,
      [Attr.operationName]: operation,
      [Attr.errorType]: errorType(error),
    });
  }
}

/** Resolves the `telemetry` option: undefined (nothing to do, zero cost) or a Telemetry. */
export async function createTelemetry(
  options: TelemetryOptions | undefined,
  driver: string,
): Promise<Telemetry | undefined> {
  if (options?.tracing === false && options.metrics === false) return undefined;
  const api = loadOpenTelemetry();
  if (api === undefined) return undefined;
  const tracing = options?.tracing ?? (options?.tracerProvider !== undefined || hasGlobalTracerProvider(api));
  const metrics = options?.metrics ?? (options?.meterProvider !== undefined || hasGlobalMeterProvider(api));
  if (!tracing && !metrics) return undefined;
  const tracerProvider =
    (options?.tracerProvider as ReturnType<OtelApi['trace']['getTracerProvider']> | undefined) ??
    api.trace.getTracerProvider();
  const meterProvider =
    (options?.meterProvider as ReturnType<OtelApi['metrics']['getMeterProvider']> | undefined) ??
    api.metrics.getMeterProvider();
  return new Telemetry(
    api,
    driver,
    tracing ? tracerProvider.getTracer(SCOPE, SCOPE_VERSION) : undefined,
    metrics ? new Instruments(api, meterProvider.getMeter(SCOPE, SCOPE_VERSION)) : undefined,
    options?.propagator === 'global' ? api.propagation : w3cPropagator(api),
    options?.tracerProvider === undefined,
  );
}

function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return (error as Error | null)?.name ?? 'UNKNOWN';
}

const seconds = (ms: number) => ms / 1_000;

export class ProducerTelemetry {
  readonly #telemetry: Telemetry;
  readonly #destination: string;
  readonly #capabilities: Capabilities;
  readonly #spanName: string;
  readonly attributes: Attributes;

  constructor(telemetry: Telemetry, destination: string, capabilities: Capabilities) {
    this.#telemetry = telemetry;
    this.#destination = destination;
    this.#capabilities = capabilities;
    this.#spanName = `send ${destination}`;
    this.attributes = Object.freeze({ [Attr.system]: telemetry.driver, [Attr.destination]: destination });
  }

  /**
   * Starts one PRODUCER span per message (a child of the active context) and injects its context
   * into the message's headers where the flavour carries headers. Never throws: telemetry must
   * not fail a send.
   */
  send(messages: Outgoing[]): { messages: Outgoing[]; observation: SendObservation | undefined } {
    const { api, tracer, propagator } = this.#telemetry;
    let spans: Array<Span | undefined> | undefined;
    const active = tracer === undefined ? undefined : api.context.active();
    // No-op tracer and nothing to pass through (no parent span, no baggage): skip span work.
    const traced =
      active !== undefined &&
      (this.#telemetry.recording ||
        api.trace.getSpanContext(active) !== undefined ||
        api.propagation.getBaggage(active) !== undefined);
    if (traced && tracer !== undefined) {
      spans = new Array<Span | undefined>(messages.length);
      const canCarry = this.#capabilities.headers !== 'none';
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]!;
        try {
          const span = tracer.startSpan(
            this.#spanName,
            {
              kind: api.SpanKind.PRODUCER,
              attributes: {
                ...this.attributes,
                [Attr.operationType]: 'send',
                [Attr.operationName]: 'send',
                [Attr.messageId]: message.id,
                [Attr.bodySize]: message.body.length,
              },
            },
            active,
          );
          spans[i] = span;
          if (!canCarry) {
            span.setAttribute(Attr.propagation, 'skipped-no-headers');
            continue;
          }
          const carrier: Record<string, string> = {};
          propagator.inject(api.trace.setSpan(active, span), carrier, headerSetter);
          let size = 0;
          for (const key in carrier) size += key.length + carrier[key]!.length + 8;
          if (size === 0) continue;
          if (
            this.#capabilities.headers === 'envelope' &&
            message.body.length + size + ENVELOPE_MARGIN > this.#capabilities.maxMessageBytes
          ) {
            span.setAttribute(Attr.propagation, 'skipped-size');
            continue;
          }
          messages[i] = { ...message, headers: { ...message.headers, ...carrier } };
        } catch {
          // A faulty tracer or propagator: send without context rather than fail.
        }
      }
    }
    const observation =
      spans === undefined && this.#telemetry.instruments === undefined
        ? undefined
        : new SendObservation(this, spans, messages);
    return { messages, observation };
  }

  /** @internal */
  get telemetry(): Telemetry {
    return this.#telemetry;
  }

  /** @internal */
  get destination(): string {
    return this.#destination;
  }
}

/** Ends the send spans and records send metrics as one send() call settles. */
export class SendObservation {
  readonly #producer: ProducerTelemetry;
  readonly #spans: Array<Span | undefined> | undefined;
  readonly #messages: readonly Outgoing[];
  readonly #started = performance.now();
  #remaining: number;

  constructor(
    producer: ProducerTelemetry,
    spans: Array<Span | undefined> | undefined,
    messages: readonly Outgoing[],
  ) {
    this.#producer = producer;
    this.#spans = spans;
    this.#messages = messages;
    this.#remaining = messages.length;
  }

  sent(index: number, receipt: Receipt): void {
    // After failed(): the group already rejected and counted the rest as failed.
    if (this.#remaining <= 0) return;
    this.#remaining--;
    const instruments = this.#producer.telemetry.instruments;
    if (instruments !== undefined) {
      instruments.sent.add(1, this.#producer.attributes);
      instruments.sendDuration.record(seconds(performance.now() - this.#started), this.#producer.attributes);
    }
    const span = this.#spans?.[index];
    if (span === undefined) return;
    this.#spans![index] = undefined;
    const id = this.#messages[index]?.id;
    if (receipt.messageId !== id) {
      span.setAttribute(Attr.messageId, receipt.messageId);
      if (id !== undefined) span.setAttribute(Attr.clientMessageId, id);
    }
    span.end();
  }

  failed(error: Error): void {
    const telemetry = this.#producer.telemetry;
    const { instruments } = telemetry;
    if (instruments !== undefined && this.#remaining > 0) {
      instruments.sent.add(this.#remaining, {
        ...this.#producer.attributes,
        [Attr.errorType]: errorType(error),
      });
      telemetry.error('send', error, this.#producer.attributes);
    }
    this.#remaining = 0;
    if (this.#spans === undefined) return;
    for (let i = 0; i < this.#spans.length; i++) {
      const span = this.#spans[i];
      if (span === undefined) continue;
      this.#spans[i] = undefined;
      span.setAttribute(Attr.errorType, errorType(error));
      span.recordException(error);
      span.setStatus({ code: telemetry.api.SpanStatusCode.ERROR, message: error.message });
      span.end();
    }
  }
}

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
          attributes: {
            ...this.attributes,
            [Attr.operationType]: 'process',
            [Attr.operationName]: 'process',
            [Attr.messageId]: message.id,
            [Attr.bodySize]: message.body.length,
            [Attr.deliveryAttempt]: message.deliveryAttempt,
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
      const attributes: Attributes = {
        ...this.attributes,
        [Attr.operationType]: 'receive',
        [Attr.operationName]: 'receive',
      };
      if (messages.length === 1) {
        attributes[Attr.messageId] = messages[0]!.id;
        attributes[Attr.bodySize] = messages[0]!.body.length;
      } else attributes[Attr.batchCount] = messages.length;
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
