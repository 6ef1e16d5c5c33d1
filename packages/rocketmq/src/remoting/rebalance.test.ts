import { describe, expect, it } from 'vitest';
import { allocateAveragely } from './rebalance.js';
import type { MessageQueue } from './routes.js';

const q = (brokerName: string, queueId: number, topic = 'T'): MessageQueue => ({
  topic,
  brokerName,
  queueId,
});
const names = (qs: MessageQueue[]) => qs.map((x) => `${x.brokerName[0]}${x.queueId}`);

describe('allocateAveragely', () => {
  const all = [q('b', 3), q('a', 0), q('b', 0), q('a', 3), q('a', 1), q('b', 2), q('a', 2), q('b', 1)];

  it('splits the sheet §4.3 worked example like the Apache clients', () => {
    const members = ['c2', 'c0', 'c1'];
    expect(names(allocateAveragely('c0', members, all))).toEqual(['a0', 'a1', 'a2']);
    expect(names(allocateAveragely('c1', members, all))).toEqual(['a3', 'b0', 'b1']);
    expect(names(allocateAveragely('c2', members, all))).toEqual(['b2', 'b3']);
  });

  it('gives every queue to exactly one member for any group size', () => {
    for (let c = 1; c <= 10; c++) {
      const members = Array.from({ length: c }, (_, i) => `m${i}`);
      const got = members.flatMap((m) => names(allocateAveragely(m, members, all)));
      expect(got.sort()).toEqual(names(all).sort());
    }
  });

  it('gives nothing to a client missing from the list, and nothing from no queues', () => {
    expect(allocateAveragely('x', ['a', 'b'], all)).toEqual([]);
    expect(allocateAveragely('a', ['a'], [])).toEqual([]);
  });

  it('gives one queue each to the first members when there are more members than queues', () => {
    const two = [q('a', 0), q('a', 1)];
    const members = ['m0', 'm1', 'm2'];
    expect(members.map((m) => names(allocateAveragely(m, members, two)))).toEqual([['a0'], ['a1'], []]);
  });
});
