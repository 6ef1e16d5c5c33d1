import { describe, expect, it } from 'vitest';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import type { Consumer } from './consumer.js';
import type { Producer } from './producer.js';

let stores = 0;
const store = () => `dispose-${process.pid}-${stores++}`;

describe('await using (Symbol.asyncDispose)', () => {
  it('closes broker, producer and consumer when the scope ends, after draining the send', async () => {
    let broker: Broker | undefined;
    let producer: Producer | undefined;
    let consumer: Consumer | undefined;
    const name = store();
    {
      await using b = await connect(`memory://${name}`);
      await using p = await b.producer('t');
      await using c = await b.consumer('t');
      broker = b;
      producer = p;
      consumer = c;
      await p.send('hello');
      const [message] = await c.receive({ waitMs: 60_000 });
      await message!.ack();
      expect([b.closed, p.closed, c.closed]).toEqual([false, false, false]);
    }
    // Disposed in reverse order: consumer, producer, then the broker.
    expect([broker.closed, producer.closed, consumer.closed]).toEqual([true, true, true]);
    expect(broker.lastStatus?.type).toBe('closed');
  });

  it('disposing is close(): idempotent, and a closed producer refuses sends', async () => {
    const broker = await connect(`memory://${store()}`);
    const producer = await broker.producer('t');
    await producer[Symbol.asyncDispose]();
    await producer[Symbol.asyncDispose]();
    await expect(producer.send('late')).rejects.toMatchObject({ code: 'CLOSED' });
    await broker[Symbol.asyncDispose]();
    expect(broker.closed).toBe(true);
  });
});
