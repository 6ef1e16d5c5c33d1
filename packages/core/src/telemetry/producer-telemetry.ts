// Telemetry of one producer: a PRODUCER span per message, its context injected into the headers
// where the flavour carries them, and the send metrics recorded as each send() call settles.

import type { Attributes, Span } from '@opentelemetry/api';
import type { Capabilities } from '../capabilities.js';
import type { Outgoing, Receipt } from '../message-types.js';
import { TelemetryAttributes as Attr } from './attributes.js';
import { headerSetter } from './propagation.js';
import type { Telemetry } from './telemetry.js';
import { errorType, seconds } from './values.js';

/** Room left for the envelope's own growth when trace headers ride inside it. */
const ENVELOPE_MARGIN = 512;

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
              // The per-message attributes first: added after a spread they cost V8's slow path
              // (≈ 3 µs per span on Node 20; docs/bench-profiles.md §17).
              attributes: {
                [Attr.operationType]: 'send',
                [Attr.operationName]: 'send',
                [Attr.messageId]: message.id,
                [Attr.bodySize]: message.bodyBytes ?? message.body.length,
                ...this.attributes,
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
            (message.bodyBytes ?? message.body.length) + size + ENVELOPE_MARGIN >
              this.#capabilities.maxMessageBytes
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
