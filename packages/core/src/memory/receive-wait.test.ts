import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryPair } from '../../test-kit/memory-pair.js';
import { Waiters } from '../waiters.js';

let opened = 0;
const open = () => memoryPair(`receive-wait-${process.pid}-${opened++}`);
const bodies = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);

afterEach(() => vi.restoreAllMocks());

describe('memory receiveBatch that waits', () => {
  it('waits as a target of the subscription (no promise of its own there) and takes a batch sent meanwhile whole', async () => {
    const { consumer, send } = await open();
    const wait = vi.spyOn(Waiters.prototype, 'wait');
    const waitFor = vi.spyOn(Waiters.prototype, 'waitFor');
    const receiving = consumer.receiveBatch(100, 54_321);
    // The wait is woken at the batch's first message; the take waits until the send is done.
    await send(...bodies(10));
    const deliveries = await receiving;
    expect(deliveries.map((d) => Buffer.from(d.body).toString())).toEqual(bodies(10));
    await consumer.ack(deliveries);
    expect(wait).not.toHaveBeenCalled();
    expect(waitFor.mock.calls.filter(([, ms]) => ms === 54_321)).toHaveLength(1);
  });

  it('a second call made while one waits gets its own; time up or an aborted signal returns empty; a closed consumer rejects', async () => {
    const { consumer, send } = await open();
    const first = consumer.receiveBatch(3, 60_000);
    const second = consumer.receiveBatch(3, 60_000);
    await send(...bodies(5));
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

describe('memory ack', () => {
  it('is done when it returns: every ack returns one fulfilled promise, and the message is gone', async () => {
    const { consumer, send } = await open();
    await send(...bodies(3));
    const [a, b, c] = await consumer.receiveBatch(3, 0);
    const first = consumer.ack([a!]);
    const second = consumer.ack([b!, c!]);
    // No frame or promise of its own per call.
    expect(second).toBe(first);
    await first;
    expect(consumer.backlog?.()).toBe(0);
    expect(await consumer.receiveBatch(3, 0)).toEqual([]);
  });
});
