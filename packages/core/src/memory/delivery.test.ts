// A memory delivery drops its entry once settled, so a settled message that something still
// reaches (a receive() promise that waited long, in the old generation) no longer keeps the
// store's entry (delivery.ts; docs/bench-profiles.md §20.1 link (b)). These check that, and that
// settling, spread copies and attempt keys behave as before.

import { describe, expect, it } from 'vitest';
import { memoryPair, storedMessage } from '../../test-kit/memory-pair.js';
import { connect } from '../connect.js';
import type { DriverConsumer } from '../driver-entry.js';
import type { MemoryDelivery } from './delivery.js';
import { Subscription } from './subscription.js';
import type { Entry, StoredMessage } from './types.js';

let seq = 0;

const pair = (profile: 'full' | 'minimal' = 'full') =>
  memoryPair(`delivery-${process.pid}-${++seq}`, profile);

const take = async (consumer: DriverConsumer): Promise<MemoryDelivery[]> =>
  [...(await consumer.receiveBatch(10, 0))] as MemoryDelivery[];

describe('memory deliveries', () => {
  it('spread into a copy, still read and settle as the delivery (drivers spread deliveries)', async () => {
    const { consumer, send } = await pair();
    await send('a');
    const [d] = await take(consumer);
    const copy = { ...d!, deliveryAttempt: 5 };
    expect(copy).toMatchObject({ id: d!.id, native: d!.native, handle: d!.handle, lease: d!.lease });
    expect(new TextDecoder().decode(copy.body)).toBe('a');
    await consumer.ack([copy]);
    expect(copy.handle).toBeUndefined();
    expect(await take(consumer)).toEqual([]);
  });

  it('carry the entry’s number as attemptKey where the profile counts no attempts', async () => {
    const { consumer, send } = await pair('minimal');
    await send('a', 'b');
    const [a, b] = await take(consumer);
    expect(a!.deliveryAttempt).toBeUndefined();
    expect(a!.attemptKey).toMatch(/^m\d+$/);
    expect(b!.attemptKey).not.toBe(a!.attemptKey);
    await consumer.nack([a!]);
    const [again] = await take(consumer);
    expect(again!.attemptKey).toBe(a!.attemptKey);
  });

  it('drop their entry once acked; a second ack, nack or extend changes nothing', async () => {
    const { consumer, send } = await pair();
    await send('a');
    const [d] = await take(consumer);
    expect(d!.handle).toBeDefined();
    await consumer.ack([d!]);
    expect(d!.handle).toBeUndefined();
    await consumer.ack([d!]);
    await consumer.nack([d!]);
    await consumer.extend!(d!, 1_000);
    expect(await take(consumer)).toEqual([]);
    expect(new TextDecoder().decode(d!.body)).toBe('a');
  });

  it('drop their entry once nacked, and the redelivery settles with its own', async () => {
    const { consumer, send } = await pair();
    await send('a');
    const [first] = await take(consumer);
    await consumer.nack([first!]);
    expect(first!.handle).toBeUndefined();
    const [second] = await take(consumer);
    expect(second!.id).toBe(first!.id);
    expect(second!.deliveryAttempt).toBe(2);
    await consumer.ack([first!]);
    expect(second!.handle).toBeDefined();
    await consumer.ack([second!]);
    expect(await take(consumer)).toEqual([]);
  });

  it('leave a received and acked message whole through the portable layer', async () => {
    const broker = await connect(`memory://delivery-portable-${process.pid}-${++seq}`);
    const consumer = await broker.consumer('q');
    const producer = await broker.producer('q');
    await producer.send({ body: 'hello', headers: { h: '1' }, key: 'k' });
    const [m] = await consumer.receive({ waitMs: 1_000 });
    await m!.ack();
    expect((m!.delivery as MemoryDelivery).handle).toBeUndefined();
    expect(m!).toMatchObject({ key: 'k', headers: { h: '1' }, deliveryAttempt: 1, state: 'acked' });
    expect(m!.text()).toBe('hello');
    expect(m!.unwrap<StoredMessage>().id).toBe(m!.id);
    await broker.close();
  });
});

describe('memory Subscription with deliveries that drop their entry when settled', () => {
  const message = (id: string) => storedMessage(id);
  /** Settles as the memory consumer does: the delivery forgets its entry, then the ack. */
  const ack = (s: Subscription, d: { handle: Entry | undefined; lease: number }) => {
    const entry = d.handle!;
    d.handle = undefined;
    return s.ack(entry, d.lease);
  };
  const as = (handle: Entry, lease: number) => ({ handle: handle as Entry | undefined, lease });

  it('expires the unsettled delivery behind settled ones, in order', () => {
    const s = new Subscription('g', {});
    for (const id of ['a', 'b', 'c']) s.enqueue(message(id), 0, 0);
    const [a, b, c] = s.take(3, 1_000, 0, as);
    expect(ack(s, a!)).toBeDefined();
    expect(ack(s, c!)).toBeDefined();
    expect(s.take(5, 1_000, 999, as)).toEqual([]);
    expect(s.take(5, 1_000, 1_000, as).map((l) => l.handle?.message.id)).toEqual(['b']);
    expect(b!.handle?.attempts).toBe(2);
  });

  it('compacts the lease queue when settled deliveries outnumber live ones', () => {
    const s = new Subscription('g', {});
    for (let i = 0; i < 3_000; i++) s.enqueue(message(`m${i}`), 0, 0);
    const leases = s.take(3_000, 1_000, 0, as);
    for (const l of leases.slice(1)) expect(ack(s, l)).toBeDefined();
    expect(s.inFlight).toBe(1);
    expect(s.take(5, 1_000, 1_000, as).map((l) => l.handle?.message.id)).toEqual(['m0']);
  });
});
