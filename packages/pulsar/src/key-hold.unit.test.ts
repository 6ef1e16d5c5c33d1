import { describe, expect, it } from 'vitest';
import { KeyHold } from './key-hold.js';
import type { PulsarMessage } from './native-api.js';

const message = (id: string, key: string) =>
  ({ getMessageId: () => ({ toString: () => id }), getOrderingKey: () => key }) as unknown as PulsarMessage;
const hold = () => new KeyHold((m) => m.getOrderingKey() || undefined);

describe('per-key hold on ordered subscriptions (unit)', () => {
  it('releases one message per key and the next one when the head is acked', () => {
    const h = hold();
    const [a1, a2, b1, free] = [message('1', 'a'), message('2', 'a'), message('3', 'b'), message('4', '')];
    expect([a1, a2, b1, free].map((m) => h.admit(m))).toEqual([true, false, true, true]);
    expect(h.heldCount).toBe(1);
    expect(h.settled(a2)).toBeUndefined(); // not the head
    expect(h.settled(a1)).toBe(a2);
    expect(h.settled(a2)).toBeUndefined();
    expect(h.heldCount).toBe(0);
  });

  it('a nacked head comes back through admit and keeps its place before held ones', () => {
    const h = hold();
    const [a1, a2] = [message('1', 'a'), message('2', 'a')];
    h.admit(a1);
    h.admit(a2);
    const again = message('1', 'a');
    expect(h.admit(again)).toBe(true);
    const a2Again = message('2', 'a');
    expect(h.admit(a2Again)).toBe(false); // redelivered while held: replaces the copy
    expect(h.heldCount).toBe(1);
    expect(h.settled(again)).toBe(a2Again);
  });
});
