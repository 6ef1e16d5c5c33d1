// The memory driver's peek through the driver contract: it shows what a group gets next and
// changes nothing — the messages come afterwards as first deliveries, in the same order.

import { describe, expect, it } from 'vitest';
import { connect } from '../connect.js';
import type { Driver } from '../driver.js';
import { silentLogger } from '../logger.js';
import { memoryDriver } from './driver.js';

async function admin(url: string) {
  const driver: Driver = await memoryDriver.create(memoryDriver.fromUrl(new URL(url)), {
    logger: silentLogger,
    status: () => {},
  });
  return driver.admin!;
}

describe('memory admin peek', () => {
  it('reads the next messages of a group without taking them', async () => {
    const url = 'memory://admin-peek-1';
    const broker = await connect(url);
    await (await broker.consumer('jobs', { group: 'g' })).close();
    await (await broker.producer('jobs')).send(['1', '2', '3']);
    const peek = (await admin(url)).peek!;
    const text = (m: { body: Uint8Array }) => new TextDecoder().decode(m.body);
    const first = await peek('jobs', 'g', { max: 2 });
    expect(first.map(text)).toEqual(['1', '2']);
    expect(first.map((m) => m.deliveryAttempt)).toEqual([1, 1]);
    expect((await peek('jobs', undefined, { max: 10 })).map(text)).toEqual(['1', '2', '3']);
    const consumer = await broker.consumer('jobs', { group: 'g', prefetch: 3 });
    const got = [];
    while (got.length < 3) got.push(...(await consumer.receive({ max: 3, waitMs: 1_000 })));
    expect(got.map((m) => [m.text(), m.deliveryAttempt])).toEqual([
      ['1', 1],
      ['2', 1],
      ['3', 1],
    ]);
    // In flight: not what the group gets next.
    expect(await peek('jobs', 'g', { max: 10 })).toEqual([]);
    // Closed unsettled: given back once each, the broker counted one delivery of each.
    await consumer.close();
    const again = await peek('jobs', 'g', { max: 10 });
    expect(again.map((m) => [text(m), m.deliveryAttempt])).toEqual([
      ['1', 2],
      ['2', 2],
      ['3', 2],
    ]);
    await broker.close();
  });

  it('holds back a key behind its head; names missing groups; asks which of several', async () => {
    const url = 'memory://admin-peek-2';
    const broker = await connect(url);
    await (await broker.consumer('t', { group: 'a' })).close();
    await (await broker.producer('t')).send([
      { body: 'k1', orderingKey: 'k' },
      { body: 'k2', orderingKey: 'k' },
      { body: 'x' },
    ]);
    const peek = (await admin(url)).peek!;
    expect((await peek('t', 'a', { max: 10 })).map((m) => new TextDecoder().decode(m.body))).toEqual([
      'k1',
      'x',
    ]);
    await expect(peek('t', 'nobody', { max: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await (await broker.consumer('t', { group: 'b' })).close();
    await expect(peek('t', undefined, { max: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(peek('none', 'a', { max: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await broker.close();
  });
});
