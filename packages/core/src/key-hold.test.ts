import { describe, expect, it } from 'vitest';
import { KeyHold } from './key-hold.js';

interface Item {
  readonly id: string;
  readonly key: string;
  readonly handle: string;
}
const item = (id: string, key = 'g', handle = `h-${id}`): Item => ({ id, key, handle });
const ids = (items: readonly Item[]) => items.map((i) => i.id);
const hold = () =>
  new KeyHold<Item>(
    (i) => i.key,
    (i) => i.id,
  );

describe('KeyHold', () => {
  it('releases one message per key and the next when the head is settled', () => {
    const h = hold();
    expect(ids(h.admitAll([item('1'), item('2'), item('a', 'other'), item('3')]))).toEqual(['1', 'a']);
    expect(h.heldCount).toBe(2);
    expect(h.settled(item('1'))?.id).toBe('2');
    expect(h.settled(item('2'))?.id).toBe('3');
    expect(h.settled(item('3'))).toBeUndefined();
    expect(h.heldCount).toBe(0);
  });

  it('lets a redelivered head through and keeps the freshest copy of a held message', () => {
    const h = hold();
    h.admitAll([item('1'), item('2')]);
    // 1 was nacked: it comes back, together with a redelivery of the held 2.
    expect(ids(h.admitAll([item('1', 'g', 'h-1b'), item('2', 'g', 'h-2b')]))).toEqual(['1']);
    expect(h.settled(item('1'))?.handle).toBe('h-2b');
  });

  it('passes unordered messages, ignores settles of non-heads and drains what it holds', () => {
    const h = hold();
    expect(ids(h.admitAll([item('x', ''), item('1'), item('2')]))).toEqual(['x', '1']);
    expect(h.settled(item('2'))).toBeUndefined();
    expect(ids(h.drain())).toEqual(['2']);
    expect(h.settled(item('1'))).toBeUndefined();
  });
});
