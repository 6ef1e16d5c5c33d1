import { afterEach, describe, expect, it } from 'vitest';
import { faultyMemory } from '../../test-kit/faulty-memory.js';
import type { Broker } from '../broker.js';
import { connect } from '../connect.js';
import { PermissionDeniedError } from '../errors.js';
import type { Message } from '../message.js';
import { registerDriver } from '../registry.js';
import { DualWriteError, DualWriteProducer } from './dual-write.js';

let failing = false;
registerDriver(
  faultyMemory('memory-dual-write-faulty', {
    beforeSend() {
      if (failing) throw new PermissionDeniedError('injected: not allowed to send', { driver: 'faulty' });
    },
  }),
);

const brokers: Broker[] = [];
afterEach(async () => {
  failing = false;
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

let n = 0;
async function setup() {
  n++;
  const old = await connect(`memory://dw-old-${n}`);
  const next = await connect({ driver: 'memory-dual-write-faulty', name: `dw-new-${n}` });
  brokers.push(old, next);
  const oldConsumer = await old.consumer('orders');
  const newConsumer = await next.consumer('orders');
  return { old, next, oldConsumer, newConsumer };
}

async function texts(consumer: { receive(o: object): Promise<Message[]> }, want: number): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 20 && out.length < want; i++)
    out.push(...(await consumer.receive({ max: want, waitMs: 50 })));
  return out;
}

describe('DualWriteProducer', () => {
  it("require 'both': resolves when both accepted; both sides get the same id, headers and key", async () => {
    const { old, next, oldConsumer, newConsumer } = await setup();
    const producer = new DualWriteProducer(await old.producer('orders'), await next.producer('orders'), {
      names: ['old', 'new'],
    });
    const receipt = await producer.send({ body: 'a', key: 'k1', headers: { h: '1' } });
    expect(receipt.messageId).toBeTruthy();
    await producer.send(['b', 'c']);
    const [a, b] = [await texts(oldConsumer, 3), await texts(newConsumer, 3)];
    expect(a.map((m) => m.text())).toEqual(['a', 'b', 'c']);
    expect(b.map((m) => m.text())).toEqual(['a', 'b', 'c']);
    expect(a.map((m) => m.id)).toEqual(b.map((m) => m.id));
    expect(b[0]).toMatchObject({ key: 'k1', headers: { h: '1' } });
    expect(producer.stats).toEqual({ sent: 3, primaryFailed: 0, secondaryFailed: 0 });
    await producer.close();
  });

  it("require 'both': a failing secondary rejects the send, naming it; the primary keeps its copy", async () => {
    const { old, next, oldConsumer } = await setup();
    const producer = new DualWriteProducer(await old.producer('orders'), await next.producer('orders'), {
      names: ['old', 'new'],
    });
    failing = true;
    const error = await producer.send('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DualWriteError);
    expect(error).toMatchObject({ code: 'PERMISSION_DENIED', failed: ['new'], accepted: ['old'] });
    expect((error as Error).message).toContain('dual-write failed on new (accepted by old');
    expect((await texts(oldConsumer, 1)).map((m) => m.text())).toEqual(['x']);
    expect(producer.stats.secondaryFailed).toBe(1);
    await producer.close();
  });

  it("require 'primary': a failing secondary does not fail the send; it is counted and reported", async () => {
    const { old, next, oldConsumer, newConsumer } = await setup();
    const reported: Array<[string, number]> = [];
    const producer = new DualWriteProducer(await old.producer('orders'), await next.producer('orders'), {
      require: 'primary',
      names: ['old', 'new'],
      onSecondaryError: (e, messages) => reported.push([e.code, messages.length]),
    });
    failing = true;
    await expect(producer.send(['p1', 'p2'])).resolves.toHaveLength(2);
    await producer.close(); // waits for the secondary's outcome
    expect(reported).toEqual([['PERMISSION_DENIED', 2]]);
    expect(producer.stats).toEqual({ sent: 2, primaryFailed: 0, secondaryFailed: 2 });
    expect((await texts(oldConsumer, 2)).map((m) => m.text())).toEqual(['p1', 'p2']);
    expect(await newConsumer.receive({ waitMs: 50 })).toEqual([]);
  });

  it("require 'primary': a failing primary rejects even though the secondary accepted", async () => {
    const { old, next, oldConsumer, newConsumer } = await setup();
    // The faulty broker is the primary this time.
    const producer = new DualWriteProducer(await next.producer('orders'), await old.producer('orders'), {
      require: 'primary',
      names: ['new', 'old'],
    });
    failing = true;
    const error = await producer.send('y').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DualWriteError', failed: ['new'], code: 'PERMISSION_DENIED' });
    await producer.close();
    expect((await texts(oldConsumer, 1)).map((m) => m.text())).toEqual(['y']);
    expect(await newConsumer.receive({ waitMs: 50 })).toEqual([]);
    expect(producer.stats.primaryFailed).toBe(1);
  });

  it('refuses sends after close', async () => {
    const { old, next } = await setup();
    const producer = new DualWriteProducer(await old.producer('orders'), await next.producer('orders'));
    await producer.close();
    await expect(producer.send('z')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
