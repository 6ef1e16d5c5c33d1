import { describe, expect, it } from 'vitest';
import { HandedOut } from './handed-out.js';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';

const message = (id: string): Message => new Message({ id } as Delivery, 1, {} as Settler);

describe('HandedOut', () => {
  it('lists what is handed out in the order it was, whichever end or middle settles, and removes each once', () => {
    const out = new HandedOut();
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(message) as [
      Message,
      Message,
      Message,
      Message,
      Message,
    ];
    expect(out.remove(a)).toBe(false);
    for (const m of [a, b, c, d]) out.add(m);
    expect(out.remove(b)).toBe(true);
    expect(out.remove(d)).toBe(true);
    expect(out.remove(a)).toBe(true);
    expect(out.remove(a)).toBe(false);
    out.add(e);
    expect(out.all().map((m) => m.id)).toEqual(['c', 'e']);
    expect(out.size).toBe(2);
    expect(out.remove(c)).toBe(true);
    expect(out.remove(e)).toBe(true);
    expect(out.all()).toEqual([]);
    // Emptied, it starts again from nothing.
    out.add(b);
    expect(out.all()).toEqual([b]);
  });
});
