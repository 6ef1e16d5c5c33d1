// The memory consumer's receiveBatch lends its array: the next call empties the batch the previous
// one returned, so a promise that waited long (old by the time it is fulfilled) does not keep the
// batch's deliveries alive once the caller has taken them out (docs/bench-profiles.md §20.1).

import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../test-kit/memory-pair.js';
import { connect } from '../connect.js';
import type { Delivery } from '../driver-entry.js';

let seq = 0;

const pair = () => memoryPair(`lent-${process.pid}-${++seq}`);

const text = (d: Delivery) => new TextDecoder().decode(d.body);

describe('memory receiveBatch lends its array until the next call', () => {
  it('empties the previous batch when the next receiveBatch starts, and the deliveries still settle', async () => {
    const { consumer, send } = await pair();
    await send('a', 'b');
    const first = await consumer.receiveBatch(10, 0);
    const taken = [...first];
    expect(taken.map(text)).toEqual(['a', 'b']);
    await send('c');
    const second = await consumer.receiveBatch(10, 0);
    expect(first).toHaveLength(0);
    expect(second.map(text)).toEqual(['c']);
    // What the caller took out settles as before: acked once, never redelivered.
    await consumer.ack([...taken, ...second]);
    expect(await consumer.receiveBatch(10, 0)).toEqual([]);
    expect(second).toHaveLength(0);
  });

  it('empties a batch that came after a wait, when the next call starts', async () => {
    const { consumer, send } = await pair();
    const waited = consumer.receiveBatch(10, 60_000);
    await send('x');
    const batch = await waited;
    expect(batch.map(text)).toEqual(['x']);
    const next = consumer.receiveBatch(10, 0);
    expect(batch).toHaveLength(0);
    expect(await next).toEqual([]);
  });

  it('leaves a receive() caller’s messages whole across later receives', async () => {
    const broker = await connect(`memory://lent-portable-${process.pid}-${++seq}`);
    const consumer = await broker.consumer('q', { prefetch: 2 });
    const producer = await broker.producer('q');
    await producer.send(['1', '2', '3', '4', '5']);
    const batches = [];
    let got = 0;
    while (got < 5) {
      const messages = await consumer.receive({ max: 2, waitMs: 1_000 });
      batches.push(messages);
      got += messages.length;
      for (const m of messages) await m.ack();
    }
    expect(batches.flat().map((m) => m.text())).toEqual(['1', '2', '3', '4', '5']);
    await broker.close();
  });
});
