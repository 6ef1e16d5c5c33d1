import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckWindow, type Handle } from './ack-window.js';

const handle = (deliveryTag: number): Handle => ({
  channel: {} as Channel,
  message: { fields: { deliveryTag } } as ConsumeMessage,
  previous: 0,
  settled: false,
  acking: false,
});

const settle = (h: Handle): void => {
  h.settled = true;
  h.acking = true;
};

describe('AckWindow', () => {
  it('returns the last settled delivery of the prefix, and stops at the first unsettled one', () => {
    const window = new AckWindow();
    const hs = [1, 2, 3, 4].map(handle);
    for (const h of hs) window.push(h);
    settle(hs[0]!);
    settle(hs[2]!);
    expect(window.advance()).toBe(hs[0]);
    // 3 is settled but behind unsettled 2: not covered yet.
    expect(window.advance()).toBeUndefined();
    settle(hs[1]!);
    hs[2]!.acking = true;
    expect(window.advance()).toBe(hs[2]);
  });

  it('keeps order across a window that empties and refills, and one that never empties (moved down in place)', () => {
    const window = new AckWindow();
    let tag = 0;
    // Empties every 27: slots are reused from the start.
    for (let round = 0; round < 100; round++) {
      const hs = Array.from({ length: 27 }, () => handle(++tag));
      for (const h of hs) window.push(h);
      for (const h of hs) settle(h);
      expect(window.advance()).toBe(hs[26]);
    }
    // One delivery held while 3,000 after it are settled: the window never empties, and the
    // prefix advances only once the held one is settled, to the very last.
    const held = handle(++tag);
    window.push(held);
    const later: Handle[] = [];
    for (let i = 0; i < 3_000; i++) {
      const h = handle(++tag);
      later.push(h);
      window.push(h);
      settle(h);
      if (i % 100 === 99) expect(window.advance()).toBeUndefined();
    }
    settle(held);
    expect(window.advance()).toBe(later.at(-1));
    // Past a long run, settled from the front with some kept: the moved-down part stays in order.
    const run = Array.from({ length: 2_100 }, () => handle(++tag));
    for (const h of run) window.push(h);
    for (const h of run.slice(0, 1_500)) settle(h);
    expect(window.advance()).toBe(run[1_499]);
    for (const h of run.slice(1_500, 1_800)) settle(h);
    expect(window.advance()).toBe(run[1_799]);
    for (const h of run.slice(1_800)) settle(h);
    expect(window.advance()).toBe(run[2_099]);
  });
});
