import type { MessageView } from 'rocketmq-client-nodejs';
import { describe, expect, it } from 'vitest';
import { FifoHold } from './fifo-hold.js';

const view = (id: string, group = 'g', handle = `h-${id}`) =>
  ({ messageId: id, messageGroup: group, receiptHandle: handle }) as unknown as MessageView;
const ids = (views: readonly MessageView[]) => views.map((v) => v.messageId);

describe('FIFO hold', () => {
  it('releases one message per group and the next on settle', () => {
    const hold = new FifoHold();
    expect(ids(hold.admit([view('1'), view('2'), view('a', 'other'), view('3')]))).toEqual(['1', 'a']);
    expect(hold.heldCount).toBe(2);
    expect(hold.settled(view('1'))?.messageId).toBe('2');
    expect(hold.settled(view('2'))?.messageId).toBe('3');
    expect(hold.settled(view('3'))).toBeUndefined();
    expect(hold.heldCount).toBe(0);
  });

  it('lets a redelivered head through and refreshes held handles', () => {
    const hold = new FifoHold();
    hold.admit([view('1'), view('2')]);
    // 1 was nacked: it comes back, together with a redelivery of the held 2.
    expect(ids(hold.admit([view('1', 'g', 'h-1b'), view('2', 'g', 'h-2b')]))).toEqual(['1']);
    expect(hold.settled(view('1'))?.receiptHandle).toBe('h-2b');
  });

  it('passes ungrouped messages and drains held ones', () => {
    const hold = new FifoHold();
    expect(ids(hold.admit([view('x', ''), view('1'), view('2')]))).toEqual(['x', '1']);
    expect(ids(hold.drain())).toEqual(['2']);
    expect(hold.settled(view('1'))).toBeUndefined();
  });
});
