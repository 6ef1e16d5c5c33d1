import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DriverConsumer, DriverProducer } from '../driver.js';
import { prepareOutgoing } from '../outgoing.js';
import { Waiters } from '../waiters.js';
import { memoryDriver } from './driver.js';

let opened = 0;
async function open(): Promise<{ producer: DriverProducer; consumer: DriverConsumer }> {
  const driver = await memoryDriver.create(
    memoryDriver.parseConfig({ name: `receive-wait-${process.pid}-${opened++}`, retention: 0 }),
    { status: () => {} } as never,
  );
  const producer = await driver.openProducer('q', {} as never);
  const consumer = await driver.openConsumer('q', {
    group: 'g',
    filter: {},
    prefetch: 100,
    visibilityTimeoutMs: undefined,
    startFrom: undefined,
    deadLetter: undefined,
    driverOptions: {},
  });
  return { producer, consumer };
}
const outgoing = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    prepareOutgoing({ body: `m${i}` }, memoryDriver.defaultCapabilities, 'memory'),
  );

afterEach(() => vi.restoreAllMocks());

describe('memory receiveBatch that waits', () => {
  it('waits as a target of the subscription (no promise of its own there) and takes a batch sent meanwhile whole', async () => {
    const { producer, consumer } = await open();
    const wait = vi.spyOn(Waiters.prototype, 'wait');
    const waitFor = vi.spyOn(Waiters.prototype, 'waitFor');
    const receiving = consumer.receiveBatch(100, 54_321);
    // The wait is woken at the batch's first message; the take waits until the send is done.
    await producer.sendBatch(outgoing(10));
    const deliveries = await receiving;
    expect(deliveries.map((d) => Buffer.from(d.body).toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    await consumer.ack(deliveries);
    expect(wait).not.toHaveBeenCalled();
    expect(waitFor.mock.calls.filter(([, ms]) => ms === 54_321)).toHaveLength(1);
  });

  it('a second call made while one waits gets its own; time up or an aborted signal returns empty; a closed consumer rejects', async () => {
    const { producer, consumer } = await open();
    const first = consumer.receiveBatch(3, 60_000);
    const second = consumer.receiveBatch(3, 60_000);
    await producer.sendBatch(outgoing(5));
    const [a, b] = await Promise.all([first, second]);
    expect(a.length + b.length).toBe(5);
    expect(new Set([...a, ...b].map((d) => d.id)).size).toBe(5);
    await consumer.ack([...a, ...b]);
    expect(await consumer.receiveBatch(3, 5)).toEqual([]);
    const controller = new AbortController();
    const aborted = consumer.receiveBatch(3, 60_000, controller.signal);
    controller.abort();
    expect(await aborted).toEqual([]);
    const closing = new AbortController();
    const waiting = consumer.receiveBatch(3, 60_000, closing.signal);
    await consumer.close();
    // The portable layer aborts its receive's signal as it closes the consumer.
    closing.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
