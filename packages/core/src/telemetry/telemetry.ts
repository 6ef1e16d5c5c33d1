// Telemetry of one broker, and connect()'s choice whether to have any. Producers' and consumers'
// own telemetry is in producer-telemetry.ts and consumer-telemetry.ts.

import type { Attributes, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { Capabilities } from '../capabilities.js';
import { TelemetryAttributes as Attr } from './attributes.js';
import type { TelemetryOptions } from './config.js';
import { ConsumerTelemetry } from './consumer-telemetry.js';
import { Instruments } from './metrics.js';
import { hasGlobalMeterProvider, hasGlobalTracerProvider, loadOpenTelemetry, type OtelApi } from './otel.js';
import { ProducerTelemetry } from './producer-telemetry.js';
import { w3cPropagator } from './propagation.js';
import { errorType } from './values.js';

export { ConsumerTelemetry, type Settlement } from './consumer-telemetry.js';
export { ProducerTelemetry, SendObservation } from './producer-telemetry.js';

const SCOPE = '@switchyard/core';
const SCOPE_VERSION = '0.1.0';

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
