import { randomUUID } from 'node:crypto';
import type { Broker, Consumer, Message } from '@switchyard/core';
import type { ConformanceHarness, ConformanceOptions } from './harness.js';

/** Shared by every scenario of one suite run. */
export class SuiteContext {
  readonly options: ConformanceOptions;
  readonly caps: ConformanceOptions['capabilities'];
  #harness: ConformanceHarness | undefined;
  #broker: Broker | undefined;
  readonly #extraBrokers: Broker[] = [];

  constructor(options: ConformanceOptions) {
    this.options = options;
    this.caps = options.capabilities;
  }

  get scale(): number {
    return this.options.timeScale ?? 1;
  }

  get visibilityMs(): number {
    return this.options.minVisibilityMs ?? 1_000;
  }

  get harness(): ConformanceHarness {
    if (this.#harness === undefined) throw new Error('harness not ready');
    return this.#harness;
  }

  get broker(): Broker {
    if (this.#broker === undefined) throw new Error('broker not ready');
    return this.#broker;
  }

  async setUp(): Promise<void> {
    const harness = await this.options.harness();
    const capture = this.options.leakCheck;
    // Every connection the scenarios open goes through here: watch its status events.
    this.#harness =
      capture === undefined
        ? harness
        : Object.assign(Object.create(harness) as ConformanceHarness, {
            connect: async () => capture.watch(await harness.connect()),
          });
    this.#broker = await this.#harness.connect();
  }

  async tearDown(): Promise<void> {
    await Promise.allSettled(this.#extraBrokers.map((b) => b.close({ timeoutMs: 5_000 })));
    await this.#broker?.close({ timeoutMs: 5_000 });
    await this.#harness?.close();
  }

  /** Another connection, closed with the suite. */
  async connectAnother(): Promise<Broker> {
    const broker = await this.harness.connect();
    this.#extraBrokers.push(broker);
    return broker;
  }

  /** A fresh destination, created through the harness. */
  async destination(prefix = 'conf'): Promise<string> {
    const name = `${prefix}-${randomUUID().slice(0, 8)}`;
    await this.harness.createDestination(name);
    return name;
  }

  group(prefix = 'g'): string {
    return `${prefix}-${randomUUID().slice(0, 8)}`;
  }

  ms(base: number): number {
    return Math.round(base * this.scale);
  }

  /**
   * Awaits a promise that must reject and returns the error, after handing it to the sentinel
   * capture (when the suite has one): scenarios use it instead of `expect(p).rejects`.
   */
  async rejection(promise: Promise<unknown>): Promise<unknown> {
    const capture = this.options.leakCheck;
    if (capture !== undefined) return capture.rejection(promise);
    const settled = await promise.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (settled.ok) throw new Error('expected a rejection, the promise resolved');
    return settled.error;
  }

  /** Hands an error a scenario caught to the sentinel capture (no-op without one); returns it. */
  caught<E>(error: E): E {
    this.options.leakCheck?.error(error, 'caught');
    return error;
  }
}

/** Receives until `count` messages arrived or `timeoutMs` passed; acks each unless told not to. */
export async function collect(
  consumer: Consumer,
  count: number,
  timeoutMs: number,
  options: { ack?: boolean } = {},
): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const batch = await consumer.receive({ max: count - out.length, waitMs: Math.min(left, 1_000) });
    for (const m of batch) {
      if (options.ack !== false) await m.ack();
      out.push(m);
    }
  }
  return out;
}

/** Waits `ms` and returns whatever arrived meanwhile (acking it), to prove nothing came. */
export async function nothingWithin(consumer: Consumer, ms: number): Promise<Message[]> {
  const got = await consumer.receive({ max: 100, waitMs: ms });
  for (const m of got) await m.ack();
  return got;
}

export function texts(messages: readonly Message[]): string[] {
  return messages.map((m) => m.text());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
