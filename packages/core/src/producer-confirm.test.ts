import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import type { Receipt } from './message-types.js';
import { registerDriver } from './registry.js';

interface HeldBatch {
  readonly bodies: string[];
  /** Lets the driver's sendBatch resolve with every outcome. */
  release(): void;
}

/**
 * Memory, with confirms reported one by one as a broker's confirms come: each batch is stored at
 * once, the messages `confirmNow` picks are reported confirmed (in the order it gives), and the
 * batch's own promise waits until the test releases it, as a batch waits for its last confirm.
 */
function perMessageConfirms(name: string, batches: HeldBatch[], confirmNow: (bodies: string[]) => number[]) {
  registerDriver(
    faultyMemory(name, {
      async afterSend(messages, results, confirmed) {
        const bodies = messages.map((m) => new TextDecoder().decode(m.body));
        for (const i of confirmNow(bodies)) confirmed?.(i, results[i] as Receipt);
        await new Promise<void>((release) => batches.push({ bodies, release }));
      },
    }),
  );
}

describe('a driver that reports each confirm as it comes', () => {
  it('resolves a send at its own confirm, before the rest of its batch is confirmed', async () => {
    const batches: HeldBatch[] = [];
    perMessageConfirms('confirm-each', batches, (bodies) =>
      bodies.flatMap((body, i) => (body === 'held' ? [] : [i])),
    );
    const broker = await connect({ driver: 'confirm-each', name: `confirm-each-${process.pid}` });
    try {
      // One batch at a time, so the second batch holds 'b' and 'held' together.
      const consumer = await broker.consumer('t');
      const producer = await broker.producer('t', { maxInFlight: 1 });
      const a = producer.send('a');
      const b = producer.send('b');
      let heldSettled = false;
      const held = producer.send('held').finally(() => (heldSettled = true));
      // 'a' resolves while its batch's sendBatch has not returned (the test has not released it).
      const receiptA = await a;
      expect(batches.map((batch) => batch.bodies)).toEqual([['a']]);
      batches[0]!.release();
      const receiptB = await b;
      expect(batches.map((batch) => batch.bodies)).toEqual([['a'], ['b', 'held']]);
      // 'b' is in: its batch is still waiting for the confirm of 'held', which has not resolved.
      await Promise.resolve();
      expect(heldSettled).toBe(false);
      batches[1]!.release();
      const receiptHeld = await held;
      expect(new Set([receiptA.messageId, receiptB.messageId, receiptHeld.messageId]).size).toBe(3);
      await producer.close();
      // Every message was stored once, in order.
      const received: string[] = [];
      while (received.length < 3) {
        for (const message of await consumer.receive({ max: 10, waitMs: 1_000 })) {
          received.push(message.text());
          await message.ack();
        }
      }
      expect(received).toEqual(['a', 'b', 'held']);
      await consumer.close();
    } finally {
      await broker.close({ timeoutMs: 1_000 });
    }
  });

  it('starts the next batch while maxInFlight batches wait for their last confirm', async () => {
    const batches: HeldBatch[] = [];
    perMessageConfirms('confirm-refill', batches, (bodies) =>
      bodies.flatMap((body, i) => (body === 'held' ? [] : [i])),
    );
    const broker = await connect({ driver: 'confirm-refill', name: `confirm-refill-${process.pid}` });
    try {
      const producer = await broker.producer('t', { maxInFlight: 2 });
      // Two batches in flight, neither ended: 'x' is confirmed, 'held' is not.
      const x = producer.send('x');
      const held = producer.send('held');
      await x;
      // 'x' freed a place in the window: 'y' goes out now, as a third batch, and is confirmed.
      await producer.send('y');
      expect(batches.map((batch) => batch.bodies)).toEqual([['x'], ['held'], ['y']]);
      for (const batch of batches) batch.release();
      await held;
      await producer.close();
    } finally {
      await broker.close({ timeoutMs: 1_000 });
    }
  });

  it('gives each send of a batch its own receipt when confirms come out of order', async () => {
    const batches: HeldBatch[] = [];
    perMessageConfirms('confirm-reverse', batches, (bodies) => bodies.map((_, i) => i).reverse());
    const broker = await connect({ driver: 'confirm-reverse', name: `confirm-reverse-${process.pid}` });
    try {
      const consumer = await broker.consumer('t');
      const producer = await broker.producer('t', { maxInFlight: 1 });
      const first = producer.send('first');
      // Queued behind the first batch: one batch of a single send, an array of two, and a single.
      const sends = [producer.send('x'), producer.send(['y1', 'y2']), producer.send('z')];
      await first;
      batches[0]!.release();
      const [x, y, z] = await Promise.all(sends);
      expect(batches[1]!.bodies).toEqual(['x', 'y1', 'y2', 'z']);
      const ids = [x as Receipt, ...(y as Receipt[]), z as Receipt].map((receipt) => receipt.messageId);
      expect(new Set(ids).size).toBe(4);
      // The batch's own result, returned later with the same receipts, settles nothing twice.
      batches[1]!.release();
      await producer.close();
      const byBody = new Map<string, string>();
      while (byBody.size < 5) {
        for (const message of await consumer.receive({ max: 10, waitMs: 1_000 })) {
          byBody.set(message.text(), message.id);
          await message.ack();
        }
      }
      expect(ids).toEqual(['x', 'y1', 'y2', 'z'].map((body) => byBody.get(body)));
      await consumer.close();
    } finally {
      await broker.close({ timeoutMs: 1_000 });
    }
  });
});
