import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { registerDriver } from './registry.js';

/** Memory that records each sendBatch's size and holds every batch until the test opens the gate. */
function holding(name: string, sizes: number[]) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  registerDriver(
    faultyMemory(name, {
      async afterSend(messages) {
        sizes.push(messages.length);
        await gate;
      },
    }),
  );
  return () => open();
}

describe('concurrent send() calls made in one tick', () => {
  it('go out as one lone send and one batch of the rest, not one batch per free slot', async () => {
    const sizes: number[] = [];
    const name = `gather-${process.pid}`;
    const open = holding(name, sizes);
    const broker = await connect({ driver: name, name });
    try {
      const producer = await broker.producer('t', { maxInFlight: 4, maxBatchSize: 64 });
      // 20 callers in the same tick (a burst): the first goes straight to the driver, the other
      // 19 are gathered at the end of the tick. Before, the first 4 went alone (one per free
      // slot) and the other 16 waited for one of them to end.
      const sends = Array.from({ length: 20 }, (_, i) => producer.send(`m${i}`));
      await expect.poll(() => sizes.length).toBe(2);
      expect(sizes).toEqual([1, 19]);
      open();
      await Promise.all(sends);
      // A lone send with nothing in flight still goes straight out, alone.
      await producer.send('after');
      expect(sizes).toEqual([1, 19, 1]);
    } finally {
      open();
      await broker.close();
    }
  });
});
