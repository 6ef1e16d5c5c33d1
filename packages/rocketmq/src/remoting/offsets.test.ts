import { describe, expect, it } from 'vitest';
import { QueueOffsets } from './offsets.js';

describe('QueueOffsets', () => {
  it('commits only up to the lowest offset still in flight', () => {
    const o = new QueueOffsets(10);
    expect(o.committable()).toBe(10);
    o.pulled([10, 11, 12], 13);
    expect(o.committable()).toBe(10);
    o.done(11);
    o.done(12);
    expect(o.committable()).toBe(10);
    o.done(10);
    expect(o.committable()).toBe(13);
  });

  it('reports a commit only when the offset moved', () => {
    const o = new QueueOffsets(0);
    expect(o.takeCommit()).toBeUndefined();
    o.pulled([0, 1], 2);
    expect(o.takeCommit()).toBeUndefined();
    o.done(0);
    expect(o.takeCommit()).toBe(1);
    expect(o.takeCommit()).toBeUndefined();
    o.done(1);
    expect(o.takeCommit()).toBe(2);
  });

  it('follows a moved cursor and ignores settling twice', () => {
    const o = new QueueOffsets(5);
    o.moveTo(40);
    expect(o.nextPull).toBe(40);
    expect(o.committable()).toBe(40);
    o.pulled([40], 41);
    o.done(40);
    o.done(40);
    expect(o.inFlight).toBe(0);
    expect(o.committable()).toBe(41);
  });

  it('settles out of order and commits up to the lowest still in flight', () => {
    const o = new QueueOffsets(0);
    o.pulled([0, 1, 2, 3], 4);
    o.pulled([4, 5], 6);
    o.done(3);
    o.done(1);
    o.done(5);
    expect(o.inFlight).toBe(3);
    expect(o.committable()).toBe(0);
    o.done(0);
    expect(o.committable()).toBe(2);
    o.done(2);
    expect(o.committable()).toBe(4);
    o.done(4);
    expect(o.inFlight).toBe(0);
    expect(o.committable()).toBe(6);
  });

  it('ignores offsets it never pulled, and skips gaps a tag filter leaves', () => {
    const o = new QueueOffsets(0);
    o.pulled([2, 5, 9], 10);
    o.done(3);
    o.done(11);
    expect(o.inFlight).toBe(3);
    expect(o.committable()).toBe(2);
    o.done(2);
    expect(o.committable()).toBe(5);
  });

  it('takes an offset pulled again after the cursor moved back', () => {
    const o = new QueueOffsets(0);
    o.pulled([10, 11, 12], 13);
    o.done(11);
    o.moveTo(5);
    // 11 was settled: in flight again; 12 still is (counted once); 5 goes in front.
    o.pulled([5, 11, 12], 13);
    expect(o.inFlight).toBe(4);
    expect(o.committable()).toBe(5);
    o.done(5);
    o.done(10);
    expect(o.committable()).toBe(11);
    o.done(11);
    o.done(12);
    expect(o.inFlight).toBe(0);
    expect(o.committable()).toBe(13);
  });

  it('keeps its place over many pulls with one message left behind', () => {
    const o = new QueueOffsets(0);
    let next = 0;
    // 200 pulls: the settled ones behind it are dropped along the way (past 1,024 entries).
    for (let pull = 0; pull < 200; pull++) {
      const offsets = Array.from({ length: 32 }, (_, i) => next + i);
      next += 32;
      o.pulled(offsets, next);
      for (const offset of offsets) if (offset !== 7) o.done(offset);
      expect(o.committable()).toBe(7);
      expect(o.inFlight).toBe(1);
    }
    expect(o.inFlight).toBe(1);
    o.done(7);
    expect(o.committable()).toBe(next);
    o.pulled([next], next + 1);
    expect(o.committable()).toBe(next);
  });

  it('takes a pull by its messages as by their offsets, and settles at the head or behind it', () => {
    const byOffsets = new QueueOffsets(0);
    const byMessages = new QueueOffsets(0);
    byOffsets.pulled([0, 1, 2, 3], 4);
    byMessages.pulledMessages(
      [{ queueOffset: 0 }, { queueOffset: 1 }, { queueOffset: 2 }, { queueOffset: 3 }],
      4,
    );
    for (const o of [byOffsets, byMessages]) {
      o.done(0); // the head: no search
      o.done(2); // behind the head: found by search, holds nothing back yet
      o.done(2); // again: nothing
      expect(o.inFlight).toBe(2);
      expect(o.committable()).toBe(1);
      o.done(1); // the head again, and the settled 2 behind it
      expect(o.committable()).toBe(3);
      o.done(3);
      expect(o.committable()).toBe(4);
      o.done(7); // never pulled
      expect(o.inFlight).toBe(0);
    }
  });
});
