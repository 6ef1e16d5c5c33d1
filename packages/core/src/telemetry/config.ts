import { z } from 'zod';

/**
 * The portable `telemetry` broker option. Every field is optional; by default tracing is on when
 * `@opentelemetry/api` is installed and a global tracer provider is registered at connect time,
 * and metrics likewise with a global meter provider.
 */
export interface TelemetryOptions {
  /** true: trace even without a global provider (e.g. one registered later); false: never. */
  tracing?: boolean;
  /** true: record metrics even without a global meter provider; false: never. */
  metrics?: boolean;
  /** An OpenTelemetry TracerProvider to use instead of the global one (implies tracing). */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  /** An OpenTelemetry MeterProvider to use instead of the global one (implies metrics). */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
  /**
   * How trace context travels in headers: 'w3c' (default: W3C `traceparent`, `tracestate` and
   * `baggage`, built in, so no propagator has to be registered) or 'global' (the propagator
   * registered with the OpenTelemetry API, e.g. B3; nothing travels when none is registered).
   */
  propagator?: 'w3c' | 'global';
}

const hasMethod = (name: string) => (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Record<string, unknown>)[name] === 'function';

export const telemetryOptionsSchema = z.strictObject({
  tracing: z.boolean().optional(),
  metrics: z.boolean().optional(),
  tracerProvider: z
    .custom<NonNullable<TelemetryOptions['tracerProvider']>>(hasMethod('getTracer'), {
      message: 'must be an OpenTelemetry TracerProvider (with getTracer)',
    })
    .optional(),
  meterProvider: z
    .custom<NonNullable<TelemetryOptions['meterProvider']>>(hasMethod('getMeter'), {
      message: 'must be an OpenTelemetry MeterProvider (with getMeter)',
    })
    .optional(),
  propagator: z.enum(['w3c', 'global']).optional(),
});
