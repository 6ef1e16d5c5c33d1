import { describe, expect, it } from 'vitest';
import { storedMessage } from '../../test-kit/memory-pair.js';
import { Subscription } from './subscription.js';

const message = storedMessage;

describe('memory Subscription', () => {
  it('expires leases in delivery order with the usual visibility', () => {
    const s = new Subscription('g', {});
    s.enqueue(message('a'), 0, 0);
    s.enqueue(message('b'), 0, 0);
    expect(s.take(1, 1_000, 0).map((l) => l.handle.message.id)).toEqual(['a']);
    expect(s.take(1, 1_000, 500).map((l) => l.handle.message.id)).toEqual(['b']);
    expect(s.take(5, 1_000, 999)).toEqual([]);
    expect(s.take(5, 1_000, 1_000).map((l) => l.handle.message.id)).toEqual(['a']);
    expect(s.take(5, 1_000, 1_500).map((l) => l.handle.message.id)).toEqual(['b']);
  });

  it('a shorter visibility from another consumer expires on time behind longer leases', () => {
    const s = new Subscription('g', {});
    s.enqueue(message('long'), 0, 0);
    s.enqueue(message('short'), 0, 0);
    s.take(1, 10_000, 0);
    const [short] = s.take(1, 100, 0);
    expect(short?.handle.message.id).toBe('short');
    expect(s.take(5, 10_000, 100).map((l) => l.handle.message.id)).toEqual(['short']);
  });

  it('extend moves a lease out of order and keeps it hidden until the new deadline', () => {
    const s = new Subscription('g', {});
    s.enqueue(message('x'), 0, 0);
    s.enqueue(message('y'), 0, 0);
    const [x] = s.take(1, 1_000, 0);
    s.take(1, 1_000, 10);
    s.extend(x!.handle, x!.lease, 5_000, 500);
    const redelivered = s.take(5, 1_000, 1_010);
    expect(redelivered.map((l) => l.handle.message.id)).toEqual(['y']);
    s.ack(redelivered[0]!.handle, redelivered[0]!.lease);
    expect(s.take(5, 1_000, 5_499)).toEqual([]);
    expect(s.take(5, 1_000, 5_500).map((l) => l.handle.message.id)).toEqual(['x']);
  });

  it('acks behind an unacked delivery are dropped from the lease queue, and that delivery still expires on time', () => {
    const s = new Subscription('g', {});
    for (let i = 0; i < 3_000; i++) s.enqueue(message(`m${i}`), 0, 0);
    const leases = s.take(3_000, 1_000, 0);
    for (const l of leases.slice(1)) expect(s.ack(l.handle, l.lease)).toBeDefined();
    expect(s.inFlight).toBe(1);
    // A repeated ack of a settled delivery changes nothing.
    expect(s.ack(leases[1]!.handle, leases[1]!.lease)).toBeUndefined();
    expect(s.take(5, 1_000, 999)).toEqual([]);
    const again = s.take(5, 1_000, 1_000);
    expect(again.map((l) => l.handle.message.id)).toEqual(['m0']);
    expect(s.ack(leases[0]!.handle, leases[0]!.lease)).toBeUndefined();
    expect(s.ack(again[0]!.handle, again[0]!.lease)).toBeDefined();
    expect(s.inFlight).toBe(0);
  });

  it('a stale ack after expiry is ignored and the redelivery can still be acked', () => {
    const s = new Subscription('g', {});
    s.enqueue(message('m'), 0, 0);
    const [first] = s.take(1, 100, 0);
    const [second] = s.take(1, 100, 100);
    expect(second?.handle.attempts).toBe(2);
    expect(s.ack(first!.handle, first!.lease)).toBeUndefined();
    expect(s.ack(second!.handle, second!.lease)).toBeDefined();
    expect(s.take(1, 100, 1_000)).toEqual([]);
    expect(s.inFlight).toBe(0);
  });

  it('holds later messages of an ordering key until the head is acked, across redelivery', () => {
    const s = new Subscription('g', {});
    for (const id of ['k1', 'k2']) s.enqueue(message(id, 'k'), 0, 0);
    s.enqueue(message('other'), 0, 0);
    const first = s.take(5, 1_000, 0);
    expect(first.map((l) => l.handle.message.id)).toEqual(['k1', 'other']);
    s.nack(first[0]!.handle, first[0]!.lease, 0, 1);
    const again = s.take(5, 1_000, 2);
    expect(again.map((l) => l.handle.message.id)).toEqual(['k1']);
    s.ack(again[0]!.handle, again[0]!.lease);
    expect(s.take(5, 1_000, 3).map((l) => l.handle.message.id)).toEqual(['k2']);
  });
});
