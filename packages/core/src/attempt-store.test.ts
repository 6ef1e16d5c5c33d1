import { describe, expect, it } from 'vitest';
import type { AttemptStore } from './attempt-store.js';
import { countAttempts } from './attempt-store.js';
import { AttemptTracker } from './attempts.js';
import { connect } from './connect.js';
import type { Delivery } from './message-types.js';

let n = 0;
const store = () => `attempt-store-${process.pid}-${++n}`;

/** A delivery as a driver reports it, for the counting rule alone. */
const delivery = (attemptKey: string | undefined, deliveryAttempt: number | undefined) =>
  ({ attemptKey, deliveryAttempt }) as Delivery;

/** An AttemptTracker that records each call, and can be told to fail. */
class SharedStore implements AttemptStore {
  readonly inner = new AttemptTracker();
  calls: string[][] = [];
  /** Every call in order: `+key` counted, `-key` forgotten. */
  log: string[] = [];
  failNext = 0;
  async increment(keys: readonly string[]): Promise<number[]> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store down');
    }
    this.calls.push([...keys]);
    this.log.push(...keys.map((k) => `+${k}`));
    return this.inner.increment(keys);
  }
  forget(keys: readonly string[]): Promise<void> {
    this.log.push(...keys.map((k) => `-${k}`));
    return this.inner.forget(keys);
  }
}

describe('countAttempts', () => {
  it('adds the store count to the carried count less one, and leaves keyless deliveries alone', async () => {
    const s = new SharedStore();
    await s.increment(['q/g/b', 'q/g/b']);
    const attempts = await countAttempts(
      s,
      [delivery('a', undefined), delivery('b', 3), delivery(undefined, 5)],
      'q',
      'g',
    );
    // a: first handout, no carried count; b: a copy carrying 3 whose position was handed out twice.
    expect(attempts).toEqual([1, 5, undefined]);
    expect(s.calls.at(-1)).toEqual(['q/g/a', 'q/g/b']);
  });

  it('asks the store nothing when no delivery has a key', async () => {
    const s = new SharedStore();
    expect(await countAttempts(s, [delivery(undefined, 2)], 'q', 'g')).toEqual([undefined]);
    expect(s.calls).toEqual([]);
  });

  it('rejects an answer that is not one count per key', async () => {
    const bad: AttemptStore = { increment: async () => [1], forget: async () => {} };
    await expect(countAttempts(bad, [delivery('a', 1), delivery('b', 1)], 'q', 'g')).rejects.toThrow(
      /one whole number ≥ 1 per key/,
    );
  });
});

describe('consumer attemptStore', () => {
  it('counts across consumers sharing the store: the 4th handout is dead-lettered before any handler', async () => {
    // The minimal profile counts nothing on the broker; each consumer stands for a process that
    // dies with the message unsettled (close gives it back), so only the shared store remembers.
    const shared = new SharedStore();
    const name = store();
    const options = { group: 'g', maxDeliveries: 3, deadLetter: 'dlq', attemptStore: shared };
    const broker = await connect({ driver: 'memory', name, profile: 'minimal' });
    const producer = await broker.producer('jobs');
    await producer.send({ body: 'poison' });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const consumer = await broker.consumer('jobs', options);
      const [m] = await consumer.receive({ waitMs: 5_000 });
      seen.push(m!.deliveryAttempt);
      await consumer.close();
    }
    expect(seen).toEqual([1, 2, 3]);
    const last = await broker.consumer('jobs', options);
    const dlq = await broker.consumer('dlq', { group: 'r' });
    const [dead] = await dlq.receive({ waitMs: 5_000 });
    expect(dead?.text()).toBe('poison');
    expect(dead?.headers['x-switchyard-dead-letter-reason']).toBe(
      'delivered 3 times without an ack (maxDeliveries 3)',
    );
    expect(await last.receive({ waitMs: 200 })).toEqual([]);
    await broker.close();
  });

  it('an ack forgets the count; a store failure gives the receive back uncounted and unhandled', async () => {
    const shared = new SharedStore();
    shared.failNext = 1;
    const broker = await connect({ driver: 'memory', name: store(), profile: 'minimal' });
    const consumer = await broker.consumer('jobs', {
      group: 'g',
      attemptStore: shared,
      retry: { initialDelayMs: 1, maxDelayMs: 1 },
    });
    const producer = await broker.producer('jobs');
    await producer.send({ body: 'one' });
    const [m] = await consumer.receive({ waitMs: 5_000 });
    // The failed count handed nothing out; the message came back and was counted as a first delivery.
    expect(m?.deliveryAttempt).toBe(1);
    expect(shared.failNext).toBe(0);
    await m!.ack();
    await consumer.close();
    expect(await shared.inner.increment(shared.calls[0]!)).toEqual([1]);
    await broker.close();
  });

  it("an ack's forget is in the store before the next message is counted", async () => {
    // A message acked just before a crash may be delivered again (an offset not yet committed):
    // it must come back counted from 1, so nothing is handed out before the forget is stored.
    const shared = new SharedStore();
    const broker = await connect({ driver: 'memory', name: store(), profile: 'minimal' });
    const consumer = await broker.consumer('jobs', { group: 'g', prefetch: 1, attemptStore: shared });
    const producer = await broker.producer('jobs');
    await producer.send([{ body: 'one' }, { body: 'two' }]);
    const [first] = await consumer.receive({ waitMs: 5_000 });
    await first!.ack();
    const [second] = await consumer.receive({ waitMs: 5_000 });
    expect(second?.text()).toBe('two');
    const [counted1, counted2] = shared.calls.map(([key]) => key!);
    expect(shared.log).toEqual([`+${counted1}`, `-${counted1}`, `+${counted2}`]);
    await broker.close();
  });

  it('refuses an option that is not an AttemptStore', async () => {
    const broker = await connect({ driver: 'memory', name: store() });
    await expect(
      broker.consumer('jobs', { attemptStore: { increment: () => [] } as unknown as AttemptStore }),
    ).rejects.toThrow(/consumer options\.attemptStore: must be an AttemptStore/);
    await broker.close();
  });
});
