// A test-only push driver for the portable layer's own tests: the real memory driver behind a
// consumer that behaves like a push broker's (AMQP basic.consume): a feeder keeps up to `prefetch`
// unsettled deliveries pushed into a buffer of its own, calls the portable layer's `ready` per
// delivery, and hands them over through takeReady. No push broker runs in-process, and the pull
// contract alone would never reach core's push path.

import type { DriverConsumer, DriverModule } from '../src/driver.js';
import type { Delivery } from '../src/message-types.js';
import { memoryWrapped } from './memory-wrapped.js';

/** What a test sees of one push consumer. */
export interface PushConsumerProbe {
  /** receiveBatch calls (the portable layer should make none on a push driver). */
  receiveCalls: number;
  /** Deliveries pushed and not yet handed over. */
  readonly buffered: number;
  /** Largest `max` takeReady was called with. */
  largestTake: number;
  /** Resolves once `n` deliveries were pushed in all. */
  pushed(n: number): Promise<void>;
  /** Stops the consumer for good: takeReady throws `error` once the buffer is empty. */
  fail(error: Error): void;
}

class PushOverPull implements DriverConsumer, PushConsumerProbe {
  receiveCalls = 0;
  largestTake = 0;
  readonly #inner: DriverConsumer;
  readonly #prefetch: number;
  #buffer: Delivery[] = [];
  /** Pushed and not yet acked or nacked: a push broker's prefetch counts these. */
  #unsettled = 0;
  #pushedTotal = 0;
  #pushWaiters: Array<{ n: number; resolve: () => void }> = [];
  #ready: (() => void) | undefined;
  #fatal: Error | undefined;
  #roomBack: (() => void) | undefined;
  readonly #stop = new AbortController();
  readonly #feeding: Promise<void>;

  constructor(inner: DriverConsumer, prefetch: number) {
    this.#inner = inner;
    this.#prefetch = prefetch;
    this.#feeding = this.#feed();
  }

  get native(): unknown {
    return this.#inner.native;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  pushed(n: number): Promise<void> {
    if (this.#pushedTotal >= n) return Promise.resolve();
    return new Promise((resolve) => this.#pushWaiters.push({ n, resolve }));
  }

  fail(error: Error): void {
    this.#fatal = error;
    this.#ready?.();
  }

  async #feed(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      const room = this.#prefetch - this.#unsettled;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.#roomBack = resolve));
        continue;
      }
      const got = await this.#inner.receiveBatch(room, 20, this.#stop.signal).catch(() => []);
      this.#unsettled += got.length;
      this.#pushedTotal += got.length;
      for (const delivery of got) {
        this.#buffer.push(delivery);
        this.#ready?.();
      }
      const waiting = this.#pushWaiters;
      this.#pushWaiters = [];
      for (const w of waiting) {
        if (w.n <= this.#pushedTotal) w.resolve();
        else this.#pushWaiters.push(w);
      }
    }
  }

  #settled(n: number): void {
    this.#unsettled -= n;
    this.#roomBack?.();
    this.#roomBack = undefined;
  }

  onReady(ready: () => void): void {
    this.#ready = ready;
    if (this.#buffer.length > 0 || this.#fatal !== undefined) ready();
  }

  takeReady(max: number): Delivery[] {
    this.largestTake = Math.max(this.largestTake, max);
    if (this.#buffer.length === 0 && this.#fatal !== undefined) throw this.#fatal;
    return this.#buffer.splice(0, max);
  }

  async receiveBatch(max: number): Promise<Delivery[]> {
    this.receiveCalls++;
    return this.takeReady(max);
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    this.#settled(deliveries.length);
    await this.#inner.ack(deliveries);
  }

  async nack(deliveries: readonly Delivery[], delayMs?: number): Promise<void> {
    this.#settled(deliveries.length);
    await this.#inner.nack(deliveries, delayMs);
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    await this.#inner.extend?.(delivery, ms);
  }

  async deadLetter(deliveries: readonly Delivery[], reason: string, destination: string): Promise<void> {
    this.#settled(deliveries.length);
    await this.#inner.deadLetter?.(deliveries, reason, destination);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    this.#roomBack?.();
    await this.#feeding;
    // What was pushed and never taken goes back, as a channel's close gives it back.
    if (this.#buffer.length > 0) await this.#inner.nack(this.#buffer.splice(0));
    await this.#inner.close();
  }
}

/**
 * A driver module named `name` that behaves like memory with push consumers; `probes` gets each
 * consumer's probe as it opens.
 */
export function pushMemory(name: string, probes: PushConsumerProbe[]): DriverModule {
  return memoryWrapped(name, (inner) => ({
    name,
    capabilities: inner.capabilities,
    native: inner.native,
    close: (options) => inner.close(options),
    openProducer: (destination, options) => inner.openProducer(destination, options),
    async openConsumer(source, options): Promise<DriverConsumer> {
      const consumer = new PushOverPull(await inner.openConsumer(source, options), options.prefetch);
      probes.push(consumer);
      return consumer;
    },
  }));
}
