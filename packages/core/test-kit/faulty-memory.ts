// Test-only drivers for the portable layer's own tests: the real memory driver with faults
// injected at the driver boundary, to reach paths no healthy broker takes.

import type { Capabilities } from '../src/capabilities.js';
import type {
  Driver,
  DriverCloseOptions,
  DriverConsumer,
  DriverModule,
  DriverProducer,
} from '../src/driver.js';
import type { Outgoing, Receipt } from '../src/message-types.js';
import { memoryWrapped } from './memory-wrapped.js';

export interface FaultPlan {
  /** Called before each receiveBatch; throw to fail it. */
  beforeReceive?(): void;
  /** Called before each ack; throw to fail it. */
  beforeAck?(): void;
  /** Awaited before each nack: a promise that never settles is a broker that never answers. */
  beforeNack?(): Promise<void>;
  /** Called before each sendBatch with its signal; throw (or reject) to fail it. */
  beforeSend?(signal: AbortSignal | undefined): void | Promise<void>;
  /**
   * Awaited after each sendBatch stored its messages, before it returns their results: reports
   * confirms one by one through `confirmed`, or holds the batch as a broker's last confirm would.
   */
  afterSend?(
    messages: readonly Outgoing[],
    results: Array<Receipt | Error>,
    confirmed: ((index: number, receipt: Receipt) => void) | undefined,
  ): Promise<void>;
  /** Called with what the portable layer passes to each close (the driver's, a producer's, a consumer's). */
  onClose?(what: 'driver' | 'producer' | 'consumer', options: DriverCloseOptions | undefined): void;
}

/**
 * A driver module named `name` that behaves like memory but runs `plan` at the boundary.
 * `capabilities` overrides what the driver declares: e.g. `orderingKeys: true` over the `minimal`
 * profile, which hands out every message of a key at once, so only the portable layer's per-key
 * lanes can keep them in order.
 */
export function faultyMemory(
  name: string,
  plan: FaultPlan,
  capabilities: Partial<Capabilities> = {},
): DriverModule {
  return memoryWrapped(name, (inner: Driver): Driver => {
    return {
      name,
      capabilities: Object.freeze({ ...inner.capabilities, ...capabilities }),
      native: inner.native,
      close: (options) => {
        plan.onClose?.('driver', options);
        return inner.close(options);
      },
      async openProducer(destination, options): Promise<DriverProducer> {
        const producer = await inner.openProducer(destination, options);
        return {
          native: producer.native,
          close: (options) => {
            plan.onClose?.('producer', options);
            return producer.close(options);
          },
          sendBatch: async (messages, signal, confirmed) => {
            await plan.beforeSend?.(signal);
            const results = await producer.sendBatch(messages, signal, confirmed);
            await plan.afterSend?.(messages, results, confirmed);
            return results;
          },
        };
      },
      async openConsumer(source, options): Promise<DriverConsumer> {
        const consumer = await inner.openConsumer(source, options);
        return {
          native: consumer.native,
          close: (options) => {
            plan.onClose?.('consumer', options);
            return consumer.close(options);
          },
          receiveBatch: async (max, waitMs, signal) => {
            plan.beforeReceive?.();
            return consumer.receiveBatch(max, waitMs, signal);
          },
          ack: async (deliveries) => {
            plan.beforeAck?.();
            return consumer.ack(deliveries);
          },
          nack: async (deliveries, delayMs) => {
            await plan.beforeNack?.();
            return consumer.nack(deliveries, delayMs);
          },
          ...(consumer.extend ? { extend: consumer.extend.bind(consumer) } : {}),
          ...(consumer.deadLetter ? { deadLetter: consumer.deadLetter.bind(consumer) } : {}),
        };
      },
    };
  });
}
