import { describe, expect, it } from 'vitest';
import { Held } from './handed-out.js';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';

const message = (id: string): Message => new Message({ id } as Delivery, 1, {} as Settler);
const ids = (messages: readonly Message[]): string[] => messages.map((m) => m.id);

/** Buffers `names` as one arrival; returns their messages. */
function arrive(held: Held, ...names: string[]): Message[] {
  const arrival = held.open(names.length);
  const messages = names.map(message);
  for (const m of messages) held.put(arrival, m);
  held.end(arrival);
  return messages;
}

describe('Held', () => {
  it('hands out buffered messages in arrival order across arrivals, skipping those handed out alone', () => {
    const held = new Held();
    expect(held.take()).toBeUndefined();
    arrive(held, 'a', 'b');
    const alone = message('alone');
    held.handOut(alone);
    arrive(held, 'c');
    // An arrival whose messages were all handed out at once buffers nothing.
    held.end(held.open(2));
    expect(held.buffered).toBe(3);
    const taken = [held.take()!, held.take()!, held.take()!];
    expect(ids(taken)).toEqual(['a', 'b', 'c']);
    expect(held.take()).toBeUndefined();
    expect(held.buffered).toBe(0);
    expect(ids(held.outstanding())).toEqual(['a', 'b', 'alone', 'c']);
  });

  it('lists only what is handed out and not released, whichever arrival or place a release is in, and releases each once', () => {
    const held = new Held();
    const [a, b, c] = arrive(held, 'a', 'b', 'c') as [Message, Message, Message];
    const [d, e] = arrive(held, 'd', 'e') as [Message, Message];
    expect(ids([held.take()!, held.take()!, held.take()!, held.take()!])).toEqual(['a', 'b', 'c', 'd']);
    expect(held.remove(b)).toBe(true);
    expect(held.remove(b)).toBe(false);
    expect(held.remove(d)).toBe(true);
    // e is still buffered: not outstanding.
    expect(ids(held.outstanding())).toEqual(['a', 'c']);
    expect(held.remove(a)).toBe(true);
    expect(held.remove(c)).toBe(true);
    expect(held.outstanding()).toEqual([]);
    // The first arrival is let go; the second still holds e for a taker.
    expect(held.take()).toBe(e);
    expect(ids(held.outstanding())).toEqual(['e']);
    expect(held.remove(e)).toBe(true);
    expect(held.outstanding()).toEqual([]);
    // Emptied, it starts again from nothing.
    const [f] = arrive(held, 'f') as [Message];
    expect(held.drain()).toEqual([f]);
    expect(ids(held.outstanding())).toEqual(['f']);
  });

  it('a released message is no longer referenced by its arrival, so its neighbours do not keep it (and its body)', () => {
    const held = new Held();
    const arrival = held.open(2);
    const [a, b] = [message('a'), message('b')];
    held.put(arrival, a);
    held.put(arrival, b);
    held.end(arrival);
    held.take();
    held.remove(a);
    expect(arrival.messages).toEqual([undefined, b]);
  });
});
