import { describe, expect, it } from 'vitest';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';

const delivery = (publishedAt: number | undefined): Delivery =>
  ({ id: 'm', body: new Uint8Array(), headers: {}, tags: [], publishedAt }) as unknown as Delivery;

describe('Message', () => {
  it("makes publishedAt's Date on first read, the same one every read, one per message", () => {
    const settler = {} as Settler;
    const a = new Message(delivery(1_700_000_000_000), 1, settler);
    const b = new Message(delivery(1_700_000_000_000), 1, settler);
    expect(a.publishedAt).toEqual(new Date(1_700_000_000_000));
    expect(a.publishedAt).toBe(a.publishedAt);
    expect(b.publishedAt).not.toBe(a.publishedAt);
    expect(new Message(delivery(undefined), 1, settler).publishedAt).toBeUndefined();
  });

  it('settles once: the first of ack, nack and deadLetter wins and later calls get its promise', async () => {
    const calls: string[] = [];
    const settler: Settler = {
      ack: async () => void calls.push('ack'),
      nack: async (_m, delayMs) => void calls.push(`nack ${delayMs}`),
      extend: async () => {},
      deadLetter: async (_m, reason) => void calls.push(`dead-letter ${reason}`),
    };
    const m = new Message(delivery(undefined), 1, settler);
    const first = m.nack({ delayMs: 5 });
    expect(m.ack()).toBe(first);
    expect(m.deadLetter('x')).toBe(first);
    await first;
    expect(calls).toEqual(['nack 5']);
    expect(m.state).toBe('nacked');
    // A settler that throws leaves the message pending, to be settled again.
    const refusing = new Message(delivery(undefined), 1, {
      ...settler,
      deadLetter: () => {
        throw new Error('no destination');
      },
    });
    await expect(refusing.deadLetter('x')).rejects.toThrow('no destination');
    expect(refusing.state).toBe('pending');
    await refusing.ack();
    expect(refusing.state).toBe('acked');
  });
});
