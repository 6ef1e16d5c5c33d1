import type { Attributes, Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import { MetricNames } from './metric-names.js';
import type { OtelApi } from './otel.js';

/** Instrument names; the OpenTelemetry messaging conventions' where they define one. */
export { MetricNames };

const SECONDS_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** A consumer whose backlog the lag gauge reports. */
export interface LagSource {
  readonly attributes: Attributes;
  backlog(): number | undefined | Promise<number | undefined>;
}

/** One set of instruments per broker. */
export class Instruments {
  readonly sent: Counter;
  readonly consumed: Counter;
  readonly acked: Counter;
  readonly nacked: Counter;
  readonly deadLettered: Counter;
  readonly errors: Counter;
  readonly sendDuration: Histogram;
  readonly endToEnd: Histogram;
  readonly processDuration: Histogram;
  readonly #lagSources = new Set<LagSource>();

  constructor(api: OtelApi, meter: Meter) {
    const count = (name: string, description: string) =>
      meter.createCounter(name, { description, unit: '{message}', valueType: api.ValueType.INT });
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
      });
    this.sent = count(MetricNames.sent, 'Messages a producer sent (error.type set when the send failed)');
    this.consumed = count(MetricNames.consumed, 'Messages delivered to a consumer');
    this.acked = count(MetricNames.acked, 'Messages acknowledged');
    this.nacked = count(MetricNames.nacked, 'Messages given back for redelivery');
    this.deadLettered = count(MetricNames.deadLettered, 'Messages moved to a dead-letter destination');
    this.errors = meter.createCounter(MetricNames.errors, {
      description: 'Failed operations by portable error code (error.type)',
      unit: '{error}',
      valueType: api.ValueType.INT,
    });
    this.sendDuration = seconds(MetricNames.sendDuration, 'Time from send() to broker confirmation');
    this.endToEnd = seconds(
      MetricNames.endToEnd,
      'Time from send() to delivery to the consumer (across hosts, includes clock skew)',
    );
    this.processDuration = seconds(MetricNames.processDuration, 'Time from hand-out to settlement');
    meter
      .createObservableGauge(MetricNames.lag, {
        description: 'Messages waiting for the consumer group (only where the flavour exposes a backlog)',
        unit: '{message}',
        valueType: api.ValueType.INT,
      })
      .addCallback((result) => this.#observeLag(result));
  }

  watchLag(source: LagSource): () => void {
    this.#lagSources.add(source);
    return () => this.#lagSources.delete(source);
  }

  async #observeLag(result: ObservableResult): Promise<void> {
    await Promise.all(
      [...this.#lagSources].map(async (source) => {
        try {
          const value = await source.backlog();
          if (value !== undefined) result.observe(value, source.attributes);
        } catch {
          // A backlog that cannot be read right now is simply not reported this round.
        }
      }),
    );
  }
}
