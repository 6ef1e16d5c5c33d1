import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from './broker.js';
import type { Capabilities } from './capabilities.js';
import { connect } from './connect.js';
import type { Driver, DriverConsumer, DriverConsumerOptions, DriverModule, RequeueCopy } from './driver.js';
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import { memoryDriver } from './memory/driver.js';
import type { Delivery } from './message-types.js';
import { registerDriver } from './registry.js';

// A broker without nack, over the memory driver: requeueCopy publishes the copy to the same topic
// with its count in a header, which the consumer reads back and strips (what CMQ and Pulsar over
// HTTP do on their wires). Faults are injected at requeueCopy.
const COUNT = 'x-test-attempts';

interface Plan {
  /** Decides each copy's fate; undefined sends it. */
  fail?: (copy: RequeueCopy) => Error | undefined;
  /** Awaited before each copy is sent. */
  gate?: Promise<void>;
  copies: RequeueCopy[];
  options?: DriverConsumerOptions;
}

function copyingMemory(name: string, plan: Plan, capabilities: Partial<Capabilities>): DriverModule {
  return {
    ...memoryDriver,
    name,
    schemes: [name],
    async create(config, context): Promise<Driver> {
      const inner = await memoryDriver.create(memoryDriver.parseConfig(config), context);
      return {
        name,
        capabilities: Object.freeze({ ...inner.capabilities, ...capabilities }),
        native: inner.native,
        close: () => inner.close(),
        openProducer: (destination, options) => inner.openProducer(destination, options),
        async openConsumer(source, options): Promise<DriverConsumer> {
          plan.options = options;
          const consumer = await inner.openConsumer(source, options);
          const producer = await inner.openProducer(source, { driverOptions: {} });
          return {
            native: consumer.native,
            close: async () => {
              await producer.close();
              await consumer.close();
            },
            receiveBatch: async (max, waitMs, signal) =>
              (await consumer.receiveBatch(max, waitMs, signal)).map(readCount),
            ack: (deliveries) => consumer.ack(deliveries),
            nack: (deliveries, delayMs) => consumer.nack(deliveries, delayMs),
            async requeueCopy(copies, delayMs) {
              await plan.gate;
              return Promise.all(
                copies.map(async (copy) => {
                  plan.copies.push(copy);
                  const failure = plan.fail?.(copy);
                  if (failure !== undefined) return failure;
                  const { delivery: d } = copy;
                  const [result] = await producer.sendBatch([
                    {
                      id: d.id,
                      body: d.body,
                      contentType: d.contentType ?? 'application/octet-stream',
                      headers: { ...d.headers, [COUNT]: String(copy.attempts) },
                      key: d.key,
                      tags: d.tags,
                      routingKey: d.routingKey,
                      orderingKey: d.orderingKey,
                      delayMs,
                      publishedAt: d.publishedAt ?? Date.now(),
                    },
                  ]);
                  return result instanceof Error ? result : true;
                }),
              );
            },
          };
        },
      };
    },
  };
}

function readCount(d: Delivery): Delivery {
  const { [COUNT]: carried, ...headers } = d.headers;
  if (carried === undefined) return d;
  return { ...d, headers, deliveryAttempt: (d.deliveryAttempt ?? 1) + Number(carried) };
}

let seq = 0;
let broker: Broker | undefined;
afterEach(async () => {
  await broker?.close({ timeoutMs: 1_000 });
  broker = undefined;
});

async function open(plan: Plan, capabilities: Partial<Capabilities> = { nack: 'emulated' }) {
  const name = `copying-${process.pid}-${++seq}`;
  registerDriver(copyingMemory(name, plan, capabilities));
  broker = await connect({ driver: name, name, retry: { maxAttempts: 2, initialDelayMs: 5 } });
  const consumer = await broker.consumer('t', { group: 'g', visibilityTimeoutMs: 300 });
  const producer = await broker.producer('t');
  return { consumer, producer };
}

describe('nack by copy (capabilities.nack emulated)', () => {
  it('copies once with the delivery count, acks the original; the copy carries id and headers', async () => {
    const plan: Plan = { copies: [] };
    const { consumer, producer } = await open(plan);
    await producer.send({ body: 'again', headers: { h: 'v' }, id: 'm-1' });
    const [first] = await consumer.receive({ waitMs: 5_000 });
    await first!.nack();
    const [second] = await consumer.receive({ waitMs: 5_000 });
    expect(plan.copies.map((c) => c.attempts)).toEqual([1]);
    expect(second).toMatchObject({ id: 'm-1', deliveryAttempt: 2, headers: { h: 'v' } });
    await second!.nack();
    const [third] = await consumer.receive({ waitMs: 5_000 });
    expect(third!.deliveryAttempt).toBe(3);
    await third!.ack();
    // Both originals were acked: nothing comes back after the visibility timeout.
    expect(await consumer.receive({ waitMs: 1_000 })).toEqual([]);
  });

  it('a lease that expires while a nack is copying joins it: one copy', async () => {
    let open_: () => void = () => {};
    const plan: Plan = { copies: [], gate: new Promise<void>((resolve) => (open_ = resolve)) };
    const { consumer, producer } = await open(plan);
    await producer.send('once');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    const nacked = m!.nack();
    plan.options!.leaseExpired!(m!.delivery);
    open_();
    await nacked;
    const [copy] = await consumer.receive({ waitMs: 5_000 });
    await copy!.ack();
    expect(plan.copies).toHaveLength(1);
    expect(await consumer.receive({ waitMs: 1_000 })).toEqual([]);
  });

  it('a failed copy leaves the original unacked: the nack rejects and the message returns', async () => {
    const plan: Plan = { copies: [], fail: () => new InvalidArgumentError('injected: copy refused') };
    const { consumer, producer } = await open(plan);
    await producer.send('kept');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    await expect(m!.nack()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const [back] = await consumer.receive({ waitMs: 5_000 });
    expect(back).toMatchObject({ id: m!.id, deliveryAttempt: 2 });
    await back!.ack();
  });

  it('a delivery the driver cannot copy (UNSUPPORTED): the nack resolves, the visibility timeout returns it', async () => {
    const plan: Plan = { copies: [], fail: () => new UnsupportedError('injected: foreign body') };
    const { consumer, producer } = await open(plan);
    await producer.send('foreign');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    await m!.nack();
    const [back] = await consumer.receive({ waitMs: 5_000 });
    expect(back).toMatchObject({ id: m!.id, deliveryAttempt: 2 });
    await back!.ack();
  });

  it('close gives back unseen buffered messages by a copy that does not count them', async () => {
    const plan: Plan = { copies: [] };
    const { consumer, producer } = await open(plan);
    await producer.send(['a', 'b', 'c']);
    // Wait until the pump has buffered them: one receive takes one, the rest stay unseen.
    const [taken] = await consumer.receive({ waitMs: 5_000 });
    await taken!.ack();
    await consumer.close();
    expect(plan.copies.length).toBeGreaterThan(0);
    for (const copy of plan.copies) expect(copy.attempts).toBe(0);
  });
});

describe('delayed nack by copy on a broker that nacks natively', () => {
  it('a failed copy falls back to a plain nack: redelivered at once, not lost', async () => {
    const plan: Plan = { copies: [], fail: () => new InvalidArgumentError('injected: no delay route') };
    const { consumer, producer } = await open(plan, { nack: 'native', nackDelay: 'native' });
    await producer.send('now');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    await m!.nack({ delayMs: 60_000 });
    const [back] = await consumer.receive({ waitMs: 5_000 });
    expect(plan.copies).toHaveLength(1);
    expect(back).toMatchObject({ id: m!.id, deliveryAttempt: 2 });
    await back!.ack();
  });

  it('a nack without delay is the broker nack, no copy', async () => {
    const plan: Plan = { copies: [] };
    const { consumer, producer } = await open(plan, { nack: 'native', nackDelay: 'native' });
    await producer.send('plain');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    await m!.nack();
    const [back] = await consumer.receive({ waitMs: 5_000 });
    expect(back!.deliveryAttempt).toBe(2);
    expect(plan.copies).toHaveLength(0);
    await back!.ack();
  });
});
